//! Continuing a finished run: `mlp train --resume FILE --epochs N` (or `--steps N`) beyond the
//! run's length trains it on, and with a schedule that does not depend on the run's length it ends
//! bit for bit where a run started with N would have.

mod common;

use std::path::Path;

/// Adam with dropout, label smoothing and a learning-rate schedule that does not depend on the
/// run's length: a warm-up, then a drop every epoch.
const RECIPE: [&str; 20] = [
    "--hidden",
    "16",
    "--optimizer",
    "adam",
    "--dropout",
    "0.3",
    "--schedule",
    "step",
    "--lr-step",
    "1",
    "--lr-gamma",
    "0.7",
    "--warmup",
    "0.5",
    "--batch-size",
    "32",
    "--label-smoothing",
    "0.1",
    "--ema",
    "0.95",
];

fn model_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn a_finished_run_trained_on_to_more_epochs_ends_as_one_started_that_long() {
    let data = common::tiny_mnist(200, 60);
    let work = tempfile::tempdir().unwrap();
    let (straight, continued) = (work.path().join("straight.bin"), work.path().join("continued.bin"));
    let history = work.path().join("history.csv");
    common::train(data.path(), &straight, &["--quiet", "--epochs", "4"])
        .args(RECIPE)
        .assert()
        .success();
    common::train(data.path(), &continued, &["--quiet", "--epochs", "2"])
        .args(RECIPE)
        .arg("--history")
        .arg(&history)
        .assert()
        .success();
    let json = common::json_stdout(
        common::mlp()
            .args(["train", "--json", "--quiet", "--epochs", "4", "--resume"])
            .arg(&continued)
            .arg("--history")
            .arg(&history),
    );
    assert_eq!(json["history"].as_array().unwrap().len(), 4);
    assert_eq!(json["config"]["epochs"], 4);
    // Wall times are left out of the file: the same computation writes the same bytes.
    assert!(
        model_bytes(&straight) == model_bytes(&continued),
        "the two model files differ"
    );
    let rows = std::fs::read_to_string(&history).unwrap();
    let epochs: Vec<&str> = rows.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(epochs, ["1", "2", "3", "4"], "the history goes on in the same file");
}

#[test]
fn a_run_counted_in_steps_goes_on_in_steps_and_says_from_where() {
    // 200 samples in batches of 32 are 7 updates an epoch: 14 end on an epoch's boundary. (A run
    // whose last epoch was cut short by --steps has evaluated it as an epoch: it goes on from the
    // next one, which a run started longer would not have begun there.)
    let data = common::tiny_mnist(200, 60);
    let work = tempfile::tempdir().unwrap();
    let (straight, continued) = (work.path().join("straight.bin"), work.path().join("continued.bin"));
    common::train(data.path(), &straight, &["--quiet", "--steps", "21"])
        .args(RECIPE)
        .assert()
        .success();
    common::train(data.path(), &continued, &["--quiet", "--steps", "14"])
        .args(RECIPE)
        .assert()
        .success();
    common::mlp()
        .args(["train", "--steps", "21", "--resume"])
        .arg(&continued)
        .assert()
        .success()
        .stdout(predicates::str::contains("going on from epoch 2"));
    assert!(
        model_bytes(&straight) == model_bytes(&continued),
        "the two model files differ"
    );
}

#[test]
fn a_shorter_length_or_another_unit_is_a_usage_error() {
    let data = common::tiny_mnist(100, 30);
    let work = tempfile::tempdir().unwrap();
    let model = common::train_model(data.path(), work.path(), &["--hidden", "8", "--epochs", "3"]);
    let resume = |args: &[&str]| {
        let mut cmd = common::mlp();
        cmd.args(["train", "--quiet", "--resume"]).arg(&model).args(args);
        cmd
    };
    resume(&["--epochs", "2"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--epochs 2: the resumed run has done 3 epochs already; give more to train it on",
        ));
    resume(&["--steps", "50"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "the resumed run counts its length in epochs: train it on with --epochs N",
        ));
    let before = model_bytes(&model);
    resume(&["--epochs", "3"]).assert().success();
    assert!(
        model_bytes(&model) == before,
        "resuming a finished run at its own length changes nothing"
    );
}

#[test]
fn the_run_s_own_command_restated_with_resume_goes_on_and_a_differing_flag_is_named() {
    let data = common::tiny_mnist(200, 60);
    let work = tempfile::tempdir().unwrap();
    let (straight, continued) = (work.path().join("straight.bin"), work.path().join("continued.bin"));
    common::train(data.path(), &straight, &["--quiet", "--epochs", "3"])
        .args(RECIPE)
        .assert()
        .success();
    common::train(data.path(), &continued, &["--quiet", "--epochs", "2"])
        .args(RECIPE)
        .assert()
        .success();
    let before = model_bytes(&continued);
    let resume = ["--quiet", "--epochs", "3", "--resume", continued.to_str().unwrap()];
    // The user's command again, one flag changed and --resume added: refused before any work.
    for (flag, value, recorded) in [
        ("--lr-gamma", "0.5", "with --lr-gamma 0.7"),
        ("--hidden", "16,8", "with --hidden 16"),
        ("--momentum", "0.9", "without --momentum"),
        ("--label-smoothing", "0.2", "with --label-smoothing 0.1"),
        ("--ema", "0.9", "with --ema 0.95"),
    ] {
        let mut args: Vec<&str> = RECIPE.to_vec();
        match args.iter().position(|&a| a == flag) {
            Some(at) => args[at + 1] = value,
            None => args.extend([flag, value]),
        }
        common::train(data.path(), &continued, &resume)
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(format!(
                "{flag} {value}: the run in {} was started {recorded}",
                continued.display()
            )));
    }
    common::train(data.path(), &continued, &resume)
        .args(["--dataset", "fashion-mnist"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--dataset fashion-mnist: the run in"));
    assert!(
        model_bytes(&continued) == before,
        "a refused resume leaves the file as it was"
    );
    // The same command restated, with defaults spelled out in other words, goes on as without them.
    common::train(data.path(), &continued, &resume)
        .args(RECIPE)
        .args(["--init", "auto", "--lr", "0.0010", "--seed", "1", "--dataset", "mnist"])
        .assert()
        .success();
    assert!(
        model_bytes(&straight) == model_bytes(&continued),
        "the two model files differ"
    );
}
