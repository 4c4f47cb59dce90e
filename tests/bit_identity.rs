//! The numbers a run computes are pinned: short runs on real MNIST must keep giving the very same
//! weights, bit for bit, whatever the code around the numerics becomes. The digests below were
//! taken from the tree before the restructuring of issue 16 (at 5ea5a96; 1 thread gives the same
//! as 2) and must never change unless a change of numerics is intended and said so.

mod common;

use std::path::Path;

use safetensors::SafeTensors;
use sha2::{Digest, Sha256};

/// SHA-256 of a model file's layer tensors, `layers.0.weight`, `layers.0.bias`, `layers.1.weight`,
/// ..., each as its little-endian f32 bytes, in that order.
fn tensor_digest(model: &Path) -> String {
    let bytes = std::fs::read(model).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut hasher = Sha256::new();
    let mut layer = 0;
    while let Ok(weight) = file.tensor(&format!("layers.{layer}.weight")) {
        hasher.update(weight.data());
        hasher.update(file.tensor(&format!("layers.{layer}.bias")).unwrap().data());
        layer += 1;
    }
    assert!(layer >= 2, "{} has layer tensors", model.display());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Trains with `args` on real MNIST and returns the digest of the model's tensors.
fn digest_of_run(data: &Path, args: &[&str]) -> String {
    let work = tempfile::tempdir().unwrap();
    let model = work.path().join("model.bin");
    common::mlp()
        .args(["train", "--quiet", "--threads", "2", "--out"])
        .arg(&model)
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .assert()
        .success();
    tensor_digest(&model)
}

#[test]
fn the_classic_recipe_gives_the_same_weights_bit_for_bit() {
    let Some(data) = common::mnist_dir() else { return };
    assert_eq!(
        digest_of_run(&data, &["--steps", "300"]),
        "bece85f6611dd42317249af83eec12ef2b28de402b36cfa1ad2c7109bb3660b7",
        "784-100-10 sigmoid, sgd 0.5, batch 100, 300 steps, seed 1"
    );
}

#[test]
fn a_relu_adam_dropout_shift_run_gives_the_same_weights_bit_for_bit() {
    let Some(data) = common::mnist_dir() else { return };
    let args = [
        "--hidden",
        "64,32",
        "--activation",
        "relu",
        "--optimizer",
        "adam",
        "--dropout",
        "0.2",
        "--augment",
        "shift=2",
        "--schedule",
        "cosine",
        "--val",
        "1000",
        "--steps",
        "200",
        "--seed",
        "7",
    ];
    assert_eq!(
        digest_of_run(&data, &args),
        "37393a96cecdb6973731256dd0e07d586af2a5ecc50178ab18cdd8bfbe73d213",
        "784-64-32-10 relu, adam, dropout 0.2, shift 2, cosine, 1000 held out, 200 steps, seed 7"
    );
}

#[test]
fn an_input_dropout_standard_scaling_momentum_run_gives_the_same_weights_bit_for_bit() {
    // Dense batches all the way: standard scaling moves 0, and input dropout needs the pixels dense.
    let Some(data) = common::mnist_dir() else { return };
    let args = [
        "--hidden",
        "32",
        "--activation",
        "tanh",
        "--optimizer",
        "momentum",
        "--l2",
        "1e-4",
        "--input-dropout",
        "0.1",
        "--scaling",
        "standard",
        "--schedule",
        "step",
        "--lr-step",
        "1",
        "--steps",
        "100",
        "--seed",
        "3",
    ];
    assert_eq!(
        digest_of_run(&data, &args),
        "bc11c05a4534fe8a30be0fb6006fad7c1791febc543cfcaea199f4c0d5af2aa4",
        "784-32-10 tanh, momentum, l2 1e-4, input dropout 0.1, standard scaling, 100 steps, seed 3"
    );
}
