//! Gradient checks on real networks: `mlp gradcheck --model FILE` at images of the model's data
//! set, `--dataset NAME` with a fresh net of the given shape, `--params K`, `--show N`.

mod common;

use predicates::prelude::*;
use serde_json::Value;

fn gradcheck_json(args: &[&str]) -> Value {
    common::json_stdout(common::mlp().arg("gradcheck").arg("--json").args(args))
}

#[test]
fn a_trained_model_checks_at_images_of_its_data_set_with_shown_entries_and_a_sample() {
    let data = common::tiny_mnist(200, 40);
    let work = tempfile::tempdir().unwrap();
    for activation in ["sigmoid", "relu", "tanh"] {
        let model = common::train_model(
            data.path(),
            work.path(),
            &["--hidden", "12,8", "--activation", activation, "--epochs", "2"],
        );
        let model = model.to_str().unwrap();
        let dir = data.path().to_str().unwrap();
        let json = gradcheck_json(&["--model", model, "--data-dir", dir, "--samples", "4", "--show", "3"]);
        assert_eq!(json["passed"], true, "{json}");
        let row = &json["rows"][0];
        assert_eq!(row["config"]["sizes"], serde_json::json!([100, 12, 8, 10]));
        assert_eq!(row["config"]["activation"], activation);
        assert_eq!(row["config"]["samples"], 4);
        assert_eq!(row["parameters"], 100 * 12 + 12 + 12 * 8 + 8 + 8 * 10 + 10);
        let shown = row["shown"].as_array().unwrap();
        assert_eq!(shown.len(), 3);
        assert_eq!(shown[0]["parameter"], "layers.0.weight[0]");
        for entry in shown {
            let (a, n) = (entry["analytic"].as_f64().unwrap(), entry["numeric"].as_f64().unwrap());
            assert!((a - n).abs() <= 1e-6 * (a.abs() + n.abs()).max(1e-9), "{entry}");
        }

        let sampled = gradcheck_json(&["--model", model, "--data-dir", dir, "--params", "50", "--seed", "3"]);
        let row = &sampled["rows"][0];
        assert_eq!(row["parameters"], 50);
        assert_eq!(row["sampled_from"], 100 * 12 + 12 + 12 * 8 + 8 + 8 * 10 + 10);
    }
}

#[test]
fn the_table_shows_both_columns_and_names_the_images() {
    let data = common::tiny_mnist(200, 40);
    let work = tempfile::tempdir().unwrap();
    let model = common::train_model(data.path(), work.path(), &["--hidden", "6", "--epochs", "1"]);
    common::mlp()
        .arg("gradcheck")
        .arg("--model")
        .arg(&model)
        .arg("--data-dir")
        .arg(data.path())
        .args(["--show", "2", "--params", "30"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("at training images ")
                .and(predicate::str::contains("30/676"))
                .and(predicate::str::contains("backprop         numeric"))
                .and(predicate::str::contains("all 1 configurations within --tol")),
        );
}

#[test]
fn model_flags_and_bad_values_are_refused_with_their_names() {
    let data = common::tiny_mnist(50, 20);
    let work = tempfile::tempdir().unwrap();
    let model = common::train_model(data.path(), work.path(), &["--hidden", "4", "--epochs", "1"]);
    let fails = |args: &[&str], status: i32, text: &str| {
        common::mlp()
            .arg("gradcheck")
            .arg("--model")
            .arg(&model)
            .arg("--data-dir")
            .arg(data.path())
            .args(args)
            .assert()
            .code(status)
            .stderr(predicate::str::contains(text.to_owned()));
    };
    fails(&["--hidden", "5"], 2, "--hidden");
    fails(&["--activation", "relu"], 2, "--activation");
    fails(&["--samples", "51"], 2, "--samples 51: the training set has 50 images");
    fails(
        &["--dataset", "fashion-mnist"],
        2,
        "it cannot be checked on --dataset fashion-mnist",
    );
    common::mlp()
        .args(["gradcheck", "--model", "no-such-model.bin"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no-such-model.bin"));
}

/// The tutorials' check: a fresh 784-50-10 net at three real digits, every parameter.
#[test]
fn a_fresh_784_50_10_net_checks_at_three_real_digits() {
    let Some(mnist) = common::mnist_dir() else { return };
    let json = gradcheck_json(&[
        "--dataset",
        "mnist",
        "--data-dir",
        mnist.to_str().unwrap(),
        "--hidden",
        "50",
        "--samples",
        "3",
        "--no-download",
    ]);
    assert_eq!(json["passed"], true, "{json}");
    let row = &json["rows"][0];
    assert_eq!(row["config"]["sizes"], serde_json::json!([784, 50, 10]));
    assert_eq!(row["parameters"], 784 * 50 + 50 + 50 * 10 + 10);
}
