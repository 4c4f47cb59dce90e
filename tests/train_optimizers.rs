//! `mlp train` with each optimizer and schedule on a tiny made-up data set, and the messages for
//! flags that do not belong together.

mod common;

use predicates::str::contains;

fn train(dir: &std::path::Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    let settings = [
        "--hidden",
        "16",
        "--epochs",
        "3",
        "--batch-size",
        "20",
        "--json",
        "--quiet",
    ];
    common::train(dir, &dir.join("model.bin"), &settings)
        .args(extra)
        .assert()
}

fn final_accuracy(output: &[u8]) -> f64 {
    let json: serde_json::Value = serde_json::from_slice(output).expect("one JSON object");
    json["final_test_accuracy"].as_f64().expect("final_test_accuracy")
}

#[test]
fn every_optimizer_and_schedule_learns_the_tiny_set() {
    let data = common::tiny_mnist(400, 100);
    let runs: [&[&str]; 6] = [
        &["--optimizer", "sgd", "--lr", "0.5"],
        &[
            "--optimizer",
            "momentum",
            "--schedule",
            "step",
            "--lr-step",
            "2",
            "--lr-gamma",
            "0.5",
        ],
        &["--optimizer", "nesterov", "--momentum", "0.8", "--warmup", "0.5"],
        &["--optimizer", "adam", "--lr", "0.01", "--schedule", "cosine"],
        &[
            "--optimizer",
            "adamw",
            "--lr",
            "0.01",
            "--weight-decay",
            "0.05",
            "--beta2",
            "0.99",
        ],
        &[
            "--optimizer",
            "adam",
            "--lr",
            "0.01",
            "--schedule",
            "cosine",
            "--lr-min",
            "0.001",
            "--warmup",
            "1",
        ],
    ];
    for extra in runs {
        let output = train(data.path(), extra).success().get_output().stdout.clone();
        let accuracy = final_accuracy(&output);
        assert!(accuracy > 0.9, "{extra:?}: test accuracy {accuracy}");
    }
}

#[test]
fn flags_of_another_optimizer_or_schedule_are_refused_by_name() {
    let data = common::tiny_mnist(40, 10);
    let cases: [(&[&str], &str); 6] = [
        (
            &["--momentum", "0.9"],
            "--momentum applies only to --optimizer momentum or nesterov",
        ),
        (
            &["--optimizer", "momentum", "--beta1", "0.9"],
            "--beta1 applies only to --optimizer adam or adamw",
        ),
        (
            &["--optimizer", "adam", "--weight-decay", "0.1"],
            "--weight-decay applies only to --optimizer adamw",
        ),
        (&["--schedule", "step"], "--schedule step needs --lr-step EPOCHS"),
        (
            &["--lr-step", "3"],
            "--lr-step and --lr-gamma apply only to --schedule step",
        ),
        (&["--lr-min", "0.1"], "--lr-min applies only to --schedule cosine"),
    ];
    for (extra, message) in cases {
        train(data.path(), extra).failure().stderr(contains(message));
    }
    train(data.path(), &["--momentum", "1.5"])
        .failure()
        .stderr(contains("--momentum"));
}
