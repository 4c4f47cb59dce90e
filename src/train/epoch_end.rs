//! The end of an epoch: the splits measured, the record made of them, and the best network on
//! validation kept.
//!
//! The measurement can run beside the next epoch's training (`Pending`): it needs only the
//! network as the epoch left it, so a copy of the state at the epoch's end goes to another thread
//! of the pool, and the record is made when the evaluations come back. The numbers are the ones
//! measured in line: the same network, the same `evaluate`.

use std::borrow::Cow;
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::time::Instant;

use super::state::{Best, TrainState};
use super::trainer::Diverged;
use crate::data::dataset::Dataset;
use crate::evaluate::{Evaluation, evaluate};
use crate::float::Float;
use crate::history::EpochRecord;
use crate::nn::Network;

/// The images measured after each epoch: the training set or the part of it `--train-eval`
/// chose (none for 0), the validation and the test set when there are.
#[derive(Clone, Copy)]
pub struct Measured<'a> {
    pub train: Option<&'a Dataset>,
    pub validation: Option<&'a Dataset>,
    pub test: Option<&'a Dataset>,
}

impl Measured<'_> {
    /// Whether any split is measured.
    pub fn any(&self) -> bool {
        self.train.is_some() || self.validation.is_some() || self.test.is_some()
    }
}

/// The part of `train` measured after each epoch: all of it (`None`), or `n` images spread evenly
/// through it (every `len / n`-th, so a set sorted by class is measured in proportion).
pub fn measured_part(train: &Dataset, n: Option<usize>) -> Option<Cow<'_, Dataset>> {
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

/// The evaluations of the measured splits, and the seconds they took.
pub struct Measurement {
    train: Option<Evaluation>,
    validation: Option<Evaluation>,
    test: Option<Evaluation>,
    seconds: f64,
}

impl Measurement {
    /// `network` evaluated on every measured split.
    pub fn of<F: Float>(network: &Network<F>, splits: Measured<'_>) -> Self {
        let started = Instant::now();
        let on = |split: Option<&Dataset>| split.map(|set| evaluate(network, set));
        Self {
            train: on(splits.train),
            validation: on(splits.validation),
            test: on(splits.test),
            seconds: started.elapsed().as_secs_f64(),
        }
    }
}

/// An epoch whose training is done, with what its record needs besides the measurement.
#[derive(Clone, Debug)]
pub struct EpochEnd {
    /// 1-based.
    pub epoch: usize,
    /// Updates made in the epoch.
    pub steps: usize,
    /// The rate of the epoch's last update.
    pub lr: f64,
    pub train_seconds: f64,
    /// Where the epoch's last update stands (1-based batch of the epoch's schedule, and the
    /// schedule's batches per epoch): a measured loss that is not finite is reported there.
    pub last_batch: (usize, usize),
}

impl EpochEnd {
    /// Adds the epoch's record to `state` (as the epoch left it: its network is the one measured)
    /// and keeps that network as the best when its validation result beats the best so far. A loss
    /// that is not finite is `Diverged`, and nothing is added.
    pub fn conclude<F: Float>(&self, measurement: Measurement, state: &mut TrainState<F>) -> Result<(), Diverged> {
        let Measurement {
            train,
            validation,
            test,
            seconds,
        } = measurement;
        let losses = [&train, &validation, &test].map(|e| e.as_ref().map(|e| e.loss));
        if let Some(loss) = losses.into_iter().flatten().find(|l| !l.is_finite()) {
            let (batch, batches) = self.last_batch;
            return Err(Diverged {
                epoch: self.epoch,
                batch,
                batches,
                what: format!("the evaluation loss after the epoch is {loss}"),
                learning_rate: self.lr,
            });
        }
        if let Some(v) = &validation {
            consider_best(state, self.epoch, v);
        }
        state.history.epochs.push(EpochRecord {
            epoch: self.epoch,
            lr: self.lr,
            train_loss: train.as_ref().map(|e| e.loss),
            train_accuracy: train.as_ref().map(Evaluation::accuracy),
            val_loss: validation.as_ref().map(|v| v.loss),
            val_accuracy: validation.as_ref().map(Evaluation::accuracy),
            test_loss: test.as_ref().map(|e| e.loss),
            test_accuracy: test.as_ref().map(Evaluation::accuracy),
            steps: self.steps,
            seconds: self.train_seconds + seconds,
            train_seconds: self.train_seconds,
            eval_seconds: seconds,
        });
        Ok(())
    }
}

