//! Black-box tests of bad command lines and bad input: each checks the exit status (see
//! src/cli/exit.rs) and that the message names the flag or file and what is wrong.

mod common;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

const USAGE: i32 = 2;
const DATA: i32 = 3;
const DIVERGED: i32 = 4;

/// `mlp` run in `dir`, with no data directory or mirror from the environment.
fn mlp(dir: &Path) -> Command {
    let mut cmd = common::mlp();
    cmd.current_dir(dir);
    cmd
}

/// `mlp train` on the tiny data set in `dir` with `args`, plus small settings for the flags `args`
/// leaves out.
fn train(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = mlp(dir);
    cmd.arg("train").args(args);
    for (flag, value) in [
        ("--data-dir", "."),
        ("--epochs", "1"),
        ("--hidden", "8"),
        ("--batch-size", "10"),
    ] {
        if !args.contains(&flag) {
            cmd.args([flag, value]);
        }
    }
    cmd
}

/// Runs `mlp train` with `args` on a tiny data set and expects a usage error whose message says `says`.
fn train_rejects(args: &[&str], says: &str) {
    let data = common::tiny_mnist(60, 20);
    train_rejects_in(data.path(), args, says);
}

/// Like `train_rejects` in `dir`; also checks that no training started.
fn train_rejects_in(dir: &Path, args: &[&str], says: &str) {
    train(dir, args)
        .assert()
        .code(USAGE)
        .stderr(predicate::str::contains(says))
        .stdout(predicate::str::contains("epoch").not());
}

#[test]
fn non_positive_or_non_finite_learning_rates_are_rejected() {
    for lr in ["0", "-1", "nan", "inf", "-0.5"] {
        train_rejects(
            &["--lr", lr],
            &format!("invalid value '{lr}' for '--lr <LR>': must be a finite number greater than 0"),
        );
    }
    train_rejects(
        &["--lr", "fast"],
        "invalid value 'fast' for '--lr <LR>': `fast` is not a number",
    );
}

#[test]
fn zero_or_negative_batch_sizes_and_epochs_are_rejected() {
    train_rejects(
        &["--batch-size", "0"],
        "invalid value '0' for '--batch-size <BATCH_SIZE>': must be at least 1",
    );
    train_rejects(
        &["--batch-size", "-5"],
        "invalid value '-5' for '--batch-size <BATCH_SIZE>': `-5` is not a whole number",
    );
    train_rejects(
        &["--epochs", "0"],
        "invalid value '0' for '--epochs <EPOCHS>': must be at least 1",
    );
}

#[test]
fn empty_or_zero_layer_sizes_are_rejected() {
    train_rejects(
        &["--hidden", "0"],
        "invalid value '0' for '--hidden <HIDDEN>': must be at least 1",
    );
    train_rejects(
        &["--hidden", "100,0"],
        "invalid value '0' for '--hidden <HIDDEN>': must be at least 1",
    );
    for empty in ["", "100,,10", "100,"] {
        train_rejects(
            &["--hidden", empty],
            "for '--hidden <HIDDEN>': a number is missing (nothing given, or nothing between two commas)",
        );
    }
}

#[test]
fn a_batch_larger_than_the_data_set_is_rejected() {
    train_rejects(
        &["--batch-size", "61"],
        "--batch-size 61 is larger than the training set (60 samples)",
    );
}

#[test]
fn unknown_names_are_rejected_with_the_possible_values() {
    train_rejects(
        &["--activation", "swish"],
        "invalid value 'swish' for '--activation <ACTIVATION>'\n  [possible values: sigmoid, tanh, relu, leaky-relu, identity]",
    );
    train_rejects(
        &["--loss", "hinge"],
        "invalid value 'hinge' for '--loss <LOSS>'\n  [possible values: cross-entropy, bce, mse]",
    );
    train_rejects(
        &["--dataset", "cifar10"],
        "invalid value 'cifar10' for '--dataset <DATASET>'\n  [possible values: mnist, fashion-mnist, kmnist, k49, \
         emnist-digits, emnist-letters, emnist-balanced, emnist-byclass, emnist-bymerge, emnist-mnist]",
    );
    train_rejects(&["--init", "zeros"], "invalid value 'zeros' for '--init <INIT>'");
    train_rejects(
        &["--optimizer", "adagrad"],
        "invalid value 'adagrad' for '--optimizer <OPTIMIZER>'",
    );
    train_rejects(
        &["--schedule", "linear"],
        "invalid value 'linear' for '--schedule <SCHEDULE>'",
    );
    train_rejects(
        &["--scaling", "minmax"],
        "invalid value 'minmax' for '--scaling <SCALING>'",
    );
    train_rejects(
        &["--augment", "blur=1"],
        "unknown transform `blur` (known: shift, rotate, scale, elastic, elastic-sigma, flip)",
    );
    train_rejects(&["--optimiser", "sgd"], "unexpected argument '--optimiser' found");
}

