//! Every picture the CLI writes, decoded and checked against what it was drawn from: digit tiles
//! against the data set, weight tiles against the model, chart points against the history, heat-map
//! squares against the confusion matrix.

mod common;

use std::fs;
use std::path::Path;

use common::{json_stdout, mlp};
use image::RgbImage;
use mlp::cli::data_dir;
use mlp::data::catalog::KnownDataset;
use mlp::data::dataset::{Dataset, load_split};
use mlp::data::split::Split;
use mlp::history::{Curves, EpochRecord, History};
use mlp::metrics::Accuracy;
use mlp::model_file;
use mlp::nn::network::argmax_rows;
use mlp::viz::Format;
use mlp::viz::chart::{BLUE, Frame, GREEN, RED};
use mlp::viz::colormap::diverging;
use mlp::viz::grid::GridLayout;
use mlp::viz::heatmap::{self, HeatmapLayout};
use ndarray::Array2;
use predicates::prelude::*;
use serde_json::Value;

/// `common::assert_tile_shows` for grey `pixels`, `width` per row.
fn assert_tile_is_grey(picture: &RgbImage, layout: GridLayout, index: usize, pixels: &[u8], width: u32) {
    common::assert_tile_shows(picture, layout, index, pixels, (width, 1));
}

fn decode(path: &Path) -> RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{} is not a readable picture: {e}", path.display()))
        .to_rgb8()
}

fn split(dir: &Path, split: Split) -> Dataset {
    load_split(&data_dir(Some(dir), KnownDataset::Mnist), split).unwrap()
}

/// The tiles of `picture` (laid out as `layout`, `count` of them) as grey pixel rows.
fn grey_tiles(picture: &RgbImage, layout: GridLayout, count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|index| {
            let (x0, y0) = layout.tile_origin(index);
            (0..layout.tile_height)
                .flat_map(|y| (0..layout.tile_width).map(move |x| (x, y)))
                .map(|(x, y)| picture.get_pixel(x0 + x * layout.scale, y0 + y * layout.scale).0[0])
                .collect()
        })
        .collect()
}

#[test]
fn show_draws_the_chosen_digits_pixel_for_pixel() {
    let data = common::tiny_mnist(200, 50);
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("digits.png");
    mlp()
        .args(["show", "--split", "test", "--rows", "2", "--cols", "3", "--start", "7"])
        .args(["--labels", "--scale", "2", "--out"])
        .arg(&out)
        .arg("--data-dir")
        .arg(data.path())
        .assert()
        .success()
        // Tiny labels are i % 10.
        .stdout(predicate::str::contains("  7 8 9\n  0 1 2\n"));
    let picture = decode(&out);
    let layout = GridLayout::new(6, (10, 10), 3, 2, true);
    assert_eq!(picture.dimensions(), layout.size());
    let test = split(data.path(), Split::Test);
    for k in 0..6 {
        assert_tile_is_grey(&picture, layout, k, test.images().row(7 + k).as_slice().unwrap(), 10);
    }
}

#[test]
fn show_random_picks_distinct_digits_and_repeats_them_for_a_seed() {
    let data = common::tiny_mnist(200, 50);
    let work = tempfile::tempdir().unwrap();
    let draw = |name: &str, seed: &str| {
        let out = work.path().join(name);
        mlp()
            .args([
                "show", "--random", "--seed", seed, "--rows", "2", "--cols", "4", "--scale", "1", "--out",
            ])
            .arg(&out)
            .arg("--data-dir")
            .arg(data.path())
            .assert()
            .success();
        out
    };
    let first = draw("a.png", "5");
    let train = split(data.path(), Split::Train);
    let layout = GridLayout::new(8, (10, 10), 4, 1, false);
    let mut found: Vec<usize> = grey_tiles(&decode(&first), layout, 8)
        .iter()
        .map(|tile| {
            let matches: Vec<usize> = (0..train.len())
                .filter(|&i| train.images().row(i).as_slice().unwrap() == tile.as_slice())
                .collect();
            assert_eq!(matches.len(), 1, "each tile is exactly one training digit");
            matches[0]
        })
        .collect();
    found.sort_unstable();
    found.dedup();
    assert_eq!(found.len(), 8, "no digit is shown twice");
    assert_eq!(fs::read(&first).unwrap(), fs::read(draw("b.png", "5")).unwrap());
    assert_ne!(fs::read(&first).unwrap(), fs::read(draw("c.png", "6")).unwrap());
}

