//! Data sets of any number of classes and colour images, read with `--data DIR`: the class count
//! comes from the labels, the model file records the classes and their names, and `eval`,
//! `predict`, `show`, `weights` and `info` follow them; a class without training images is
//! warned about; a model file of version 2 still loads.

mod common;

use std::path::Path;

use common::{json_stdout, mlp, write_banded_split, write_tiny_split};
use image::RgbImage;
use mlp::data::catalog::DatasetId;
use mlp::data::classes::Classes;
use mlp::data::dataset::{Dataset, load_split};
use mlp::data::split::Split;
use mlp::model_file;
use mlp::viz::grid::GridLayout;
use mlp::viz::heatmap::HeatmapLayout;
use predicates::prelude::*;
use serde_json::Value;

const U8: u8 = 0x08;
const I16: u8 = 0x0B;

/// A directory `name` in a new temporary directory, with a train and a test split of banded images
/// (`common::banded_image`) whose labels are `train` and `test`.
fn banded_set(
    name: &str,
    train: &[u32],
    test: &[u32],
    classes: usize,
    size: (usize, usize, usize),
    label_type: u8,
) -> (tempfile::TempDir, std::path::PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(name);
    std::fs::create_dir(&dir).unwrap();
    write_banded_split(&dir, "train", train, classes, size, label_type);
    write_banded_split(&dir, "t10k", test, classes, size, label_type);
    (root, dir)
}

/// Labels 0, 1, ..., classes - 1, 0, 1, ... : `n` of them.
fn cycling(n: usize, classes: usize) -> Vec<u32> {
    (0..n).map(|i| (i % classes) as u32).collect()
}

/// `mlp train` with `args` on the files in `dir`, saving the model to `out`.
fn train_on(dir: &Path, out: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = mlp();
    cmd.arg("train").args(args).arg("--data").arg(dir).arg("--out").arg(out);
    cmd
}

/// A model trained with `args` on the files in `dir`: its directory, its path and the report of
/// `mlp train --json`.
fn trained(dir: &Path, args: &[&str]) -> (tempfile::TempDir, std::path::PathBuf, Value) {
    let work = tempfile::tempdir().unwrap();
    let model = work.path().join("model.bin");
    let report = json_stdout(train_on(dir, &model, args).args(["--json", "--quiet"]));
    (work, model, report)
}

fn decode(path: &Path) -> RgbImage {
    image::open(path).unwrap().to_rgb8()
}

