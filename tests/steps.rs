//! `--steps N`: a run of N updates in all, as the textbook recipe counts its 10,000 iterations.

mod common;

#[test]
fn steps_end_the_last_epoch_early_and_evaluate_it() {
    // 120 samples in batches of 16: 8 updates per epoch, so 20 updates are 8 + 8 + 4.
    let data = common::tiny_mnist(120, 30);
    let work = tempfile::tempdir().unwrap();
    let json = common::train_json(
        data.path(),
        &work.path().join("m.bin"),
        &["--hidden", "8", "--batch-size", "16", "--steps", "20"],
    );
    let steps: Vec<u64> = json["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["steps"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, [8, 8, 4]);
    assert_eq!(json["config"]["epochs"], 3);
    assert_eq!(json["history"][2]["test_accuracy"]["total"], 30);
    for key in ["load_seconds", "train_seconds", "eval_seconds"] {
        assert!(json[key].as_f64().unwrap() >= 0.0, "{key} missing");
    }
}

#[test]
fn steps_and_epochs_together_are_a_usage_error() {
    common::mlp()
        .args(["train", "--steps", "10", "--epochs", "2"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--steps"));
}