#[test]
fn show_draws_real_mnist_digits_with_their_labels() {
    let Some(mnist) = common::mnist_dir() else { return };
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("digits.png");
    let assert = mlp()
        .args([
            "show", "--rows", "3", "--cols", "4", "--start", "1000", "--labels", "--out",
        ])
        .arg(&out)
        .arg("--data-dir")
        .arg(&mnist)
        .assert()
        .success();
    let train = split(&mnist, Split::Train);
    let labels: Vec<String> = (1000..1012).map(|i| train.labels()[i].to_string()).collect();
    let expected = labels
        .chunks(4)
        .map(|row| format!("  {}\n", row.join(" ")))
        .collect::<String>();
    assert.stdout(predicate::str::contains(expected));
    let picture = decode(&out);
    let layout = GridLayout::new(12, (28, 28), 4, 3, true);
    assert_eq!(picture.dimensions(), layout.size());
    for k in 0..12 {
        assert_tile_is_grey(
            &picture,
            layout,
            k,
            train.images().row(1000 + k).as_slice().unwrap(),
            28,
        );
    }
}

#[test]
fn pictures_with_a_wrong_name_or_place_fail_before_any_work() {
    let work = tempfile::tempdir().unwrap();
    mlp()
        .current_dir(work.path())
        .args(["show", "--out", "digits.jpg", "--data-dir", "/nonexistent"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--out digits.jpg: this picture is written as PNG",
        ));
    mlp()
        .args([
            "show",
            "--out",
            "/nonexistent-dir/digits.png",
            "--data-dir",
            "/nonexistent",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--out /nonexistent-dir/digits.png: /nonexistent-dir is not an existing directory",
        ));
    mlp()
        .current_dir(work.path())
        .args(["plot", "history.csv", "--out", "curves.pdf"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("name the file .png or .svg"));
    mlp()
        .args(["show", "--scale", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--scale"));
}

#[test]
fn weights_draws_each_first_layer_unit_on_its_own_scale() {
    let data = common::tiny_mnist(100, 20);
    let work = tempfile::tempdir().unwrap();
    let model = common::train_model(data.path(), work.path(), &["--hidden", "6", "--epochs", "1"]);
    let out = work.path().join("weights.png");
    mlp()
        .arg("weights")
        .arg(&model)
        .args(["--cols", "4", "--scale", "2", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("6 of 6 first-layer units"));
    let picture = decode(&out);
    let layout = GridLayout::new(6, (10, 10), 4, 2, false);
    assert_eq!(picture.dimensions(), layout.size());
    let weight = &model_file::load(&model).unwrap().network.layers[0].weight;
    for unit in 0..6 {
        let column = weight.column(unit);
        let largest = column.iter().fold(0.0f32, |m, w| m.max(w.abs()));
        let (x0, y0) = layout.tile_origin(unit);
        for (i, &w) in column.iter().enumerate() {
            let (x, y) = (i as u32 % 10, i as u32 / 10);
            let expected = diverging(f64::from(w) / f64::from(largest));
            assert_eq!(
                picture.get_pixel(x0 + 2 * x + 1, y0 + 2 * y + 1).0,
                expected,
                "unit {unit}, pixel {i}"
            );
        }
    }
    mlp()
        .arg("weights")
        .arg(&model)
        .args(["--units", "7", "--out"])
        .arg(work.path().join("w.png"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--units 7: the first layer of"));
}

/// Asserts that every point of `series` appears on `picture` in `colour`, where `frame` puts it
/// (within a pixel either way, for rounding).
fn assert_points_drawn(picture: &RgbImage, frame: &Frame, series: &[(f64, f64)], colour: [u8; 3]) {
    for &point in series {
        let (x, y) = frame.pixel(point);
        let near = (-1..=1)
            .flat_map(|dy| (-1..=1).map(move |dx| (dx, dy)))
            .any(|(dx, dy)| {
                let (px, py) = ((x.round() as i64 + dx) as u32, (y.round() as i64 + dy) as u32);
                picture.get_pixel(px, py).0 == colour
            });
        assert!(
            near,
            "point {point:?} at pixel ({x:.1}, {y:.1}) is not drawn in {colour:?}"
        );
    }
}

const EPOCHS: [f64; 5] = [1.0, 2.0, 3.0, 4.0, 5.0];
const TRAIN_ACC: [f64; 5] = [0.80, 0.90, 0.95, 0.97, 0.98];
const VAL_ACC: [f64; 5] = [0.78, 0.87, 0.91, 0.93, 0.945];
const TEST_ACC: [f64; 5] = [0.76, 0.85, 0.89, 0.91, 0.92];
const TRAIN_LOSS: [f64; 5] = [0.70, 0.40, 0.25, 0.18, 0.12];
const TEST_LOSS: [f64; 5] = [0.80, 0.50, 0.38, 0.33, 0.30];

/// A history CSV as `mlp train --history` writes it, accuracies multiplied by `accuracy_unit`.
fn history_csv(path: &Path, accuracy_unit: f64) {
    let mut text = "epoch,lr,train_loss,train_acc,val_acc,test_acc,test_loss,seconds\n".to_owned();
    for i in 0..5 {
        text += &format!(
            "{},0.1,{},{},{},{},{},2.5\n",
            EPOCHS[i],
            TRAIN_LOSS[i],
            TRAIN_ACC[i] * accuracy_unit,
            VAL_ACC[i] * accuracy_unit,
            TEST_ACC[i] * accuracy_unit,
            TEST_LOSS[i]
        );
    }
    fs::write(path, text).unwrap();
}

fn points(ys: &[f64], scale: f64) -> Vec<(f64, f64)> {
    EPOCHS.iter().zip(ys).map(|(&e, &y)| (e, y * scale)).collect()
}

#[test]
fn plot_draws_each_epoch_of_a_history_csv_where_its_axes_put_it() {
    let work = tempfile::tempdir().unwrap();
    let csv = work.path().join("history.csv");
    history_csv(&csv, 1.0);
    let out = work.path().join("curves.png");
    mlp()
        .arg("plot")
        .arg(&csv)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("5 epochs of train, validation, test"));
    let picture = decode(&out);
    assert_eq!(picture.dimensions(), (1040, 420));

    let (bytes, frames) = Curves::from_csv(&csv).unwrap().render(Format::Png).unwrap();
    assert_eq!(bytes, fs::read(&out).unwrap(), "the CLI draws what the library draws");
    let [accuracy, loss] = &frames[..] else {
        panic!("two panels: {frames:?}")
    };
    assert!(
        accuracy.y.start < 76.0 && accuracy.y.end > 98.0,
        "accuracy axis in percent: {accuracy:?}"
    );
    assert_points_drawn(&picture, accuracy, &points(&TRAIN_ACC, 100.0), BLUE);
    assert_points_drawn(&picture, accuracy, &points(&VAL_ACC, 100.0), GREEN);
    assert_points_drawn(&picture, accuracy, &points(&TEST_ACC, 100.0), RED);
    assert_points_drawn(&picture, loss, &points(&TRAIN_LOSS, 1.0), BLUE);
    assert_points_drawn(&picture, loss, &points(&TEST_LOSS, 1.0), RED);
    assert!(
        loss.px.0 > accuracy.px.1,
        "the loss panel is right of the accuracy panel"
    );

    // The same history in percent gives the same picture.
    let in_percent = work.path().join("percent.csv");
    history_csv(&in_percent, 100.0);
    let out_percent = work.path().join("percent.png");
    mlp()
        .arg("plot")
        .arg(&in_percent)
        .arg("--out")
        .arg(&out_percent)
        .assert()
        .success();
    assert_eq!(fs::read(&out_percent).unwrap(), bytes);
}

#[test]
fn plot_writes_svg_with_the_points_in_place() {
    let work = tempfile::tempdir().unwrap();
    let csv = work.path().join("history.csv");
    history_csv(&csv, 1.0);
    let out = work.path().join("curves.svg");
    mlp().arg("plot").arg(&csv).arg("--out").arg(&out).assert().success();
    let svg = fs::read_to_string(&out).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
        "{}",
        &svg[..80]
    );
    assert!(svg.contains(r#"width="1040""#) && svg.contains(r#"height="420""#));
    let (_, frames) = Curves::from_csv(&csv).unwrap().render(Format::Svg).unwrap();
    let circles: Vec<(f64, f64, String)> = svg
        .split("<circle ")
        .skip(1)
        .map(|element| {
            let attribute = |name: &str| {
                let start = element.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
                element[start..].split('"').next().unwrap().to_owned()
            };
            let x = element.strip_prefix("cx=\"").unwrap().split('"').next().unwrap();
            (x.parse().unwrap(), attribute("cy").parse().unwrap(), attribute("fill"))
        })
        .collect();
    for (frame, ys, scale, fill) in [
        (&frames[0], &TRAIN_ACC, 100.0, "#1F77B4"),
        (&frames[0], &TEST_ACC, 100.0, "#D62728"),
        (&frames[1], &TEST_LOSS, 1.0, "#D62728"),
    ] {
        for point in points(ys, scale) {
            let (x, y) = frame.pixel(point);
            let found = circles
                .iter()
                .any(|(cx, cy, f)| f == fill && (cx - x).abs() <= 1.0 && (cy - y).abs() <= 1.0);
            assert!(found, "no {fill} circle at ({x:.1}, {y:.1}) for {point:?}");
        }
    }
}

#[test]
fn plot_names_the_line_and_column_of_a_bad_history() {
    let work = tempfile::tempdir().unwrap();
    let csv = work.path().join("h.csv");
    let out = work.path().join("c.png");
    for (text, message) in [
        (
            "epoch,train_acc\n1,0.5\n2,x\n",
            "h.csv line 3, column 2 (train_acc): `x` is not a finite number",
        ),
        (
            "epoch,train_acc\n1,0.5\n2\n",
            "h.csv: line 3: 1 cells where the first row has 2",
        ),
        ("step,train_acc\n1,0.5\n", "no `epoch` column"),
    ] {
        fs::write(&csv, text).unwrap();
        mlp()
            .arg("plot")
            .arg(&csv)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(3)
            .stderr(predicate::str::contains(message));
    }
    assert!(!out.exists());
}

/// The history in `mlp train --json` output.
fn history_of(train: &Value) -> History {
    let accuracy = |v: &Value| Accuracy {
        correct: v["correct"].as_u64().unwrap(),
        total: v["total"].as_u64().unwrap(),
    };
    let epochs = train["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| EpochRecord {
            epoch: r["epoch"].as_u64().unwrap() as usize,
            lr: r["lr"].as_f64().unwrap(),
            val_loss: None,
            val_accuracy: None,
            train_loss: r["train_loss"].as_f64(),
            train_accuracy: Some(accuracy(&r["train_accuracy"])),
            test_loss: r["test_loss"].as_f64(),
            test_accuracy: Some(accuracy(&r["test_accuracy"])),
            steps: r["steps"].as_u64().unwrap() as usize,
            seconds: 0.0,
            train_seconds: 0.0,
            eval_seconds: 0.0,
        })
        .collect();
    History { epochs }
}

#[test]
fn train_plot_draws_the_run_s_own_history() {
    let data = common::tiny_mnist(200, 60);
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("curves.png");
    let settings = [
        "--hidden",
        "8",
        "--epochs",
        "4",
        "--batch-size",
        "10",
        "--lr",
        "0.3",
        "--json",
    ];
    let train = json_stdout(
        common::train(data.path(), &work.path().join("m.bin"), &settings)
            .arg("--plot")
            .arg(&out),
    );
    let history = history_of(&train);
    assert_eq!(history.epochs.len(), 4);
    let picture = decode(&out);
    let (_, frames) = Curves::from_history(&history).render(Format::Png).unwrap();
    let percent = |a: Option<Accuracy>| 100.0 * a.expect("measured every epoch").fraction();
    let series = |pick: &dyn Fn(&EpochRecord) -> f64| -> Vec<(f64, f64)> {
        history.epochs.iter().map(|r| (r.epoch as f64, pick(r))).collect()
    };
    // Test points are drawn last, so they show wherever the two curves meet.
    assert_points_drawn(&picture, &frames[0], &series(&|r| percent(r.test_accuracy)), RED);
    assert_points_drawn(&picture, &frames[1], &series(&|r| r.test_loss.unwrap()), RED);
    let train_accuracy = series(&|r| percent(r.train_accuracy));
    let apart: Vec<(f64, f64)> = train_accuracy
        .iter()
        .zip(&history.epochs)
        .filter(|(_, r)| (percent(r.train_accuracy) - percent(r.test_accuracy)).abs() > 1.0)
        .map(|(p, _)| *p)
        .collect();
    assert_points_drawn(&picture, &frames[0], &apart, BLUE);
}

#[test]
fn eval_draws_the_misclassified_digits_and_the_confusion_heat_map() {
    const CLASSES: usize = 10;
    let data = common::tiny_mnist(100, 40);
    let work = tempfile::tempdir().unwrap();
    // Barely trained, so that it makes mistakes.
    let model = common::train_model(
        data.path(),
        work.path(),
        &["--hidden", "4", "--epochs", "1", "--lr", "0.05"],
    );
    let (errors, confusion) = (work.path().join("errors.png"), work.path().join("confusion.png"));
    let eval = json_stdout(
        common::eval(&model, data.path())
            .args(["--json", "--max-errors", "12", "--errors"])
            .arg(&errors)
            .arg("--confusion")
            .arg(&confusion),
    );

    let counts: Vec<Vec<u64>> = eval["confusion_matrix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect())
        .collect();
    let heat = decode(&confusion);
    let layout = HeatmapLayout::new(CLASSES);
    assert_eq!(heat.dimensions(), layout.size());
    let largest = heatmap::largest_confusion(&counts);
    for truth in 0..CLASSES {
        for predicted in 0..CLASSES {
            let (x, y) = layout.cell_origin(truth, predicted);
            let expected = heatmap::cell_colour(&counts, truth, predicted, largest);
            assert_eq!(
                heat.get_pixel(x + 1, y + 1).0,
                expected,
                "square ({truth}, {predicted})"
            );
        }
    }

    // The misclassified digits, worked out here from the model itself.
    let test = split(data.path(), Split::Test);
    let network = model_file::load(&model).unwrap().network;
    let all: Vec<usize> = (0..test.len()).collect();
    let mut x = Array2::<f32>::zeros((test.len(), test.features()));
    let mut t = Array2::<f32>::zeros((test.len(), CLASSES));
    test.gather(&all, x.view_mut(), t.view_mut());
    let wrong: Vec<usize> = argmax_rows(network.predict(x.view()).view())
        .enumerate()
        .filter(|&(i, p)| p != usize::from(test.labels()[i]))
        .map(|(i, _)| i)
        .collect();
    let misclassified: u64 = (0..CLASSES)
        .flat_map(|t| (0..CLASSES).filter(move |&p| p != t).map(move |p| (t, p)))
        .map(|(t, p)| counts[t][p])
        .sum();
    assert_eq!(wrong.len() as u64, misclassified);
    assert!(
        wrong.len() > 12,
        "the barely trained model should miss more than 12 of 40, missed {}",
        wrong.len()
    );
    let picture = decode(&errors);
    let layout = GridLayout::new(12, (10, 10), 10, 3, true);
    assert_eq!(picture.dimensions(), layout.size());
    for (k, &i) in wrong.iter().take(12).enumerate() {
        assert_tile_is_grey(&picture, layout, k, test.images().row(i).as_slice().unwrap(), 10);
    }
    // Whole files only: no temporary files are left beside them.
    let names: Vec<String> = fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with(".mlp-")), "{names:?}");
}