/// Runs `mlp` with `args`, which must succeed; its standard output.
fn stdout_of(args: &[&str], paths: &[&Path]) -> String {
    let output = mlp().args(args).args(paths).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn a_twenty_class_set_trains_evaluates_and_predicts_with_its_class_names() {
    let (_root, dir) = banded_set("bands20", &cycling(400, 20), &cycling(100, 20), 20, (20, 8, 1), U8);
    let (work, model, report) = trained(
        &dir,
        &["--hidden", "32", "--epochs", "6", "--batch-size", "20", "--lr", "1"],
    );
    assert_eq!(report["layer_sizes"], serde_json::json!([160, 32, 20]));
    assert_eq!(report["classes"].as_array().unwrap().len(), 20);
    assert_eq!(report["config"]["dataset"], serde_json::json!({"files": "bands20"}));
    assert!(
        report["final_test_accuracy"].as_f64().unwrap() > 0.9,
        "{}",
        report["final_test_accuracy"]
    );

    // No --data: eval reads the files the run recorded.
    let eval = json_stdout(mlp().arg("eval").arg(&model).arg("--json"));
    assert_eq!(
        (&eval["dataset"], &eval["classes"], &eval["samples"]),
        (&Value::from("bands20"), &Value::from(20), &Value::from(100))
    );
    let matrix = eval["confusion_matrix"].as_array().unwrap();
    assert_eq!(matrix.len(), 20);
    assert!(matrix.iter().all(|row| row.as_array().unwrap().len() == 20));
    let per_class = eval["per_class"].as_array().unwrap();
    assert_eq!(per_class.len(), 20);
    assert_eq!(
        (&per_class[17]["name"], &per_class[17]["support"]),
        (&Value::from("17"), &Value::from(5))
    );
    let text = stdout_of(&["eval"], &[&model]);
    assert!(text.contains("on the bands20 test set (100 samples)"), "{text}");
    assert!(text.contains("\n    19"), "a row for class 19:\n{text}");

    // Names given to the model's classes are what eval, predict and info print.
    let mut named = model_file::load(&model).unwrap();
    named.info.classes = Classes::named((0..20).map(|k| format!("band-{k}")).collect());
    let renamed = work.path().join("named.bin");
    model_file::save(&renamed, &named.network, &named.info).unwrap();
    assert_eq!(
        model_file::load(&renamed).unwrap().info.dataset,
        DatasetId::Files("bands20".to_owned())
    );
    let test_images = dir.join("t10k-images-idx3-ubyte");
    let predictions = json_stdout(
        mlp()
            .arg("predict")
            .arg(&renamed)
            .arg(&test_images)
            .args(["--json", "--top", "2"]),
    );
    let predictions = predictions["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), 100);
    let right = predictions
        .iter()
        .enumerate()
        .filter(|(i, p)| p["top"][0]["class"] == i % 20 && p["top"][0]["name"] == format!("band-{}", i % 20))
        .count();
    assert!(right > 90, "{right} of 100 named right");
    let lines = stdout_of(&["predict", "--top", "1"], &[&renamed, &test_images]);
    for (line, prediction) in lines.lines().zip(predictions) {
        let class = &prediction["top"][0]["class"];
        assert!(line.contains(&format!("  {class} band-{class} ")), "{line}");
    }
    let text = stdout_of(&["eval"], &[&renamed]);
    assert!(text.contains("    13 band-13 "), "{text}");
    let info = stdout_of(&["info"], &[&renamed]);
    assert!(
        info.contains("data set: bands20 (bands20), 20 classes: 0=band-0, 1=band-1, "),
        "{info}"
    );

    // A model of files is evaluated on files: --dataset is refused, naming --data.
    mlp()
        .arg("eval")
        .arg(&model)
        .args(["--dataset", "mnist"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("was trained on files (bands20)").and(predicate::str::contains("--data DIR")));
}

#[test]
fn labels_of_a_few_hundred_classes_train_and_evaluate() {
    let (_root, dir) = banded_set("many", &cycling(600, 300), &cycling(300, 300), 300, (10, 10, 1), I16);
    let (work, model, _) = trained(&dir, &["--hidden", "16", "--epochs", "1", "--batch-size", "50"]);
    let heat = work.path().join("confusion.png");
    let eval = json_stdout(mlp().arg("eval").arg(&model).args(["--json", "--confusion"]).arg(&heat));
    assert_eq!(eval["classes"], 300);
    let matrix = eval["confusion_matrix"].as_array().unwrap();
    assert_eq!((matrix.len(), matrix[299].as_array().unwrap().len()), (300, 300));
    let total: u64 = matrix
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, 300);
    assert_eq!(decode(&heat).dimensions(), HeatmapLayout::new(300).size());
    let summary = json_stdout(mlp().arg("info").arg(&model).arg("--json"));
    assert_eq!(summary["dataset"]["classes"].as_array().unwrap().len(), 300);
    assert_eq!(summary["layers"][1]["outputs"], 300);
}

#[test]
fn a_class_without_training_images_is_a_warning_not_an_error() {
    // Ten classes, but no training image of class 5 (the test set has some).
    let train: Vec<u32> = cycling(200, 10).into_iter().filter(|&l| l != 5).collect();
    let (_root, dir) = banded_set("gap", &train, &cycling(50, 10), 10, (10, 10, 1), U8);
    let work = tempfile::tempdir().unwrap();
    let output = train_on(
        &dir,
        &work.path().join("model.bin"),
        &["--hidden", "8", "--epochs", "1", "--batch-size", "10", "--json"],
    )
    .output()
    .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: class 5 has no training image; the network has an output for it all the same"),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (&report["empty_classes"], &report["layer_sizes"][2]),
        (&serde_json::json!([5]), &Value::from(10))
    );

    // Two classes missing and the largest label beyond them all: 13 classes, 3 of them empty.
    let train: Vec<u32> = cycling(200, 10).into_iter().filter(|&l| l != 2 && l != 7).collect();
    let (_root, dir) = banded_set("gaps", &train, &[12, 0, 1], 13, (13, 4, 1), U8);
    let output = train_on(
        &dir,
        &work.path().join("gaps.bin"),
        &["--hidden", "8", "--epochs", "1", "--batch-size", "10"],
    )
    .output()
    .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: 5 classes have no training image: 2, 7, 10, 11, 12;"),
        "{stderr}"
    );
}

