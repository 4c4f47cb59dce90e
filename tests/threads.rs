//! `--threads`: training with several threads is reproducible bit for bit, and so is evaluation.
//!
//! The net is wide enough (64 x 100 · 100 x 512 and up) that every large product is cut into pieces
//! computed on different threads, so the test exercises the parallel path, not just one thread.

mod common;

use std::fs;

use mlp::evaluate::{Evaluation, evaluate};
use mlp::nn::network::argmax_rows;
use mlp::nn::{Activation, Init, Loss, Network};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn train(data: &std::path::Path, out: &std::path::Path, threads: &str) -> Vec<u8> {
    common::train(data, out, &["--quiet", "--hidden", "512,256", "--activation", "relu"])
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
fn measuring_in_line_gives_the_model_and_history_of_measuring_beside() {
    let data = common::tiny_mnist(640, 200);
    let work = tempfile::tempdir().unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out = work.path().join(name);
        let args = [
            &["--epochs", "3", "--batch-size", "64", "--seed", "5", "--threads", "2"],
            extra,
        ]
        .concat();
        let report = common::train_json(data.path(), &out, &args);
        let measured_beside = report["epochs_measured_beside"].clone();
        (
            fs::read(&out).unwrap(),
            common::history_without_times(&report),
            measured_beside,
        )
    };
    let (beside, beside_history, beside_count) = run("beside.bin", &[]);
    let (in_line, in_line_history, in_line_count) = run("in-line.bin", &["--measure-in-line"]);
    assert!(beside == in_line, "--measure-in-line saved a different model");
    assert_eq!(beside_history, in_line_history);
    assert_eq!(beside_history.as_array().map(Vec::len), Some(3), "{beside_history}");
    // The report says which epochs overlapped training: all but the last, which has no next one.
    assert_eq!(beside_count, 2);
    assert_eq!(in_line_count, 0);
}

#[test]
fn zero_threads_is_a_usage_error() {
    common::mlp()
        .args(["train", "--threads", "0"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--threads"));
}

/// Evaluation's blocks of 1000 (4,500 digits: four and a half), on any thread count, give what one
/// forward pass over the whole set gives.
#[test]
fn blocks_on_any_thread_count_give_the_whole_batch_forward() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let network = Network::<f32>::new(
        &[784, 256, 256, 10],
        Activation::Relu,
        Loss::CrossEntropy,
        Init::default_for(Activation::Relu),
        &mut rng,
    );
    let data = common::random_mnist(4500, common::MNIST_NONZERO, &mut rng);

    // The whole data set in one forward pass, gathered dense.
    let all: Vec<usize> = (0..data.len()).collect();
    let mut x = Array2::zeros((data.len(), data.features()));
    let mut t = Array2::zeros((data.len(), data.classes().len()));
    data.gather(&all, x.view_mut(), t.view_mut());
    let mut trace = network.trace(data.len());
    let logits = network.forward(x.view(), &mut trace);
    let loss = f64::from(network.loss.total(logits, t.view())) / data.len() as f64;
    let predictions: Vec<usize> = argmax_rows(logits).collect();

    let evaluations: Vec<Evaluation> = [1, 2, 3]
        .into_iter()
        .map(|threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| evaluate(&network, &data))
        })
        .collect();
    for (threads, evaluation) in [1, 2, 3].into_iter().zip(&evaluations) {
        assert_eq!(evaluation.predictions, predictions, "{threads} threads");
        assert!(
            (evaluation.loss - loss).abs() <= 1e-5 * loss,
            "{threads} threads: {} against {loss}",
            evaluation.loss
        );
        assert_eq!(
            evaluation.confusion.accuracy().correct,
            predictions
                .iter()
                .zip(data.labels())
                .filter(|&(&p, &l)| p == usize::from(l))
                .count() as u64
        );
    }
    assert_eq!(evaluations[0], evaluations[1]);
    assert_eq!(evaluations[0], evaluations[2]);
}
