//! `--threads`: training with several threads is reproducible bit for bit.
//!
//! The net is wide enough (64 x 100 · 100 x 512 and up) that every large product is cut into pieces
//! computed on different threads, so the test exercises the parallel path, not just one thread.

mod common;

use std::fs;

use assert_cmd::Command;

fn train(data: &std::path::Path, out: &std::path::Path, threads: &str) -> Vec<u8> {
    Command::cargo_bin("mlp")
        .unwrap()
        .env_remove("MLP_DATA_DIR")
        .args(["train", "--quiet", "--hidden", "512,256", "--activation", "relu"])
        .args([
            "--epochs",
            "2",
            "--batch-size",
            "64",
            "--seed",
            "11",
            "--threads",
            threads,
        ])
        .arg("--out")
        .arg(out)
        .arg("--data-dir")
        .arg(data)
        .assert()
        .success()
        .stdout("");
    fs::read(out).unwrap()
}

#[test]
fn the_same_seed_and_thread_count_train_the_same_model_bytes() {
    let data = common::tiny_mnist(640, 200);
    let work = tempfile::tempdir().unwrap();
    let first = train(data.path(), &work.path().join("a.bin"), "2");
    let second = train(data.path(), &work.path().join("b.bin"), "2");
    assert!(
        first == second,
        "two runs with --seed 11 --threads 2 saved different models"
    );
    // Each element of a product is summed by one thread in a fixed order, so even the thread
    // count does not change the result.
    let single = train(data.path(), &work.path().join("c.bin"), "1");
    assert!(first == single, "--threads 1 and --threads 2 saved different models");
}

#[test]
fn zero_threads_is_a_usage_error() {
    Command::cargo_bin("mlp")
        .unwrap()
        .args(["train", "--threads", "0"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--threads"));
}
