//! The `mlp` binary end to end: exit codes, messages, JSON output, and real training on MNIST.

mod common;

use std::fs;
use std::path::Path;

use common::{json_stdout, mlp};
use predicates::prelude::*;

#[test]
fn help_lists_the_subcommands() {
    mlp().arg("--help").assert().success().stdout(
        predicate::str::contains("train")
            .and(predicate::str::contains("eval"))
            .and(predicate::str::contains("gradcheck")),
    );
    mlp()
        .args(["train", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--hidden"));
}

#[test]
fn bad_flag_values_are_usage_errors_naming_the_flag() {
    let cases: [(&[&str], &str); 6] = [
        (&["--lr", "-1"], "--lr"),
        (&["--lr", "fast"], "`fast` is not a number"),
        (&["--hidden", "100,0"], "--hidden"),
        (&["--batch-size", "0"], "--batch-size"),
        (
            &["--activation", "swish"],
            "possible values: sigmoid, tanh, relu, leaky-relu, identity",
        ),
        (&["--l2", "-0.1"], "--l2"),
    ];
    for (args, expected) in cases {
        mlp()
            .arg("train")
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expected));
    }
}

#[test]
fn inconsistent_flags_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    mlp()
        .current_dir(dir.path())
        .args(["train", "--init-std", "0.1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--init-std applies only to --init normal"));
    mlp()
        .current_dir(dir.path())
        .args(["train", "--output-activation", "identity"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--output-activation applies only to --loss mse",
        ));
}

#[test]
fn missing_data_says_where_it_looked_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    mlp()
        .current_dir(dir.path())
        .args(["train", "--no-download", "--data-dir"])
        .arg(&empty)
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains(empty.display().to_string())
                .and(predicate::str::contains("train-images-idx3-ubyte.gz"))
                .and(predicate::str::contains("mlp download --dataset mnist")),
        );
    assert!(!dir.path().join("model.bin").exists());

    // Without --data-dir the environment variable decides, and the message says so.
    mlp()
        .current_dir(dir.path())
        .env("MLP_DATA_DIR", &empty)
        .args(["train", "--no-download"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("from MLP_DATA_DIR"));
}

#[test]
fn an_unwritable_output_fails_before_training() {
    let data = common::tiny_mnist(50, 20);
    mlp()
        .args(["train", "--out", "/nonexistent-dir/model.bin", "--data-dir"])
        .arg(data.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--out /nonexistent-dir/model.bin"));
}

#[test]
fn train_then_eval_on_a_tiny_synthetic_set() {
    let data = common::tiny_mnist(300, 100);
    let work = tempfile::tempdir().unwrap();
    let model = work.path().join("tiny.bin");
    let train = common::train_json(
        data.path(),
        &model,
        &["--hidden", "16", "--epochs", "15", "--batch-size", "10"],
    );
    let history = train["history"].as_array().unwrap();
    assert_eq!(history.len(), 15);
    assert_eq!(history[0]["test_accuracy"]["total"], 100);
    let final_accuracy = train["final_test_accuracy"].as_f64().unwrap();
    assert!(
        final_accuracy >= 0.9,
        "the bands are easy to learn, got {final_accuracy}"
    );
    assert!(history[14]["train_loss"].as_f64().unwrap() < history[0]["train_loss"].as_f64().unwrap());

    let eval = common::eval_json(&model, data.path(), &[]);
    assert_eq!(eval["accuracy"].as_f64().unwrap(), final_accuracy);
    assert_eq!(eval["samples"], 100);
    let confusion = eval["confusion_matrix"].as_array().unwrap();
    let total: u64 = confusion
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, 100);
    assert_eq!(eval["per_class"].as_array().unwrap().len(), 10);

    let on_train = common::eval_json(&model, data.path(), &["--split", "train"]);
    assert_eq!(on_train["samples"], 300);
}

