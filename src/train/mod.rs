//! The training loop: mini-batch updates (see `optim`) at the rates of a `schedule`, over a training
//! set shuffled every epoch, with a full evaluation of the training, validation and test sets after
//! each epoch.
//!
//! With two threads or more, an epoch is measured while the next one trains (`epoch_end::Pending`):
//! the state as the epoch left it goes to another thread of the pool, and when the evaluations come
//! back, between two batches, the epoch is concluded into that state, which the observer sees as it
//! would have at the epoch's end, and into the state training has taken further. Early stopping
//! then returns the epoch's state; an interruption or a divergence concludes the epoch first. What
//! the observer sees and where the run ends are the same as with the measurement in line.
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

mod average;
mod config;
mod epoch_end;
mod prefetch;
mod state;
mod trainer;

use std::time::Instant;

pub use config::TrainConfig;
pub use state::{Best, Learner, TrainState};
pub use trainer::{Diverged, Trainer};

use epoch_end::{EpochEnd, Measured, Measurement, Pending, measured_part};

use crate::data::dataset::Dataset;
use crate::float::Float;

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
    /// Whether an epoch may be measured while the next one trains (with two threads or more):
    /// `epoch_done` then comes a few batches into the next epoch, after its `epoch_started`.
    fn measure_beside(&self) -> bool {
        true
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
    // A run with `--ema` averages from the weights it starts with; a checkpoint brings its average.
    if config.ema.is_none() {
        state.average = None;
    } else if state.average.is_none() {
        state.average = Some(state.network.clone());
    }
    let mut trainer = Trainer::new(&state.network, train, config);
    let train_part = measured_part(train, config.train_eval);
    let measured = Measured {
        train: train_part.as_deref(),
        validation: data.validation,
        test: data.test,
    };
    // With a thread to spare, each epoch is measured while the next one trains.
    let beside = observer.measure_beside() && rayon::current_num_threads() > 1 && measured.any();
    rayon::in_place_scope(|scope| {
        let mut pending: Option<Pending<F>> = None;
        while state.epoch < config.epochs {
            let Some(batches) = batches_of_this_epoch(state, config, train.len()) else {
                break;
            };
            let started = Instant::now();
            observer.epoch_started(state.epoch + 1, batches, state.batches_done);
            let trained = loop {
                let trained = run_epoch(&mut trainer, state, train, batches, observer, &mut pending);
                let paused =
                    trained.is_ok() && state.batches_done < batches && pending.as_mut().is_some_and(Pending::is_ready);
                if !paused {
                    break trained;
                }
                // The previous epoch's measurement is done: conclude it, then train on.
                if conclude_beside(pending.take(), state, observer, config)? {
                    return Ok(Outcome::EarlyStopped);
                }
                if observer.should_stop() {
                    break trained;
                }
            };
            // Whatever ended this epoch, the one before is concluded first, as it was before this
            // one began.
            if conclude_beside(pending.take(), state, observer, config)? {
                return Ok(Outcome::EarlyStopped);
            }
            trained?;
            if state.batches_done < batches {
                state.epoch_seconds += started.elapsed().as_secs_f64();
                return Ok(Outcome::Interrupted);
            }
            let end = count_epoch_done(&trainer, state, batches, started);
            let goes_on = state.epoch < config.epochs && batches_of_this_epoch(state, config, train.len()).is_some();
            if beside && goes_on && !observer.should_stop() {
                pending = Some(Pending::spawn(scope, end, state.clone(), measured));
                continue;
            }
            end.conclude(Measurement::of(state.measured(), measured), state)?;
            observer.epoch_done(state)?;
            if config.patience.is_some_and(|p| state.stale_epochs >= p) {
                return Ok(Outcome::EarlyStopped);
            }
            if state.epoch < config.epochs && observer.should_stop() {
                return Ok(Outcome::Interrupted);
            }
        }
        Ok(Outcome::Finished)
    })
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

/// Counts the epoch just trained (`batches` updates, begun at `started`) as done in `state`, and
/// returns what its record needs besides the measurement.
fn count_epoch_done<F: Float>(
    trainer: &Trainer<F>,
    state: &mut TrainState<F>,
    batches: usize,
    started: Instant,
) -> EpochEnd {
    let last_step = state.optimizer.steps - 1;
    let end = EpochEnd {
        epoch: state.epoch + 1,
        steps: batches,
        lr: trainer.lr_of(last_step),
        train_seconds: state.epoch_seconds + started.elapsed().as_secs_f64(),
        last_batch: trainer.batch_of(last_step),
    };
    state.epoch += 1;
    state.batches_done = 0;
    state.epoch_seconds = 0.0;
    end
}

/// Trains the rest of the current epoch's first `batches` batches, stopping early when the observer
/// asks to or when the `pending` measurement of the previous epoch is done (then
/// `state.batches_done` stays below `batches`).
fn run_epoch<F: Float>(
    trainer: &mut Trainer<F>,
    state: &mut TrainState<F>,
    train: &Dataset,
    batches: usize,
    observer: &mut dyn Observer<F>,
    pending: &mut Option<Pending<F>>,
) -> Result<(), Diverged> {
    let TrainState {
        network,
        average,
        optimizer,
        rng,
        order,
        batches_done,
        ..
    } = state;
    let mut learner = Learner {
        network,
        average: average.as_mut(),
        optimizer,
        rng,
    };
    trainer.run_epoch(&mut learner, train, (order, batches_done), batches, |loss| {
        observer.batch_done(loss);
        !observer.should_stop() && !pending.as_mut().is_some_and(Pending::is_ready)
    })
}

/// Concludes the epoch measured beside training, if any, once its measurement is done: the record
/// goes into the state that epoch left, which the observer sees as it would have at the epoch's end,
/// and into `live`, the state training has taken further. Returns whether early stopping ends the
/// run at that epoch; `live` is then the state it left.
fn conclude_beside<F: Float>(
    pending: Option<Pending<F>>,
    live: &mut TrainState<F>,
    observer: &mut dyn Observer<F>,
    config: &TrainConfig,
) -> anyhow::Result<bool> {
    let Some(pending) = pending else {
        return Ok(false);
    };
    let (end, mut ended, measurement) = pending.wait();
    end.conclude(measurement, &mut ended)?;
    observer.epoch_done(&ended)?;
    if config.patience.is_some_and(|p| ended.stale_epochs >= p) {
        *live = ended;
        return Ok(true);
    }
    let best_epoch = |state: &TrainState<F>| state.best.as_ref().map(|b| b.epoch);
    if best_epoch(&ended) != best_epoch(live) {
        live.best = ended.best;
    }
    live.stale_epochs = ended.stale_epochs;
    live.history.epochs.extend(ended.history.epochs.pop());
    Ok(false)
}

#[cfg(test)]
mod tests;
