//! The training loop: mini-batch SGD over a training set shuffled every epoch, with a full
//! evaluation of the training and test sets after each epoch.
//!
//! The loop reports through the `Observer` trait and returns the `History`; it knows nothing of
//! terminals or files. Randomness comes only from the generator passed in, so the same seed gives
//! the same numbers.

use std::time::Instant;

use ndarray::{Array2, s};
use rand::Rng;
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::data::dataset::{CLASSES, Dataset};
use crate::evaluate::{Evaluation, evaluate};
use crate::float::Float;
use crate::metrics::Accuracy;
use crate::nn::Network;
use crate::optim::Sgd;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// λ of the L2 penalty λ/2 · Σ‖W‖².
    pub l2: f64,
}

/// The numbers of one finished epoch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochRecord {
    /// 1-based.
    pub epoch: usize,
    /// Mean loss over the training set after the epoch (without the L2 penalty).
    pub train_loss: f64,
    pub train_accuracy: Accuracy,
    pub test_loss: f64,
    pub test_accuracy: Accuracy,
    /// Wall time of the epoch, training and both evaluations.
    pub seconds: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct History {
    pub epochs: Vec<EpochRecord>,
}

/// What the training loop tells the outside world as it goes.
pub trait Observer<F> {
    /// An epoch of `batches` mini-batches begins.
    fn epoch_started(&mut self, epoch: usize, batches: usize);
    /// A mini-batch was trained; `loss` is its mean loss before the update.
    fn batch_done(&mut self, loss: f64);
    /// An epoch ended with `network` in its new state. An error stops training.
    fn epoch_done(&mut self, network: &Network<F>, record: &EpochRecord) -> anyhow::Result<()>;
}

/// Trains `network` on `train` for `config.epochs` epochs, evaluating on `train` and `test` after
/// each one.
pub fn train<F: Float, R: Rng + ?Sized>(
    network: &mut Network<F>,
    train: &Dataset,
    test: &Dataset,
    config: &TrainConfig,
    rng: &mut R,
    observer: &mut dyn Observer<F>,
) -> anyhow::Result<History> {
    let batch = config.batch_size.min(train.len());
    anyhow::ensure!(batch > 0, "the training set is empty");
    let optimizer = Sgd {
        learning_rate: config.learning_rate,
    };
    let l2 = F::of(config.l2);

    let mut x = Array2::<F>::zeros((batch, train.features()));
    let mut t = Array2::<F>::zeros((batch, CLASSES));
    let mut trace = network.trace(batch);
    let mut grads = network.zero_gradients();
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut history = History::default();

    for epoch in 1..=config.epochs {
        let started = Instant::now();
        order.shuffle(rng);
        observer.epoch_started(epoch, order.len().div_ceil(batch));
        for indices in order.chunks(batch) {
            let rows = indices.len();
            let (mut xb, mut tb) = (x.slice_mut(s![..rows, ..]), t.slice_mut(s![..rows, ..]));
            train.gather(indices, xb.view_mut(), tb.view_mut());
            let logits = network.forward(xb.view(), &mut trace);
            let loss = network.loss(logits, tb.view(), l2);
            network.backward(xb.view(), &mut trace, tb.view(), l2, &mut grads);
            optimizer.step(network, &grads);
            observer.batch_done(loss.as_f64());
        }
        let on_train: Evaluation = evaluate(network, train);
        let on_test = evaluate(network, test);
        let record = EpochRecord {
            epoch,
            train_loss: on_train.loss,
            train_accuracy: on_train.accuracy(),
            test_loss: on_test.loss,
            test_accuracy: on_test.accuracy(),
            seconds: started.elapsed().as_secs_f64(),
        };
        observer.epoch_done(network, &record)?;
        history.epochs.push(record);
    }
    Ok(history)
}
