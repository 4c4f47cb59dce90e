//! `mlp fit`: logic tables (XOR needs a hidden layer), functions from expressions and CSV files
//! fitted with the default settings, the fit's picture, and clear errors with positions.

mod common;

use std::fs;

use common::{json_stdout, mlp};
use mlp::fit::{POINTS_GREY, expr, fit_chart};
use mlp::viz::Format;
use mlp::viz::chart::RED;
use predicates::prelude::*;
use serde_json::Value;

/// `mlp fit` with `args` and --json, which must succeed.
fn fit(args: &[&str]) -> Value {
    json_stdout(mlp().arg("fit").args(args).arg("--json"))
}

fn rows_right(out: &Value) -> u64 {
    out["result"]["right"].as_u64().unwrap()
}

#[test]
fn xor_is_learned_with_a_hidden_layer_and_not_without() {
    for seed in ["1", "2", "3", "4", "5"] {
        let out = fit(&["--toy", "xor", "--seed", seed]);
        assert_eq!(out["layer_sizes"], serde_json::json!([3, 4, 1]));
        for row in out["result"]["rows"].as_array().unwrap() {
            let (target, prediction) = (row["target"].as_f64().unwrap(), row["prediction"].as_f64().unwrap());
            assert!((target - prediction).abs() < 0.2, "seed {seed}: {row}");
        }
    }
    // One layer draws one line through the plane, and no line parts XOR's corners: at most 3 of 4.
    for seed in ["1", "2", "3"] {
        let out = fit(&["--toy", "xor", "--hidden", "none", "--seed", seed]);
        assert_eq!(out["layer_sizes"], serde_json::json!([3, 1]));
        assert!(rows_right(&out) <= 3, "{out}");
    }
    // OR and AND are linearly separable: no hidden layer is needed.
    for toy in ["or", "and"] {
        assert_eq!(rows_right(&fit(&["--toy", toy, "--hidden", "none"])), 4, "{toy}");
        assert_eq!(rows_right(&fit(&["--toy", toy, "--loss", "bce"])), 4, "{toy} with bce");
    }
}

#[test]
fn the_table_is_printed_row_by_row() {
    mlp().args(["fit", "--toy", "and"]).assert().success().stdout(
        predicate::str::contains(" x1  x2  bias     and  prediction")
            .and(predicate::str::is_match(r"\n  1   1     1       1 +0\.9\d+\n").unwrap())
            .and(predicate::str::contains("4 of 4 rows right")),
    );
}

#[test]
fn a_quadratic_is_fitted_with_the_default_settings() {
    let out = fit(&["--expr", "x^2 + 2*x - 3", "--range", "-7:5"]);
    let rmse = out["result"]["rmse"].as_f64().unwrap();
    // y spans -4 to 32; when written the defaults reached an rmse of 0.029.
    assert!(rmse < 0.3, "rmse {rmse}");
    let history = out["history"].as_array().unwrap();
    let first = history[0]["loss"].as_f64().unwrap();
    let last = history[history.len() - 1]["loss"].as_f64().unwrap();
    assert!(last < first / 10.0, "loss {first} then {last}");
}

#[test]
fn the_five_layer_relu_fit_of_the_quadratic_converges() {
    let out = fit(&[
        "--expr",
        "x^2 + 2*x - 3",
        "--range",
        "-7:5",
        "--step",
        "0.05",
        "--hidden",
        "100,100,100",
        "--activation",
        "relu",
        "--loss",
        "mse",
    ]);
    assert_eq!(out["layer_sizes"], serde_json::json!([1, 100, 100, 100, 1]));
    let rmse = out["result"]["rmse"].as_f64().unwrap();
    // When written: rmse 0.012.
    assert!(rmse < 0.3, "rmse {rmse}");
}

