//! `--dataset`: where each data set is looked for, and class names carried from training to eval
//! through the model file.

mod common;

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