#[test]
fn other_bad_numbers_and_contradictions_are_rejected() {
    train_rejects(
        &["--l2", "-0.1"],
        "invalid value '-0.1' for '--l2 <L2>': must be a finite number of 0 or more",
    );
    train_rejects(
        &["--seed", "-1"],
        "invalid value '-1' for '--seed <SEED>': `-1` is not a whole number from 0 to",
    );
    train_rejects(&["--init-std", "0"], "invalid value '0' for '--init-std <INIT_STD>'");
    train_rejects(
        &["--label-smoothing", "1"],
        "invalid value '1' for '--label-smoothing <LABEL_SMOOTHING>': must be at least 0 and less than 1",
    );
    train_rejects(
        &["--ema", "1"],
        "invalid value '1' for '--ema <DECAY>': must be at least 0 and less than 1",
    );
    train_rejects(&["--init-std", "0.1"], "--init-std applies only to --init normal");
    train_rejects(
        &["--output-activation", "tanh"],
        "--output-activation applies only to --loss mse",
    );
}

#[test]
fn unwritable_output_paths_are_rejected_before_training() {
    let data = common::tiny_mnist(60, 20);
    fs::write(data.path().join("a-file"), b"").unwrap();
    train_rejects_in(
        data.path(),
        &["--out", "a-file/model.bin"],
        "--out a-file/model.bin: a-file is not an existing directory",
    );
    train_rejects_in(
        data.path(),
        &["--out", "missing/model.bin"],
        "--out missing/model.bin: missing is not an existing directory",
    );
    train_rejects_in(data.path(), &["--out", "."], "--out . is a directory; give a file name");
}

/// A directory that takes no new files even for root (who may write into a read-only one).
#[cfg(target_os = "linux")]
#[test]
fn a_directory_that_takes_no_files_is_rejected_before_training() {
    let data = common::tiny_mnist(60, 20);
    for flag in ["--out", "--history", "--plot"] {
        train_rejects_in(
            data.path(),
            &[flag, "/proc/mlp-out.png"],
            &format!("{flag} /proc/mlp-out.png: cannot create files in /proc"),
        );
    }
}

#[test]
fn unwritable_history_and_plot_paths_are_rejected_before_training() {
    let data = common::tiny_mnist(60, 20);
    let dir = data.path();
    train_rejects_in(
        dir,
        &["--history", "missing/history.csv"],
        "--history missing/history.csv: missing is not an existing directory",
    );
    train_rejects_in(dir, &["--history", "."], "--history . is a directory; give a file name");
    train_rejects_in(
        dir,
        &["--plot", "missing/curves.png"],
        "--plot missing/curves.png: missing is not an existing directory",
    );
    train_rejects_in(
        dir,
        &["--plot", "curves.gif"],
        "--plot curves.gif: name the file .png or .svg",
    );
    assert!(!dir.join("model.bin").exists(), "a rejected run saved a model");
}

/// Runs `mlp args` in `dir` and expects a usage error whose message says `says`.
fn rejects(dir: &Path, args: &[&str], says: &str) {
    mlp(dir)
        .args(args)
        .assert()
        .code(USAGE)
        .stderr(predicate::str::contains(says));
}

#[test]
fn every_command_checks_its_output_path_before_working() {
    let data = common::tiny_mnist(60, 20);
    let dir = data.path();
    common::train_model(dir, dir, &["--epochs", "1", "--hidden", "8"]);
    let missing = "missing is not an existing directory";
    for args in [
        &["eval", "model.bin", "--data-dir", ".", "--errors", "missing/e.png"][..],
        &["eval", "model.bin", "--data-dir", ".", "--confusion", "missing/c.png"],
        &["show", "--data-dir", ".", "--out", "missing/d.png"],
        &["weights", "model.bin", "--out", "missing/w.png"],
        &["plot", "history.csv", "--out", "missing/c.png"],
        &[
            "predict",
            "model.bin",
            "t10k-images-idx3-ubyte",
            "--show",
            "missing/s.png",
        ],
        &["fit", "--expr", "x", "--plot", "missing/f.png"],
    ] {
        rejects(dir, args, missing);
    }
    rejects(
        dir,
        &["eval", "model.bin", "--data-dir", ".", "--confusion", "c.svg"],
        "--confusion c.svg: this picture is written as PNG; name the file .png",
    );
    fs::create_dir(dir.join("w.png")).unwrap();
    rejects(
        dir,
        &["weights", "model.bin", "--out", "w.png"],
        "--out w.png is a directory; give a file name",
    );
}