/// Keeps the network of `epoch` as the best when its validation result beats the best so far.
fn consider_best<F: Float>(state: &mut TrainState<F>, epoch: usize, validation: &Evaluation) {
    let (accuracy, loss) = (validation.accuracy(), validation.loss);
    if state.best.as_ref().is_none_or(|b| b.beaten_by(accuracy, loss)) {
        state.best = Some(Best {
            network: state.measured().clone(),
            epoch,
            accuracy,
            loss,
        });
        state.stale_epochs = 0;
    } else {
        state.stale_epochs += 1;
    }
}

/// An epoch's measurement running on another thread of the pool, with the state as the epoch
/// left it.
pub struct Pending<F> {
    pub end: EpochEnd,
    returned: Receiver<(TrainState<F>, Measurement)>,
    received: Option<(TrainState<F>, Measurement)>,
}

impl<F: Float> Pending<F> {
    /// Measures `state.measured()` on `splits` in a job of `scope`; `state` comes back with the
    /// result.
    pub fn spawn<'scope>(
        scope: &rayon::Scope<'scope>,
        end: EpochEnd,
        state: TrainState<F>,
        splits: Measured<'scope>,
    ) -> Self {
        let (send, returned) = channel();
        scope.spawn(move |_| {
            let measurement = Measurement::of(state.measured(), splits);
            // The receiver is gone only when training already stopped with an error.
            let _ = send.send((state, measurement));
        });
        Self {
            end,
            returned,
            received: None,
        }
    }

    /// Whether the measurement is done.
    pub fn is_ready(&mut self) -> bool {
        if self.received.is_none() {
            match self.returned.try_recv() {
                Ok(received) => self.received = Some(received),
                Err(TryRecvError::Empty) => {}
                // The job panicked; the scope passes the panic on when it closes.
                Err(TryRecvError::Disconnected) => panic!("the evaluation of epoch {} failed", self.end.epoch),
            }
        }
        self.received.is_some()
    }

    /// The state as the epoch left it and its measurement, once done. Meanwhile this thread runs
    /// other jobs of the pool, such as pieces of the measurement itself.
    pub fn wait(mut self) -> (EpochEnd, TrainState<F>, Measurement) {
        while !self.is_ready() {
            if rayon::yield_now() != Some(rayon::Yield::Executed) {
                std::thread::yield_now();
            }
        }
        let (state, measurement) = self.received.expect("the measurement arrived");
        (self.end, state, measurement)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::metrics::ConfusionMatrix;
    use crate::nn::{Activation, Init, Loss};
    use crate::optim::Method;

    fn state() -> TrainState<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let network = Network::new(
            &[4, 3, 2],
            Activation::Sigmoid,
            Loss::CrossEntropy,
            Init::default_for(Activation::Sigmoid),
            &mut rng,
        );
        TrainState::new(network, Method::Sgd, rng, 10)
    }

    fn measured(test_loss: f64) -> Measurement {
        let evaluation = |loss| Evaluation {
            loss,
            confusion: ConfusionMatrix::new(2),
            predictions: Vec::new(),
        };
        Measurement {
            train: Some(evaluation(0.5)),
            validation: None,
            test: Some(evaluation(test_loss)),
            seconds: 0.25,
        }
    }

    const END: EpochEnd = EpochEnd {
        epoch: 3,
        steps: 4,
        lr: 0.125,
        train_seconds: 1.5,
        last_batch: (4, 5),
    };

    #[test]
    fn a_finite_measurement_is_recorded_with_the_epochs_numbers() {
        let mut state = state();
        END.conclude(measured(0.75), &mut state).unwrap();
        let record = state.history.epochs.last().expect("a record");
        assert_eq!((record.epoch, record.steps, record.lr), (3, 4, 0.125));
        assert_eq!((record.train_loss, record.test_loss), (Some(0.5), Some(0.75)));
        assert_eq!(
            (record.train_seconds, record.eval_seconds, record.seconds),
            (1.5, 0.25, 1.75)
        );
    }

    #[test]
    fn a_loss_that_is_not_finite_is_a_divergence_at_the_epochs_last_update() {
        let mut state = state();
        let diverged = END.conclude(measured(f64::NAN), &mut state).unwrap_err();
        assert_eq!(
            (diverged.epoch, diverged.batch, diverged.batches, diverged.learning_rate),
            (3, 4, 5, 0.125)
        );
        assert_eq!(diverged.what, "the evaluation loss after the epoch is NaN");
        assert!(state.history.epochs.is_empty(), "a diverged epoch was recorded");
    }
}
