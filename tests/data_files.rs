//! `--data FILE.npz`: real MNIST written as Keras's and MedMNIST's npz layouts trains, evaluates
//! and reports exactly as from its IDX files.

mod common;

use common::formats::{images3, mnist_csv, mnist_split, write_npz};
use ndarray::{Array1, Array2};
use predicates::prelude::*;

#[test]
fn mnist_as_keras_and_medmnist_npz_trains_to_the_same_model_as_from_idx() {
    let Some(dir) = common::mnist_dir() else { return };
    let work = tempfile::tempdir().unwrap();
    let (train, train_labels) = mnist_split(&dir, "train");
    let (test, test_labels) = mnist_split(&dir, "t10k");
    let keras = work.path().join("mnist.npz");
    write_npz(&keras, false, |npz| {
        npz.add_array("x_train", &images3(&train))?;
        npz.add_array("y_train", &Array1::from(train_labels.clone()))?;
        npz.add_array("x_test", &images3(&test))?;
        npz.add_array("y_test", &Array1::from(test_labels.clone()))
    });
    // MedMNIST's layout: (N, 1) int64 labels, deflated, with a validation split.
    let medmnist = work.path().join("digitmnist.npz");
    let column = |labels: &[u8]| Array2::from_shape_fn((labels.len(), 1), |(i, _)| i64::from(labels[i]));
    write_npz(&medmnist, true, |npz| {
        npz.add_array("train_images", &images3(&train))?;
        npz.add_array("train_labels", &column(&train_labels))?;
        npz.add_array("val_images", &images3(&test.slice(ndarray::s![..10, ..]).to_owned()))?;
        npz.add_array("val_labels", &column(&test_labels[..10]))?;
        npz.add_array("test_images", &images3(&test))?;
        npz.add_array("test_labels", &column(&test_labels))
    });

    let recipe = ["--steps", "300", "--quiet"];
    let from_idx = common::train_json(&dir, &work.path().join("idx.bin"), &recipe);
    for (file, name) in [(&keras, "mnist"), (&medmnist, "digitmnist")] {
        let model = work.path().join(format!("{name}.bin"));
        let json = common::json_stdout(
            common::mlp()
                .args(["train", "--json", "--steps", "300", "--quiet", "--data"])
                .arg(file)
                .arg("--out")
                .arg(&model),
        );
        let tested =
            |report: &serde_json::Value| report["history"].as_array().unwrap().last().unwrap()["test_accuracy"].clone();
        assert_eq!(tested(&json), tested(&from_idx), "{name}: {json}");
        assert!(tested(&json)["correct"].as_u64().unwrap() > 8_500, "{name}: {json}");
        assert_eq!(
            common::history_without_times(&json),
            common::history_without_times(&from_idx),
            "{name}: the same run, epoch by epoch"
        );
        // eval reads the file the run recorded, and agrees.
        let eval = common::json_stdout(common::mlp().args(["eval", "--json"]).arg(&model));
        assert_eq!(eval["correct"], tested(&json)["correct"], "{name}: {eval}");
        common::mlp()
            .args(["info"])
            .arg(&model)
            .assert()
            .success()
            .stdout(predicate::str::contains(name));
    }
}

