//! The Kaggle workflow: train on a digit-recognizer-style `train.csv` (labels, header, no test
//! split), predict an unlabelled `test.csv` and write `submission.csv`; and `mlp predict` on CSV
//! and npz batches.

mod common;

use common::formats::{images3, mnist_csv, mnist_split, write_npz};
use predicates::prelude::*;

/// `pixels` as CSV rows of pixels alone, under Kaggle's test.csv header `pixel0,...`.
fn unlabelled_csv(pixels: &ndarray::Array2<u8>) -> String {
    let mut text = (0..pixels.ncols())
        .map(|k| format!("pixel{k}"))
        .collect::<Vec<_>>()
        .join(",");
    text.push('\n');
    for row in pixels.rows() {
        text += &row.iter().map(u8::to_string).collect::<Vec<_>>().join(",");
        text.push('\n');
    }
    text
}

#[test]
fn train_csv_to_submission_csv_agrees_with_predicting_the_idx_images() {
    let Some(dir) = common::mnist_dir() else { return };
    let work = tempfile::tempdir().unwrap();
    let (train, train_labels) = mnist_split(&dir, "train");
    let (test, test_labels) = mnist_split(&dir, "t10k");
    let train_csv = work.path().join("train.csv");
    std::fs::write(&train_csv, mnist_csv(&train, &train_labels, true)).unwrap();
    let test_csv = work.path().join("test.csv");
    std::fs::write(&test_csv, unlabelled_csv(&test)).unwrap();

    let model = work.path().join("model.bin");
    common::mlp()
        .args(["train", "--steps", "300", "--val", "1000", "--quiet", "--data"])
        .arg(&train_csv)
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    let submission = work.path().join("submission.csv");
    common::mlp()
        .arg("predict")
        .arg(&model)
        .arg(&test_csv)
        .arg("--csv-out")
        .arg(&submission)
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote the top class of 10000 image(s)"));
    let text = std::fs::read_to_string(&submission).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("ImageId,Label"));
    let rows: Vec<(usize, usize)> = lines
        .map(|l| {
            let (id, label) = l.split_once(',').unwrap();
            (id.parse().unwrap(), label.parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 10_000);
    assert!(rows.iter().enumerate().all(|(i, &(id, _))| id == i + 1));

    // The same classes as predicting the IDX images themselves, and about as accurate as training says.
    let idx = common::json_stdout(
        common::mlp()
            .args(["predict", "--json", "--top", "1"])
            .arg(&model)
            .arg(dir.join("t10k-images-idx3-ubyte.gz")),
    );
    let from_idx: Vec<usize> = idx["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["top"][0]["class"].as_u64().unwrap() as usize)
        .collect();
    let from_csv: Vec<usize> = rows.iter().map(|&(_, label)| label).collect();
    assert_eq!(from_csv, from_idx);
    let correct = from_csv
        .iter()
        .zip(&test_labels)
        .filter(|(p, l)| **p == usize::from(**l))
        .count();
    assert!(correct > 8_500, "{correct} of 10000 right");

    // An npz of the images predicts the same.
    let npz = work.path().join("test.npz");
    write_npz(&npz, true, |npz| npz.add_array("x_test", &images3(&test)));
    let from_npz = common::json_stdout(
        common::mlp()
            .args(["predict", "--json", "--top", "1"])
            .arg(&model)
            .arg(&npz),
    );
    assert_eq!(from_npz["predictions"][9_999]["top"][0]["class"], from_idx[9_999]);
    assert_eq!(from_npz["predictions"].as_array().unwrap().len(), 10_000);
    assert_eq!(from_npz["predictions"][0]["input"], format!("{}[0]", npz.display()));
}

#[test]
fn predict_csv_errors_name_the_file_or_the_flag() {
    let data = common::tiny_mnist(200, 50);
    let work = tempfile::tempdir().unwrap();
    let model = common::train_model(data.path(), work.path(), &["--steps", "5"]);
    // The tiny set's images are 10x10: rows of 100 pixels.
    let good = work.path().join("good.csv");
    std::fs::write(&good, format!("{}\n", vec!["0"; 100].join(","))).unwrap();
    let wide = work.path().join("wide.csv");
    std::fs::write(&wide, format!("{}\n", vec!["0"; 101].join(","))).unwrap();
    let bad = work.path().join("bad.csv");
    std::fs::write(&bad, format!("{},300\n", vec!["0"; 99].join(","))).unwrap();
    let predict = || {
        let mut cmd = common::mlp();
        cmd.arg("predict").arg(&model);
        cmd
    };
    predict()
        .arg(&wide)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("wide.csv line 1").and(predicate::str::contains("101 values")));
    predict()
        .arg(&bad)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("bad.csv line 1, column 100").and(predicate::str::contains("300")));
    let nowhere = work.path().join("no/such/dir/submission.csv");
    predict()
        .arg(&good)
        .arg("--csv-out")
        .arg(&nowhere)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--csv-out"));
    assert!(!nowhere.exists());
    // An npz of images of another size.
    let npz = work.path().join("big.npz");
    write_npz(&npz, false, |npz| {
        npz.add_array("images", &ndarray::Array3::<u8>::zeros((2, 28, 28)))
    });
    predict().arg(&npz).assert().code(3).stderr(predicate::str::contains(
        "big.npz, array `images`: images of 28x28, not the 10x10",
    ));
    // The good file predicts one row.
    let out = work.path().join("submission.csv");
    predict().arg(&good).arg("--csv-out").arg(&out).assert().success();
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 2);
}
