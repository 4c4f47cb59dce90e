//! The training loop: mini-batch updates (see `optim`) at the rates of a `schedule`, over a training
//! set shuffled every epoch, with a full evaluation of the training, validation and test sets after
//! each epoch.
//!
//! Everything that changes as training goes is one `TrainState` (`state`), so a checkpoint of it
//! continues exactly: `train` picks up where the state says, shuffling an epoch only when it has
//! not begun, and a run interrupted after any batch and resumed from its state ends bit for bit as
//! an uninterrupted one. Randomness comes only from the state's generator.
//!
//! Model selection looks only at validation data: with it, the network kept is the one of the epoch
//! with the best validation accuracy (ties go to the lower validation loss), and training stops after
//! `patience` epochs without a better one. The test set is evaluated and recorded, never consulted.
//!
//! The loop reports through the `Observer` trait; it knows nothing of terminals, files or signals.
//! The step itself and an epoch of steps live in `Trainer` (`trainer`), which works on any
//! `Samples`: the MNIST loop below and the small problems of `fit` share it.
//!
//! A NaN or infinite batch loss, parameter or epoch loss stops training at once with `Diverged`,
//! before the observer sees the broken network, so the last model it saved stays the last good one.

mod config;
mod prefetch;
mod state;
mod trainer;

use std::borrow::Cow;
use std::time::Instant;

pub use config::TrainConfig;
pub use state::{Best, Learner, TrainState};
pub use trainer::{Diverged, Trainer};

use crate::data::dataset::Dataset;
use crate::evaluate::{Evaluation, evaluate};
use crate::float::Float;
use crate::history::EpochRecord;

/// Why `train` returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// All epochs ran.
    Finished,
    /// `patience` epochs passed without a better validation result.
    EarlyStopped,
    /// The observer asked to stop; the state is whole and resumes where it stopped.
    Interrupted,
}

/// The data of a run. Validation images come out of the training set; the test set, when there
/// is one, is only measured.
#[derive(Clone, Copy, Debug)]
pub struct Splits<'a> {
    pub train: &'a Dataset,
    pub validation: Option<&'a Dataset>,
    pub test: Option<&'a Dataset>,
}

/// What the training loop tells the outside world as it goes.
pub trait Observer<F> {
    /// Epoch `epoch` of `batches` mini-batches begins, or goes on after `done` of them.
    fn epoch_started(&mut self, epoch: usize, batches: usize, done: usize);
    /// A mini-batch was trained; `loss` is its mean loss before the update.
    fn batch_done(&mut self, loss: f64);
    /// Checked after every batch: whether to stop, leaving a state to resume from.
    fn should_stop(&self) -> bool {
        false
    }
    /// An epoch ended (its record is the last in `state.history`). An error stops training.
    fn epoch_done(&mut self, state: &TrainState<F>) -> anyhow::Result<()>;
}

/// Trains `state` on `data.train` until `config.epochs` epochs (or `config.steps` updates) are done,
/// early stopping says so, or the observer asks to stop; evaluates on every split after each epoch.
pub fn train<F: Float>(
    state: &mut TrainState<F>,
    data: Splits<'_>,
    config: &TrainConfig,
    observer: &mut dyn Observer<F>,
) -> anyhow::Result<Outcome> {
    let train = data.train;
    anyhow::ensure!(!train.is_empty(), "the training set is empty");
    anyhow::ensure!(
        state.order.len() == train.len(),
        "the training state orders {} samples but the training set has {}",
        state.order.len(),
        train.len()
    );
    let mut trainer = Trainer::new(&state.network, train, config);
    let train_part = measured_part(train, config.train_eval);
    let measured = Measured {
        train: train_part.as_deref(),
        validation: data.validation,
        test: data.test,
    };
    while state.epoch < config.epochs {
        let Some(batches) = batches_of_this_epoch(state, config, train.len()) else {
            break;
        };
        let started = Instant::now();
        observer.epoch_started(state.epoch + 1, batches, state.batches_done);
        run_epoch(&mut trainer, state, train, batches, observer)?;
        if state.batches_done < batches {
            state.epoch_seconds += started.elapsed().as_secs_f64();
            return Ok(Outcome::Interrupted);
        }
        let record = end_epoch(&trainer, state, measured, batches, started)?;
        state.history.epochs.push(record);
        state.epoch += 1;
        state.batches_done = 0;
        state.epoch_seconds = 0.0;
        observer.epoch_done(state)?;
        if config.patience.is_some_and(|p| state.stale_epochs >= p) {
            return Ok(Outcome::EarlyStopped);
        }
        if state.epoch < config.epochs && observer.should_stop() {
            return Ok(Outcome::Interrupted);
        }
    }
    Ok(Outcome::Finished)
}