/// `common::assert_tile_shows` for RGB `pixels`, `width` per row.
fn assert_tile_is_colour_image(picture: &RgbImage, layout: GridLayout, index: usize, pixels: &[u8], width: u32) {
    common::assert_tile_shows(picture, layout, index, pixels, (width, 3));
}

#[test]
fn a_colour_set_trains_with_augmentation_and_is_drawn_in_colour() {
    let (_root, dir) = banded_set("swatches", &cycling(300, 6), &cycling(60, 6), 6, (6, 5, 3), U8);
    let (work, model, report) = trained(
        &dir,
        &[
            "--hidden",
            "24",
            "--epochs",
            "8",
            "--batch-size",
            "10",
            "--augment",
            "shift=1",
        ],
    );
    assert_eq!(report["layer_sizes"], serde_json::json!([90, 24, 6]));
    let accuracy = report["final_test_accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.8, "{accuracy}");
    let loaded = model_file::load(&model).unwrap();
    assert_eq!((loaded.info.input.channels, loaded.info.input.size().values()), (3, 90));
    let eval = json_stdout(mlp().arg("eval").arg(&model).arg("--json"));
    assert_eq!(eval["accuracy"].as_f64().unwrap(), accuracy);
    let info = stdout_of(&["info"], &[&model]);
    assert!(info.contains("input: 6x5 pixels of 3 channels (RGB)"), "{info}");

    // show: each tile is the image's own colours.
    let test = load_split(&mlp::cli::files_dir(dir.clone(), "a test"), Split::Test).unwrap();
    let shown = work.path().join("show.png");
    stdout_of(
        &[
            "show", "--split", "test", "--rows", "2", "--cols", "3", "--scale", "2", "--labels", "--out",
        ],
        &[&shown, Path::new("--data"), &dir],
    );
    let picture = decode(&shown);
    let layout = GridLayout::new(6, (5, 6), 3, 2, true);
    assert_eq!(picture.dimensions(), layout.size());
    for index in 0..6 {
        let pixels = test.images().row(index).to_vec();
        assert_tile_is_colour_image(&picture, layout, index, &pixels, 5);
    }
    // A band of class 1 lights the green channel of its row.
    let (x0, y0) = layout.tile_origin(1);
    let [r, g, b] = picture.get_pixel(x0, y0 + 2).0;
    assert!(g >= 200 && r < 40 && b < 40, "{:?}", [r, g, b]);

    // predict --show: the IDX colour images as the network saw them.
    let seen = work.path().join("seen.png");
    let predictions = json_stdout(
        mlp()
            .arg("predict")
            .arg(&model)
            .arg(dir.join("t10k-images-idx3-ubyte"))
            .args(["--json", "--show-scale", "1", "--show"])
            .arg(&seen),
    );
    assert_eq!(predictions["predictions"].as_array().unwrap().len(), 60);
    let picture = decode(&seen);
    let layout = GridLayout::new(60, (5, 6), 10, 1, true);
    for index in [0, 13, 59] {
        assert_tile_is_colour_image(&picture, layout, index, &test.images().row(index).to_vec(), 5);
    }

    // weights: a colour tile per unit, each pixel's three weights as its red, green and blue.
    let drawn = work.path().join("weights.png");
    stdout_of(&["weights", "--cols", "6", "--scale", "1", "--out"], &[&drawn, &model]);
    let picture = decode(&drawn);
    let weight = &loaded.network.layers[0].weight;
    let layout = GridLayout::new(24, (5, 6), 6, 1, false);
    for unit in [0, 23] {
        let column = weight.column(unit);
        let largest = column.iter().fold(0.0f32, |m, w| m.max(w.abs()));
        let (x0, y0) = layout.tile_origin(unit);
        for (pixel, rgb) in column.to_vec().chunks(3).enumerate() {
            let expected: Vec<u8> = rgb
                .iter()
                .map(|&w| (127.5 * (1.0 + f64::from(w) / f64::from(largest))).round() as u8)
                .collect();
            let shown = picture.get_pixel(x0 + pixel as u32 % 5, y0 + pixel as u32 / 5).0;
            assert_eq!(shown[..], expected[..], "unit {unit}, pixel {pixel}");
        }
    }
}

#[test]
fn a_colour_model_resizes_pictures_in_colour() {
    let (_root, dir) = banded_set("swatches", &cycling(60, 6), &cycling(12, 6), 6, (6, 5, 3), U8);
    let (work, model, _) = trained(&dir, &["--hidden", "8", "--epochs", "1", "--batch-size", "10"]);
    // A 50x60 picture, all one orange: seen as a 6x5 orange image, not inverted or centred.
    let picture = work.path().join("orange.png");
    RgbImage::from_pixel(50, 60, image::Rgb([250, 120, 10]))
        .save(&picture)
        .unwrap();
    let seen = work.path().join("seen.png");
    let json = json_stdout(
        mlp()
            .arg("predict")
            .arg(&model)
            .arg(&picture)
            .args(["--json", "--show-scale", "1", "--show"])
            .arg(&seen),
    );
    assert_eq!(json["predictions"][0]["inverted"], Value::Null);
    let layout = GridLayout::new(1, (5, 6), 1, 1, true);
    assert_tile_is_colour_image(&decode(&seen), layout, 0, &[250, 120, 10].repeat(30), 5);
    // A grey IDX batch is not what a colour model reads.
    let grey = tempfile::tempdir().unwrap();
    write_tiny_split(grey.path(), "t10k", 3, 6, false);
    mlp()
        .arg("predict")
        .arg(&model)
        .arg(grey.path().join("t10k-images-idx3-ubyte"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "expected colour images (samples, rows, cols, 3)",
        ));
}

#[test]
fn data_of_ones_own_is_named_by_its_directory_and_never_downloaded() {
    let empty = tempfile::tempdir().unwrap();
    let missing = empty.path().join("mine");
    std::fs::create_dir(&missing).unwrap();
    mlp().args(["train", "--data"]).arg(&missing).assert().code(3).stderr(
        predicate::str::contains(format!(
            "mine train files not found in {} (from --data)",
            missing.display()
        ))
        .and(predicate::str::contains(
            "--data names a directory of IDX files named as MNIST's",
        ))
        .and(predicate::str::contains("downloading").not()),
    );
    mlp()
        .args(["train", "--dataset", "mnist", "--data"])
        .arg(&missing)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--data"));
}

#[test]
fn a_version_2_model_file_evaluates_resumes_and_is_written_again_as_version_3() {
    // Written by `mlp train --dataset fashion-mnist` before class names were recorded (see
    // tests/model_file.rs): 10x10 images, 10 outputs named by the catalog.
    let original = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/model-v2.safetensors");
    let data = common::tiny_mnist(200, 50);
    let work = tempfile::tempdir().unwrap();
    let model = work.path().join("model.bin");
    std::fs::copy(&original, &model).unwrap();
    let text = stdout_of(&["eval", "--data-dir"], &[data.path(), &model]);
    assert!(text.contains("on the Fashion-MNIST test set (50 samples)"), "{text}");
    assert!(text.contains("     9 Ankle boot "), "{text}");
    let info = json_stdout(mlp().arg("info").arg(&model).arg("--json"));
    assert_eq!(
        (&info["format_version"], &info["dataset"]["classes"][0]),
        (&Value::from(2), &Value::from("T-shirt/top"))
    );

    mlp()
        .args(["train", "--quiet", "--epochs", "3", "--resume"])
        .arg(&model)
        .arg("--data-dir")
        .arg(data.path())
        .assert()
        .success();
    let info = json_stdout(mlp().arg("info").arg(&model).arg("--json"));
    assert_eq!(
        (&info["format_version"], &info["state"]["epochs_done"]),
        (&Value::from(3), &Value::from(3))
    );
    let resumed = model_file::load(&model).unwrap();
    assert_eq!(
        resumed.info.classes,
        mlp::data::catalog::KnownDataset::FashionMnist.classes()
    );
    let set: Dataset = load_split(
        &mlp::cli::data_dir(Some(data.path()), mlp::data::catalog::KnownDataset::FashionMnist),
        Split::Train,
    )
    .unwrap();
    assert_eq!(set.classes(), &resumed.info.classes);
}

#[test]
fn gradcheck_checks_a_net_with_as_many_outputs_as_a_data_sets_classes() {
    let json = json_stdout(mlp().args(["gradcheck", "--classes", "20", "--hidden", "6", "--json"]));
    assert_eq!(json["passed"], true);
    assert_eq!(json["rows"][0]["config"]["sizes"], serde_json::json!([3, 6, 20]));
}