#[test]
fn points_from_a_csv_are_fitted() {
    let work = tempfile::tempdir().unwrap();
    let csv = work.path().join("points.csv");
    let mut text = "x,y\n".to_owned();
    for i in 0..60 {
        let x = f64::from(i) / 10.0;
        text += &format!("{x},{}\n", 3.0 * x - 1.0);
    }
    fs::write(&csv, text).unwrap();
    let out = fit(&["--csv", csv.to_str().unwrap()]);
    assert!(out["problem"].as_str().unwrap().contains("(60 points)"));
    let rmse = out["result"]["rmse"].as_f64().unwrap();
    assert!(rmse < 0.1, "a line from -1 to 16.7, rmse {rmse}");
}

#[test]
fn the_fit_picture_shows_the_points_and_the_network_s_curve() {
    let work = tempfile::tempdir().unwrap();
    let picture = work.path().join("fit.png");
    let out = fit(&[
        "--expr",
        "sin(3*x)",
        "--range",
        "-2:2",
        "--step",
        "0.1",
        "--plot",
        picture.to_str().unwrap(),
    ]);
    let curve: Vec<(f64, f64)> = out["result"]["curve"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    let points = expr::sample("sin(3*x)", (-2.0, 2.0), 0.1).unwrap();
    assert_eq!(points.len(), 41);
    let (bytes, frames) = fit_chart(&points, &curve, Format::Png).unwrap();
    assert_eq!(
        fs::read(&picture).unwrap(),
        bytes,
        "the CLI draws what the library draws"
    );
    let image = image::load_from_memory(&bytes).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), (720, 480));
    let frame = &frames[0];
    let near = |(x, y): (f64, f64), colour: [u8; 3], reach: i64| {
        let (px, py) = frame.pixel((x, y));
        (-reach..=reach).any(|dy| {
            (-reach..=reach).any(|dx| {
                let (qx, qy) = ((px.round() as i64 + dx) as u32, (py.round() as i64 + dy) as u32);
                image.get_pixel(qx, qy).0 == colour
            })
        })
    };
    for &point in curve.iter().step_by(7) {
        assert!(near(point, RED, 1), "the curve at {point:?}");
    }
    // The dots are drawn first, then the red line over them: each still shows grey around it, and
    // a good fit runs its line through them.
    for &point in &points {
        assert!(near(point, POINTS_GREY, 3), "the point {point:?}");
        assert!(near(point, RED, 3), "the fit misses the point {point:?}");
    }
}

#[test]
fn bad_expressions_and_files_say_where_the_problem_is() {
    mlp()
        .args(["fit", "--expr", "x^2 +* 3", "--range", "-7:5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error: --expr `x^2 +* 3`: unexpected token, column 6\n  x^2 +* 3\n       ^\n",
        ));
    mlp()
        .args(["fit", "--expr", "1/x", "--range", "-1:1", "--step", "0.5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("division by zero at x = 0"));
    let work = tempfile::tempdir().unwrap();
    let csv = work.path().join("points.csv");
    fs::write(&csv, "x,y\n1,2\n2,four\n").unwrap();
    mlp()
        .arg("fit")
        .arg("--csv")
        .arg(&csv)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "points.csv line 3, column 2 (y): `four` is not a finite number",
        ));
    let cases: [(&[&str], &str); 4] = [
        (
            &["--expr", "x", "--loss", "cross-entropy"],
            "--loss cross-entropy needs two or more classes",
        ),
        (&["--expr", "x", "--loss", "bce"], "--loss bce needs targets of 0 and 1"),
        (
            &["--toy", "xor", "--plot", "xor.png"],
            "--plot draws the fit of a function",
        ),
        (&["--expr", "x", "--range", "0:1", "--step", "1e-9"], "makes more than"),
    ];
    for (args, message) in cases {
        mlp()
            .current_dir(work.path())
            .arg("fit")
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    for (args, message) in [
        (["--expr", "x", "--range", "5:1"], "FROM must be below TO"),
        (["--expr", "x", "--range", "a:1"], "`a` in `a:1` is not a finite number"),
        (["--toy", "xor", "--hidden", "4,0"], "--hidden"),
    ] {
        mlp()
            .arg("fit")
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    mlp()
        .args(["fit", "--expr", "x", "--toy", "or"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
}