#[test]
fn zero_counts_are_rejected_in_every_command() {
    let data = common::tiny_mnist(60, 20);
    let dir = data.path();
    common::train_model(dir, dir, &["--epochs", "1", "--hidden", "8"]);
    for (args, flag) in [
        (
            &["eval", "model.bin", "--data-dir", ".", "--max-errors", "0"][..],
            "--max-errors <MAX_ERRORS>",
        ),
        (
            &["eval", "model.bin", "--data-dir", ".", "--threads", "0"],
            "--threads <THREADS>",
        ),
        (&["show", "--data-dir", ".", "--rows", "0"], "--rows <ROWS>"),
        (&["weights", "model.bin", "--units", "0"], "--units <UNITS>"),
        (
            &["predict", "model.bin", "t10k-images-idx3-ubyte", "--top", "0"],
            "--top <TOP>",
        ),
        (&["fit", "--expr", "x", "--epochs", "0"], "--epochs <EPOCHS>"),
    ] {
        rejects(
            dir,
            args,
            &format!("invalid value '0' for '{flag}': must be at least 1"),
        );
    }
    rejects(
        dir,
        &["weights", "model.bin", "--units", "-1"],
        "invalid value '-1' for '--units <UNITS>': `-1` is not a whole number",
    );
    rejects(
        dir,
        &["predict", "model.bin", "t10k-images-idx3-ubyte", "--top", "11"],
        "--top 11: model.bin has 10 classes",
    );
}

#[test]
fn fit_rejects_bad_layer_sizes_batches_and_learning_rates() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    for hidden in ["", "10,,5", "0"] {
        mlp(dir)
            .args(["fit", "--expr", "x", "--hidden", hidden])
            .assert()
            .code(USAGE)
            .stderr(predicate::str::contains("for '--hidden <HIDDEN>'"));
    }
    rejects(
        dir,
        &["fit", "--expr", "x", "--batch-size", "42"],
        "--batch-size 42 is larger than the data (41 points)",
    );
    rejects(
        dir,
        &["fit", "--toy", "xor", "--batch-size", "5"],
        "--batch-size 5 is larger than the data (4 points)",
    );
    rejects(
        dir,
        &["fit", "--expr", "x", "--lr", "-1"],
        "invalid value '-1' for '--lr <LR>': must be a finite number greater than 0",
    );
    rejects(dir, &["fit", "--toy", "nand"], "invalid value 'nand' for '--toy <TOY>'");
}

#[test]
fn download_rejects_bad_timeouts_retries_mirrors_and_names() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    rejects(
        dir,
        &["download", "--timeout", "0"],
        "invalid value '0' for '--timeout <SECONDS>': must be a finite number greater than 0",
    );
    rejects(
        dir,
        &["download", "--retries", "11"],
        "invalid value '11' for '--retries <N>'",
    );
    rejects(
        dir,
        &["download", "--mirror", "ftp.example.org"],
        "--mirror `ftp.example.org` (or MLP_MIRROR) is not an http:// or https:// address",
    );
    rejects(
        dir,
        &["download", "--dataset", "cifar10"],
        "invalid value 'cifar10' for '--dataset <DATASET>'",
    );
    assert_eq!(fs::read_dir(dir).unwrap().count(), 0, "a rejected download wrote files");
}

#[test]
fn gradcheck_rejects_bad_layer_sizes_and_a_stray_output_activation() {
    let dir = tempfile::tempdir().unwrap();
    rejects(
        dir.path(),
        &["gradcheck", "--hidden", "3,,2"],
        "for '--hidden <HIDDEN>': a number is missing (nothing given, or nothing between two commas)",
    );
    rejects(
        dir.path(),
        &["gradcheck", "--hidden", "0"],
        "invalid value '0' for '--hidden <HIDDEN>': must be at least 1",
    );
    for args in [
        &["gradcheck", "--output-activation", "tanh"][..],
        &["gradcheck", "--loss", "bce", "--output-activation", "tanh"],
    ] {
        rejects(dir.path(), args, "--output-activation applies only to --loss mse");
    }
}