#[test]
fn val_alone_validates_on_the_npz_files_own_split() {
    let work = tempfile::tempdir().unwrap();
    let banded = |n: usize| -> (ndarray::Array3<u8>, Array2<i64>) {
        let labels: Vec<u32> = (0..n as u32).map(|i| i % 5).collect();
        let pixels: Vec<u8> = labels
            .iter()
            .enumerate()
            .flat_map(|(i, &l)| common::banded_image(i, l, 5, (10, 10, 1)))
            .collect();
        let images = ndarray::Array3::from_shape_vec((n, 10, 10), pixels).unwrap();
        (images, Array2::from_shape_fn((n, 1), |(i, _)| i64::from(labels[i])))
    };
    let medmnist = work.path().join("bands.npz");
    write_npz(&medmnist, true, |npz| {
        let (images, labels) = banded(300);
        npz.add_array("train_images", &images)?;
        npz.add_array("train_labels", &labels)?;
        let (images, labels) = banded(30);
        npz.add_array("val_images", &images)?;
        npz.add_array("val_labels", &labels)?;
        npz.add_array("test_images", &images)?;
        npz.add_array("test_labels", &labels)
    });
    let model = work.path().join("m.bin");
    let json = common::json_stdout(
        common::mlp()
            .args([
                "train",
                "--json",
                "--quiet",
                "--epochs",
                "2",
                "--batch-size",
                "20",
                "--patience",
                "3",
            ])
            .args(["--val", "--data"])
            .arg(&medmnist)
            .arg("--out")
            .arg(&model),
    );
    let first = &json["history"][0];
    assert_eq!(first["val_accuracy"]["total"], 30, "{json}");
    assert_eq!(first["train_accuracy"]["total"], 300, "nothing held out: {json}");
    assert_eq!(json["config"]["val"], "file");
    common::mlp()
        .arg("info")
        .arg(&model)
        .assert()
        .success()
        .stdout(predicate::str::contains("validation split of the data file"));
    // Resuming reads the same split again; a file without one is an error naming --val.
    common::mlp()
        .args(["train", "--quiet", "--epochs", "3", "--resume"])
        .arg(&model)
        .assert()
        .success();
    let keras = work.path().join("keras.npz");
    write_npz(&keras, false, |npz| {
        let (images, labels) = banded(40);
        let labels = labels.column(0).to_owned();
        npz.add_array("x_train", &images)?;
        npz.add_array("y_train", &labels)?;
        npz.add_array("x_test", &images)?;
        npz.add_array("y_test", &labels)
    });
    common::mlp()
        .args(["train", "--steps", "1", "--batch-size", "10", "--val", "--data"])
        .arg(&keras)
        .arg("--out")
        .arg(work.path().join("k.bin"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("keras.npz has none").and(predicate::str::contains("--val N")));
}

#[test]
fn a_missing_or_broken_npz_is_a_data_error_naming_it() {
    let work = tempfile::tempdir().unwrap();
    let broken = work.path().join("broken.npz");
    std::fs::write(&broken, b"not a zip at all").unwrap();
    for (path, says) in [
        (work.path().join("absent.npz"), "absent.npz"),
        (broken.clone(), "broken.npz: not an npz file"),
    ] {
        common::mlp()
            .args(["train", "--steps", "1", "--data"])
            .arg(&path)
            .arg("--out")
            .arg(work.path().join("m.bin"))
            .assert()
            .code(3)
            .stderr(predicate::str::contains(says));
    }
}

#[test]
fn mnist_as_csv_with_a_test_file_trains_to_the_same_model_as_from_idx() {
    let Some(dir) = common::mnist_dir() else { return };
    let work = tempfile::tempdir().unwrap();
    let (train, train_labels) = mnist_split(&dir, "train");
    let (test, test_labels) = mnist_split(&dir, "t10k");
    // Kaggle's train.csv has a header; the common mnist_test.csv has none.
    let train_csv = work.path().join("train.csv");
    let test_csv = work.path().join("mnist_test.csv");
    std::fs::write(&train_csv, mnist_csv(&train, &train_labels, true)).unwrap();
    std::fs::write(&test_csv, mnist_csv(&test, &test_labels, false)).unwrap();

    let recipe = ["--steps", "300", "--quiet"];
    let from_idx = common::train_json(&dir, &work.path().join("idx.bin"), &recipe);
    let model = work.path().join("csv.bin");
    let json = common::json_stdout(
        common::mlp()
            .args(["train", "--json", "--steps", "300", "--quiet", "--data"])
            .arg(&train_csv)
            .arg("--test-data")
            .arg(&test_csv)
            .arg("--out")
            .arg(&model),
    );
    assert_eq!(
        common::history_without_times(&json),
        common::history_without_times(&from_idx),
        "the same run, epoch by epoch"
    );
    assert_eq!(json["final_test_accuracy"], from_idx["final_test_accuracy"]);
    // eval finds both files again from the model's record.
    let eval = common::json_stdout(common::mlp().args(["eval", "--json"]).arg(&model));
    assert_eq!(eval["accuracy"], json["final_test_accuracy"], "{eval}");
    assert_eq!(eval["samples"], 10_000);
}

/// A made-up CSV set of `n` banded images of `rows` x `cols` in `classes` classes, with a header.
fn banded_csv(path: &std::path::Path, n: usize, classes: usize, (rows, cols): (usize, usize)) {
    let mut text = String::from("label");
    for k in 0..rows * cols {
        text += &format!(",pixel{k}");
    }
    text.push('\n');
    for i in 0..n {
        let label = (i % classes) as u32;
        let pixels = common::banded_image(i, label, classes, (rows, cols, 1));
        text += &label.to_string();
        for p in pixels {
            text += &format!(",{p}");
        }
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_csv_without_a_test_file_trains_on_validation_and_says_there_is_no_test_set() {
    let work = tempfile::tempdir().unwrap();
    let train_csv = work.path().join("shapes.csv");
    banded_csv(&train_csv, 600, 6, (12, 8));
    let model = work.path().join("m.bin");
    let history = work.path().join("history.csv");
    let output = common::mlp()
        .args([
            "train",
            "--json",
            "--hidden",
            "32",
            "--epochs",
            "4",
            "--batch-size",
            "20",
            "--val",
            "100",
        ])
        .args(["--image-size", "12x8", "--data"])
        .arg(&train_csv)
        .arg("--history")
        .arg(&history)
        .arg("--out")
        .arg(&model)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("no test set (give one with --test-data FILE)"),
        "{stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["final_test_accuracy"], serde_json::Value::Null);
    assert_eq!(json["layer_sizes"][0], 96, "12x8 images: {json}");
    let last = json["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["test_accuracy"], serde_json::Value::Null);
    assert!(last["val_accuracy"]["correct"].as_u64().unwrap() >= 90, "{last}");
    // The history's test cells are empty; the train and validation ones are not.
    let rows = std::fs::read_to_string(&history).unwrap();
    let row: Vec<&str> = rows.lines().last().unwrap().split(',').collect();
    assert_eq!((row[6], row[7]), ("", ""), "{rows}");
    assert!(!row[3].is_empty() && !row[5].is_empty(), "{rows}");

    // Evaluating the training split works; the test split is an error naming the file.
    let train_eval = common::json_stdout(common::mlp().args(["eval", "--json", "--split", "train"]).arg(&model));
    assert_eq!(train_eval["samples"], 500 + 100, "{train_eval}");
    common::mlp().args(["eval"]).arg(&model).assert().code(3).stderr(
        predicate::str::contains("shapes.csv: a CSV file holds one split").and(predicate::str::contains("--test-data")),
    );
}

#[test]
fn csv_flag_errors_name_the_flag_or_the_file() {
    let work = tempfile::tempdir().unwrap();
    let train_csv = work.path().join("wide.csv");
    banded_csv(&train_csv, 50, 5, (12, 8));
    let out = work.path().join("m.bin");
    let train = |args: &[&str]| {
        let mut cmd = common::mlp();
        cmd.args(["train", "--steps", "1", "--batch-size", "10", "--data"])
            .arg(&train_csv)
            .args(args)
            .arg("--out")
            .arg(&out);
        cmd
    };
    // 96 values a row are not a square image.
    train(&[])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("wide.csv line 2").and(predicate::str::contains("96 values")));
    train(&["--image-size", "12by8"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--image-size").and(predicate::str::contains("not an image size")));
    train(&["--image-size", "10x10"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("10x10"));
    let dir = tempfile::tempdir().unwrap();
    common::mlp()
        .args(["train", "--steps", "1", "--data"])
        .arg(dir.path())
        .arg("--test-data")
        .arg(&train_csv)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--test-data").and(predicate::str::contains("--data FILE.csv")));
    // A test file of another image size, and --test-data without --data.
    let other = work.path().join("other.csv");
    banded_csv(&other, 20, 5, (10, 10));
    train(&["--image-size", "12x8", "--test-data", other.to_str().unwrap()])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("other.csv"));
    common::mlp()
        .args(["train", "--test-data"])
        .arg(&other)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--data"));
}

#[test]
fn train_eval_thins_or_skips_the_training_set_measure_without_changing_training() {
    let data = common::tiny_mnist(400, 100);
    let work = tempfile::tempdir().unwrap();
    let run = |extra: &[&str], name: &str| {
        let mut args = common::LEARNS_THE_TINY_SET.to_vec();
        args.extend_from_slice(extra);
        common::json_stdout(&mut common::train(data.path(), &work.path().join(name), &args))
    };
    let all = run(&[], "all.bin");
    let some = run(&["--train-eval", "50"], "some.bin");
    let none = run(&["--train-eval", "0"], "none.bin");
    let epochs = |json: &serde_json::Value| json["history"].as_array().unwrap().clone();
    for (a, (s, n)) in epochs(&all).iter().zip(epochs(&some).iter().zip(&epochs(&none))) {
        assert_eq!(a["train_accuracy"]["total"], 400);
        assert_eq!(s["train_accuracy"]["total"], 50);
        assert_eq!(n["train_accuracy"], serde_json::Value::Null);
        assert_eq!(n["train_loss"], serde_json::Value::Null);
        // The same training: the same test results every epoch.
        assert_eq!(
            (&a["test_accuracy"], &a["test_loss"]),
            (&s["test_accuracy"], &s["test_loss"])
        );
        assert_eq!(
            (&a["test_accuracy"], &a["test_loss"]),
            (&n["test_accuracy"], &n["test_loss"])
        );
    }
}
