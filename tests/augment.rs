//! `mlp train --augment`: a net trained on transformed images still learns, the same seed gives the
//! same model, and a bad specification is refused by name.

mod common;

use predicates::prelude::*;
use predicates::str::contains;

fn train(dir: &std::path::Path, out: &str, augment: &str) -> assert_cmd::assert::Assert {
    common::train(dir, &dir.join(out), &common::LEARNS_THE_TINY_SET)
        .args(["--augment", augment])
        .assert()
}

#[test]
fn augmented_training_learns_and_is_reproducible() {
    let data = common::tiny_mnist(400, 100);
    // The tiny set shows its label as a row band, so only sub-pixel moves keep labels true.
    let augment = "rotate=3,scale=0.03,elastic=0.5,elastic-sigma=2";
    let output = train(data.path(), "a.bin", augment).success();
    let json: serde_json::Value = serde_json::from_slice(&output.get_output().stdout).unwrap();
    assert_eq!(json["config"]["augment"]["rotate"], 3.0);
    let accuracy = json["final_test_accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.9, "test accuracy {accuracy}");

    train(data.path(), "b.bin", augment).success();
    train(data.path(), "plain.bin", "none").success();
    // The files differ only in the wall times they record; the weights and optimizer state agree.
    let state = |name: &str| {
        let (model, checkpoint) = mlp::model_file::load_checkpoint(&data.path().join(name)).unwrap();
        (model.network, checkpoint.unwrap().state.optimizer)
    };
    assert_eq!(state("a.bin"), state("b.bin"));
    assert_ne!(state("a.bin").0, state("plain.bin").0);
}

#[test]
fn a_bad_augmentation_is_refused_naming_the_flag() {
    let data = common::tiny_mnist(40, 10);
    train(data.path(), "m.bin", "blur=2")
        .failure()
        .stderr(contains("--augment").and(contains("unknown transform `blur`")));
}