#[test]
fn the_same_seed_trains_the_same_model_bit_for_bit() {
    let data = common::tiny_mnist(120, 30);
    let work = tempfile::tempdir().unwrap();
    let train = |name: &str, seed: &str| {
        let path = work.path().join(name);
        let settings = [
            "--quiet",
            "--hidden",
            "8",
            "--epochs",
            "2",
            "--batch-size",
            "16",
            "--seed",
            seed,
        ];
        common::train(data.path(), &path, &settings)
            .assert()
            .success()
            .stdout("");
        fs::read(path).unwrap()
    };
    assert_eq!(train("a.bin", "4"), train("b.bin", "4"));
    assert_ne!(train("a.bin", "4"), train("c.bin", "5"));
}

#[test]
fn human_output_has_one_line_per_epoch() {
    let data = common::tiny_mnist(60, 20);
    let work = tempfile::tempdir().unwrap();
    let output = mlp()
        .current_dir(work.path())
        .args([
            "train",
            "--hidden",
            "8",
            "--epochs",
            "3",
            "--batch-size",
            "20",
            "--data-dir",
        ])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let epoch_lines: Vec<_> = stdout.lines().filter(|l| l.starts_with("epoch")).collect();
    assert_eq!(epoch_lines.len(), 3, "{stdout}");
    assert!(
        epoch_lines[2].contains("test acc ") && epoch_lines[2].contains("/20 ("),
        "{}",
        epoch_lines[2]
    );
    assert!(
        work.path().join("model.bin").is_file(),
        "the default --out is model.bin"
    );
}

#[test]
fn eval_rejects_a_file_that_is_not_a_model() {
    let work = tempfile::tempdir().unwrap();
    let fake = work.path().join("fake.bin");
    fs::write(&fake, [0u8; 40]).unwrap();
    mlp()
        .arg("eval")
        .arg(&fake)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("fake.bin"));
}

#[test]
fn gradcheck_passes_prints_a_table_and_fails_when_the_tolerance_is_impossible() {
    mlp()
        .arg("gradcheck")
        .assert()
        .success()
        .stdout(predicate::str::contains("worst error").and(predicate::str::contains("all 85 configurations")));

    let report = json_stdout(mlp().args(["gradcheck", "--json"]));
    assert_eq!(report["passed"], true);
    assert_eq!(report["rows"].as_array().unwrap().len(), 85);

    mlp()
        .args(["gradcheck", "--tol", "1e-30"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("have a relative error above --tol"));
}

#[test]
fn gradcheck_checks_one_configuration_from_flags() {
    let report = json_stdout(mlp().args([
        "gradcheck",
        "--hidden",
        "4,4",
        "--activation",
        "relu",
        "--loss",
        "mse",
        "--output-activation",
        "identity",
        "--l2",
        "0.1",
        "--json",
    ]));
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["config"]["sizes"], serde_json::json!([3, 4, 4, 3]));
    assert_eq!(rows[0]["config"]["loss"], "mse(identity)");
    assert_eq!(rows[0]["config"]["l2"], 0.1);
}

/// The classic recipe on real MNIST: 784-100-10 sigmoid/softmax, lr 0.5, batch 100, the default
/// epochs. The issue asks for at least 97.5% test accuracy; `mlp eval` must agree with training.
#[test]
fn the_classic_recipe_reaches_97_5_percent_on_real_mnist() {
    let Some(data) = common::mnist_dir() else { return };
    let work = tempfile::tempdir().unwrap();
    let model = work.path().join("classic.bin");
    let train = common::train_json(&data, &model, &["--hidden", "100", "--lr", "0.5"]);
    let accuracy = train["final_test_accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.975, "test accuracy {accuracy}");
    let eval = common::eval_json(&model, &data, &[]);
    assert_eq!(eval["accuracy"].as_f64().unwrap(), accuracy);
    assert_eq!(eval["samples"], 10_000);
    assert!(Path::new(&model).is_file());
}
