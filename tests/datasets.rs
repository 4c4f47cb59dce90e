//! `--dataset`: where each data set is looked for, and class names carried from training to eval
//! through the model file.

mod common;

use mlp::data::catalog::KnownDataset;
use predicates::prelude::*;

#[test]
fn a_fashion_model_remembers_its_data_set_and_eval_prints_clothing_names() {
    let data = common::tiny_mnist(60, 20);
    let mlp = || {
        let mut cmd = common::mlp();
        cmd.current_dir(data.path());
        cmd
    };
    mlp()
        .args([
            "train",
            "--dataset",
            "fashion-mnist",
            "--data-dir",
            ".",
            "--epochs",
            "1",
        ])
        .args(["--hidden", "8", "--batch-size", "10", "--out", "fashion.bin"])
        .assert()
        .success()
        .stdout(predicate::str::contains(" on Fashion-MNIST, "));
    // No --dataset: eval takes it from the model file.
    mlp()
        .args(["eval", "fashion.bin", "--data-dir", "."])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "fashion.bin on the Fashion-MNIST test set (20 samples)",
        ))
        .stdout(predicate::str::contains("     0 T-shirt/top "))
        .stdout(predicate::str::contains("     9 Ankle boot "));
    let json = mlp()
        .args(["eval", "fashion.bin", "--data-dir", ".", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(json["dataset"], "fashion-mnist");
    assert_eq!(json["per_class"][5]["name"], "Sandal");

    // predict names the clothes too, in its lines and its JSON.
    let clothing = KnownDataset::FashionMnist.class_names();
    assert_eq!((clothing[0], clothing[9]), ("T-shirt/top", "Ankle boot"));
    let predict = |extra: &[&str]| {
        let output = mlp()
            .args(["predict", "fashion.bin", "t10k-images-idx3-ubyte", "--top", "2"])
            .args(extra)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        output.stdout
    };
    let json: serde_json::Value = serde_json::from_slice(&predict(&["--json"])).unwrap();
    let predictions = json["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), 20);
    let text = String::from_utf8(predict(&[])).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 20, "{text}");
    for (prediction, line) in predictions.iter().zip(&lines) {
        for ranked in prediction["top"].as_array().unwrap() {
            let class = ranked["class"].as_u64().unwrap() as usize;
            assert_eq!(ranked["name"], clothing[class]);
            assert!(line.contains(&format!("{class} {} ", clothing[class])), "{line}");
        }
    }
}

#[test]
fn predict_shows_digits_as_themselves() {
    let data = common::tiny_mnist(60, 20);
    let model = common::train_model(data.path(), data.path(), &["--epochs", "1", "--hidden", "8"]);
    let output = common::mlp()
        .arg("predict")
        .arg(&model)
        .arg(data.path().join("t10k-images-idx3-ubyte"))
        .args(["--top", "1", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let top = &json["predictions"][0]["top"][0];
    assert_eq!(top["name"], top["class"].to_string());
}

#[test]
fn fashion_mnist_is_looked_for_in_its_own_folder_under_the_data_root() {
    let root = tempfile::tempdir().unwrap();
    common::mlp()
        .current_dir(root.path())
        .env("MLP_DATA_DIR", root.path())
        .args(["train", "--dataset", "fashion-mnist", "--no-download"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "Fashion-MNIST train files not found in {} (from MLP_DATA_DIR)",
            root.path().join("fashion-mnist").display()
        )));
}