/// How many batches the epoch after `state.epoch` has: all of an epoch over `samples`, or fewer
/// when `config.steps` ends the run in it; `None` when no update is left.
fn batches_of_this_epoch<F>(state: &TrainState<F>, config: &TrainConfig, samples: usize) -> Option<usize> {
    let per_epoch = config.batches_per_epoch(samples);
    // Updates left in the run, counting those of this epoch already done.
    let left = config
        .steps
        .map_or(usize::MAX, |s| s.saturating_sub(state.optimizer.steps as usize));
    let batches = per_epoch.min(state.batches_done.saturating_add(left));
    (batches > state.batches_done).then_some(batches)
}

/// Trains the rest of the current epoch's first `batches` batches, stopping early when the observer
/// asks to (then `state.batches_done` stays below `batches`).
fn run_epoch<F: Float>(
    trainer: &mut Trainer<F>,
    state: &mut TrainState<F>,
    train: &Dataset,
    batches: usize,
    observer: &mut dyn Observer<F>,
) -> Result<(), Diverged> {
    let TrainState {
        network,
        optimizer,
        rng,
        order,
        batches_done,
        ..
    } = state;
    let mut learner = Learner {
        network,
        optimizer,
        rng,
    };
    trainer.run_epoch(&mut learner, train, (order, batches_done), batches, |loss| {
        observer.batch_done(loss);
        !observer.should_stop()
    })
}

/// The images measured after each epoch: the training set or the part of it `--train-eval`
/// chose (none for 0), the validation and the test set when there are.
#[derive(Clone, Copy)]
struct Measured<'a> {
    train: Option<&'a Dataset>,
    validation: Option<&'a Dataset>,
    test: Option<&'a Dataset>,
}

/// The part of `train` measured after each epoch: all of it (`None`), or `n` images spread evenly
/// through it (every `len / n`-th, so a set sorted by class is measured in proportion).
fn measured_part(train: &Dataset, n: Option<usize>) -> Option<Cow<'_, Dataset>> {
    match n {
        None => Some(Cow::Borrowed(train)),
        Some(0) => None,
        Some(n) if n >= train.len() => Some(Cow::Borrowed(train)),
        Some(n) => {
            let spread: Vec<usize> = (0..n).map(|i| i * train.len() / n).collect();
            Some(Cow::Owned(train.select(&spread)))
        }
    }
}

/// The record of the epoch just trained (`batches` updates, begun at `started`): every measured
/// split evaluated, each loss checked to be finite, and the best network on validation updated.
fn end_epoch<F: Float>(
    trainer: &Trainer<F>,
    state: &mut TrainState<F>,
    data: Measured<'_>,
    batches: usize,
    started: Instant,
) -> Result<EpochRecord, Diverged> {
    let last_step = state.optimizer.steps - 1;
    let trained = Instant::now();
    let on = |split: Option<&Dataset>| split.map(|set| evaluate(&state.network, set));
    let (on_train, on_validation, on_test) = (on(data.train), on(data.validation), on(data.test));
    let losses = [on_train.as_ref(), on_validation.as_ref(), on_test.as_ref()];
    if let Some(loss) = losses.into_iter().flatten().map(|e| e.loss).find(|l| !l.is_finite()) {
        let what = format!("the evaluation loss after the epoch is {loss}");
        return Err(trainer.diverged(last_step, what));
    }
    let epoch = state.epoch + 1;
    if let Some(v) = &on_validation {
        consider_best(state, epoch, v);
    }
    Ok(EpochRecord {
        epoch,
        lr: trainer.lr_of(last_step),
        train_loss: on_train.as_ref().map(|e| e.loss),
        train_accuracy: on_train.as_ref().map(Evaluation::accuracy),
        val_loss: on_validation.as_ref().map(|v| v.loss),
        val_accuracy: on_validation.as_ref().map(Evaluation::accuracy),
        test_loss: on_test.as_ref().map(|e| e.loss),
        test_accuracy: on_test.as_ref().map(Evaluation::accuracy),
        steps: batches,
        seconds: state.epoch_seconds + started.elapsed().as_secs_f64(),
        train_seconds: state.epoch_seconds + (trained - started).as_secs_f64(),
        eval_seconds: trained.elapsed().as_secs_f64(),
    })
}

/// Keeps the network of `epoch` as the best when its validation result beats the best so far.
fn consider_best<F: Float>(state: &mut TrainState<F>, epoch: usize, validation: &Evaluation) {
    let (accuracy, loss) = (validation.accuracy(), validation.loss);
    if state.best.as_ref().is_none_or(|b| b.beaten_by(accuracy, loss)) {
        state.best = Some(Best {
            network: state.network.clone(),
            epoch,
            accuracy,
            loss,
        });
        state.stale_epochs = 0;
    } else {
        state.stale_epochs += 1;
    }
}

#[cfg(test)]
mod tests;