#[test]
fn gradcheck_rejects_bad_steps_and_tolerances() {
    let dir = tempfile::tempdir().unwrap();
    mlp(dir.path())
        .args(["gradcheck", "--eps", "0"])
        .assert()
        .code(USAGE)
        .stderr(predicate::str::contains("invalid value '0' for '--eps <EPS>'"));
    mlp(dir.path())
        .args(["gradcheck", "--tol", "-1"])
        .assert()
        .code(USAGE)
        .stderr(predicate::str::contains("invalid value '-1' for '--tol <TOL>'"));
}

#[test]
fn eval_refuses_a_data_set_other_than_the_models() {
    let data = common::tiny_mnist(60, 20);
    mlp(data.path())
        .args([
            "train",
            "--data-dir",
            ".",
            "--epochs",
            "1",
            "--hidden",
            "8",
            "--batch-size",
            "10",
            "--quiet",
        ])
        .assert()
        .success();
    mlp(data.path())
        .args(["eval", "model.bin", "--data-dir", ".", "--dataset", "fashion-mnist"])
        .assert()
        .code(USAGE)
        .stderr(predicate::str::contains(
            "model.bin was trained on MNIST, so its outputs mean the digits 0-9; it cannot be evaluated on --dataset fashion-mnist",
        ));
}

#[test]
fn a_corrupt_or_missing_data_file_is_a_data_error_naming_the_file() {
    let data = common::tiny_mnist(60, 20);
    let labels = data.path().join("t10k-labels-idx1-ubyte");
    let bytes = fs::read(&labels).unwrap();
    fs::write(&labels, &bytes[..bytes.len() - 3]).unwrap();
    train(data.path(), &[]).assert().code(DATA)
        .stderr(predicate::str::contains(
            "t10k-labels-idx1-ubyte: truncated: dimensions [20] of unsigned byte (u8) need 20 bytes of data, but only 17 are there",
        ));
}

#[test]
fn a_missing_or_corrupt_model_file_is_a_data_error() {
    let data = common::tiny_mnist(60, 20);
    mlp(data.path())
        .args(["eval", "absent.bin", "--data-dir", "."])
        .assert()
        .code(DATA)
        .stderr(predicate::str::starts_with(
            "error: cannot read model file absent.bin: ",
        ));
    fs::write(data.path().join("junk.bin"), b"not a model at all").unwrap();
    mlp(data.path())
        .args(["eval", "junk.bin", "--data-dir", "."])
        .assert()
        .code(DATA)
        .stderr(predicate::str::contains("junk.bin: not a model file"));
}

#[test]
fn a_checkpoint_with_impossible_settings_is_refused_not_resumed() {
    let data = common::tiny_mnist(60, 20);
    let inputs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz/model_file");
    for (file, says) in [
        (
            "checkpoint-batch-size-0.safetensors",
            "corrupt model file: checkpoint settings: batch_size must be at least 1",
        ),
        (
            "checkpoint-batches-done-past-the-epoch.safetensors",
            "corrupt model file: checkpoint: 1000 batches done of an epoch of 60 samples in batches of 10",
        ),
    ] {
        let path = data.path().join(file);
        fs::copy(inputs.join(file), &path).unwrap();
        mlp(data.path())
            .args(["train", "--data-dir", ".", "--quiet", "--resume"])
            .arg(&path)
            .assert()
            .code(DATA)
            .stderr(predicate::str::contains(says));
    }
}

#[test]
fn divergence_stops_at_once_names_epoch_and_batch_and_keeps_the_last_good_model() {
    let data = common::tiny_mnist(60, 20);
    let train = |lr: &str| {
        let mut cmd = mlp(data.path());
        cmd.args([
            "train",
            "--data-dir",
            ".",
            "--epochs",
            "2",
            "--hidden",
            "8",
            "--batch-size",
            "10",
        ])
        .args(["--lr", lr, "--quiet"]);
        cmd
    };
    train("0.5").assert().success();
    let good = fs::read(data.path().join("model.bin")).unwrap();

    train("1e38").assert().code(DIVERGED).stderr(predicate::str::contains(
        "error: training diverged in epoch 1, batch 3 of 6: the loss is inf. \
         Try a lower learning rate than 1e38, e.g. 1e37",
    ));
    assert_eq!(
        fs::read(data.path().join("model.bin")).unwrap(),
        good,
        "the saved model must stay whole"
    );
    let leftovers: Vec<_> = fs::read_dir(data.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with(".mlp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind: {leftovers:?}");
}

#[test]
fn a_failed_gradient_check_is_a_plain_failure() {
    let dir = tempfile::tempdir().unwrap();
    mlp(dir.path())
        .args(["gradcheck", "--hidden", "3", "--tol", "1e-30"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "1 of 1 configurations have a relative error above --tol",
        ));
}
