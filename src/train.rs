//! The training loop: mini-batch updates (see `optim`) at the rates of a `schedule`, over a training
//! set shuffled every epoch, with a full evaluation of the training, validation and test sets after
//! each epoch.
//!
//! Everything that changes as training goes (weights, optimizer state, generator, position in the
//! epoch, the best network on validation so far, the history) is one `TrainState`, so a checkpoint of
//! it continues exactly: `train` picks up where the state says, shuffling an epoch only when it has
//! not begun, and a run interrupted after any batch and resumed from its state ends bit for bit as
//! an uninterrupted one. Randomness comes only from the state's generator.
//!
//! Model selection looks only at validation data: with it, the network kept is the one of the epoch
//! with the best validation accuracy (ties go to the lower validation loss), and training stops after
//! `patience` epochs without a better one. The test set is evaluated and recorded, never consulted.
//!
//! The loop reports through the `Observer` trait; it knows nothing of terminals, files or signals.
//!
//! The step itself (gather a mini-batch, augment, forward, loss, backward, update) and one shuffled
//! pass over a set of samples live in `Trainer`, which works on any `Samples`: the MNIST loop below
//! and the small problems of `fit` share it.
//!
//! A NaN or infinite batch loss, parameter or epoch loss stops training at once with `Diverged`,
//! before the observer sees the broken network, so the last model it saved stays the last good one.

use std::time::Instant;

use ndarray::{Array2, s};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::augment::{Augment, Augmenter};
use crate::data::dataset::Dataset;
use crate::data::samples::Samples;
use crate::evaluate::evaluate;
use crate::float::Float;
use crate::kernels::SparseInput;
use crate::metrics::Accuracy;
use crate::nn::layer::Input;
use crate::nn::{Dropout, Gradients, Network, Trace};
use crate::optim::{Method, Optimizer};
use crate::schedule::{Decay, Schedule};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub epochs: usize,
    /// A limit on the number of updates in all: the epoch that reaches it ends there (and is
    /// evaluated like any other). The textbook recipe counts 10,000 updates rather than epochs.
    pub steps: Option<usize>,
    pub batch_size: usize,
    pub optimizer: Method,
    pub schedule: Schedule,
    /// λ of the L2 penalty λ/2 · Σ‖W‖².
    pub l2: f64,
    /// Drop probabilities in training.
    pub dropout: Dropout,
    /// Random transforms of training images.
    pub augment: Augment,
    /// Stop after this many epochs without a better validation result (needs validation data).
    pub patience: Option<usize>,
}

/// The command line's defaults: the classic recipe's 30 epochs of SGD at 0.5 in batches of 100.
impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 30,
            steps: None,
            batch_size: 100,
            optimizer: Method::Sgd,
            schedule: Schedule::constant(0.5),
            l2: 0.0,
            dropout: Dropout::OFF,
            augment: Augment::default(),
            patience: None,
        }
    }
}

impl TrainConfig {
    /// What is wrong with these settings, if anything. The command line checks each flag as it is
    /// parsed; this checks settings read back from a file (a checkpoint), which the loop would
    /// otherwise divide by or step with.
    pub fn problem(&self) -> Option<&'static str> {
        let fraction = |v: f64| (0.0..1.0).contains(&v);
        let non_negative = |v: f64| v.is_finite() && v >= 0.0;
        let positive = |v: f64| v.is_finite() && v > 0.0;
        let optimizer = match self.optimizer {
            Method::Sgd => true,
            Method::Momentum { momentum } | Method::Nesterov { momentum } => fraction(momentum),
            Method::Adam { beta1, beta2, eps } => fraction(beta1) && fraction(beta2) && positive(eps),
            Method::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => fraction(beta1) && fraction(beta2) && positive(eps) && non_negative(weight_decay),
        };
        let schedule = &self.schedule;
        let decay = match schedule.decay {
            Decay::Constant => true,
            Decay::Step { every_epochs, gamma } => every_epochs >= 1 && positive(gamma),
            Decay::Cosine { min_lr } => non_negative(min_lr) && min_lr <= schedule.lr,
        };
        let augment = &self.augment;
        let checks = [
            (self.epochs >= 1, "epochs must be at least 1"),
            (self.steps != Some(0), "steps must be at least 1"),
            (self.batch_size >= 1, "batch_size must be at least 1"),
            (
                optimizer,
                "the optimizer's momentum, betas, eps or weight decay are out of range",
            ),
            (
                positive(schedule.lr),
                "the learning rate must be a finite number above 0",
            ),
            (decay, "the learning-rate decay is out of range"),
            (
                non_negative(schedule.warmup_epochs),
                "the warm-up must be 0 epochs or more",
            ),
            (non_negative(self.l2), "l2 must be a finite number of 0 or more"),
            (
                fraction(self.dropout.input) && fraction(self.dropout.hidden),
                "dropout probabilities must be at least 0 and below 1",
            ),
            (
                non_negative(augment.rotate)
                    && non_negative(augment.scale)
                    && augment.scale < 1.0
                    && non_negative(augment.elastic)
                    // σ matters only when elastic distortions are on (`Augment::default()` has 0).
                    && (augment.elastic == 0.0 || positive(augment.elastic_sigma)),
                "the augmentation settings are out of range",
            ),
            (self.patience != Some(0), "patience must be at least 1"),
        ];
        checks.into_iter().find(|&(ok, _)| !ok).map(|(_, problem)| problem)
    }
}

/// The numbers of one finished epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based.
    pub epoch: usize,
    /// The learning rate of the epoch's last update.
    pub lr: f64,
    /// Mean loss over the training set after the epoch (without the L2 penalty, dropout or
    /// augmentation).
    pub train_loss: f64,
    pub train_accuracy: Accuracy,
    /// The same on the validation set, when there is one.
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<Accuracy>,
    pub test_loss: f64,
    pub test_accuracy: Accuracy,
    /// Updates made in this epoch: a full pass, or fewer in the last when `steps` ends it.
    pub steps: usize,
    /// Wall time of the epoch, training and the evaluations.
    pub seconds: f64,
    /// Of `seconds`, the updates alone and the evaluations.
    pub train_seconds: f64,
    pub eval_seconds: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub epochs: Vec<EpochRecord>,
}

/// The network of the best epoch on validation so far.
#[derive(Clone, Debug, PartialEq)]
pub struct Best<F> {
    pub network: Network<F>,
    pub epoch: usize,
    pub accuracy: Accuracy,
    pub loss: f64,
}

impl<F> Best<F> {
    /// Whether validation accuracy `accuracy` with loss `loss` beats this: more correct, or as many
    /// with a lower loss.
    fn beaten_by(&self, accuracy: Accuracy, loss: f64) -> bool {
        accuracy.correct > self.accuracy.correct || (accuracy.correct == self.accuracy.correct && loss < self.loss)
    }
}

/// Everything a run changes, from which it continues.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainState<F> {
    /// The weights being trained.
    pub network: Network<F>,
    pub optimizer: Optimizer<F>,
    pub rng: ChaCha8Rng,
    /// Epochs finished.
    pub epoch: usize,
    /// The order of the training samples in the current epoch (shuffled when the epoch begins, from
    /// the previous epoch's order) and how many of its batches are done.
    pub order: Vec<usize>,
    pub batches_done: usize,
    /// Seconds already spent in the current epoch before an interruption.
    pub epoch_seconds: f64,
    /// With validation data: the best network so far, and the epochs since it.
    pub best: Option<Best<F>>,
    pub stale_epochs: usize,
    pub history: History,
}

impl<F: Float> TrainState<F> {
    /// The start of a run: `network` as initialized, fresh `method` state, the generator `rng`
    /// (already used for the initial weights), `samples` training samples in their order.
    pub fn new(network: Network<F>, method: Method, rng: ChaCha8Rng, samples: usize) -> Self {
        Self {
            optimizer: Optimizer::new(method, &network),
            network,
            rng,
            epoch: 0,
            order: (0..samples).collect(),
            batches_done: 0,
            epoch_seconds: 0.0,
            best: None,
            stale_epochs: 0,
            history: History::default(),
        }
    }

    /// The network to keep: the best on validation when there is validation data, else the latest.
    pub fn kept(&self) -> &Network<F> {
        self.best.as_ref().map_or(&self.network, |b| &b.network)
    }
}

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

/// The data of a run. Validation images come out of the training set; the test set is only measured.
#[derive(Clone, Copy, Debug)]
pub struct Splits<'a> {
    pub train: &'a Dataset,
    pub validation: Option<&'a Dataset>,
    pub test: &'a Dataset,
}

/// Training produced a NaN or an infinity. Checked after every batch (the batch's loss before the
/// update, then the parameters after it) and on the evaluation losses at the end of each epoch.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error(
    "training diverged in epoch {epoch}, batch {batch} of {batches}: {what}. \
     Try a lower learning rate than {}, e.g. {}",
    readable(*learning_rate),
    readable(learning_rate / 10.0)
)]
pub struct Diverged {
    /// 1-based.
    pub epoch: usize,
    /// 1-based, within the epoch.
    pub batch: usize,
    pub batches: usize,
    /// What became non-finite, e.g. "the loss is NaN".
    pub what: String,
    /// The rate of the update that diverged (or of the epoch's last update).
    pub learning_rate: f64,
}

/// A number for a message: plain when it is of everyday size, else in scientific notation.
fn readable(x: f64) -> String {
    if x == 0.0 || (1e-4..1e6).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
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
    let batch = config.batch_size.min(train.len());
    let per_epoch = train.len().div_ceil(batch);
    let mut trainer = Trainer::new(&state.network, train, config);
    trainer.optimizer.clone_from(&state.optimizer);

    while state.epoch < config.epochs {
        let epoch = state.epoch + 1;
        // Updates left in the run, counting those of this epoch already done.
        let left = config
            .steps
            .map_or(usize::MAX, |s| s.saturating_sub(state.optimizer.steps as usize));
        let batches = per_epoch.min(state.batches_done.saturating_add(left));
        if batches == state.batches_done {
            break;
        }
        let started = Instant::now();
        if state.batches_done == 0 {
            state.order.shuffle(&mut state.rng);
        }
        observer.epoch_started(epoch, batches, state.batches_done);
        let epoch_batches = state.order.chunks(batch).take(batches).skip(state.batches_done);
        trainer.run(&mut state.network, train, epoch_batches, &mut state.rng, |loss| {
            state.batches_done += 1;
            observer.batch_done(loss);
            state.batches_done == batches || !observer.should_stop()
        })?;
        if state.batches_done < batches {
            state.epoch_seconds += started.elapsed().as_secs_f64();
            state.optimizer.clone_from(&trainer.optimizer);
            return Ok(Outcome::Interrupted);
        }
        // The rate of the epoch's last update.
        let lr = trainer.lr_of(trainer.steps() - 1);
        state.optimizer.clone_from(&trainer.optimizer);

        let trained = Instant::now();
        let on_train = evaluate(&state.network, train);
        let on_validation = data.validation.map(|v| evaluate(&state.network, v));
        let on_test = evaluate(&state.network, data.test);
        let losses = [
            Some(on_train.loss),
            on_validation.as_ref().map(|v| v.loss),
            Some(on_test.loss),
        ];
        if let Some(loss) = losses.into_iter().flatten().find(|l| !l.is_finite()) {
            let what = format!("the evaluation loss after the epoch is {loss}");
            return Err(trainer.diverged(trainer.steps() - 1, what).into());
        }
        if let Some(v) = &on_validation {
            let (accuracy, loss) = (v.accuracy(), v.loss);
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
        state.history.epochs.push(EpochRecord {
            epoch,
            lr,
            train_loss: on_train.loss,
            train_accuracy: on_train.accuracy(),
            val_loss: on_validation.as_ref().map(|v| v.loss),
            val_accuracy: on_validation.as_ref().map(|v| v.accuracy()),
            test_loss: on_test.loss,
            test_accuracy: on_test.accuracy(),
            steps: batches,
            seconds: state.epoch_seconds + started.elapsed().as_secs_f64(),
            train_seconds: state.epoch_seconds + (trained - started).as_secs_f64(),
            eval_seconds: trained.elapsed().as_secs_f64(),
        });
        state.epoch = epoch;
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

/// Mini-batch updates one step at a time, with the buffers a step needs allocated once and reused.
#[derive(Clone, Debug)]
pub struct Trainer<F> {
    /// The update rule and its state; replace it to continue from a saved state.
    pub optimizer: Optimizer<F>,
    schedule: Schedule,
    /// Updates per epoch and in all, which place an update on the schedule.
    steps_per_epoch: u64,
    total_steps: u64,
    l2: F,
    dropout: Dropout,
    augmenter: Option<Augmenter<F>>,
    /// (batch, inputs) and (batch, outputs): the current mini-batch.
    x: Array2<F>,
    t: Array2<F>,
    /// The current mini-batch's inputs instead of `x` when the samples gather them sparse.
    sparse_x: SparseInput<F>,
    /// Whether batches may be gathered sparse: nothing (augmentation, dropout of inputs) needs them dense.
    may_gather_sparse: bool,
    trace: Trace<F>,
    grads: Gradients<F>,
    /// The next mini-batch, gathered sparse while the current one trains (see `run`).
    ahead: Ahead<F>,
}

/// A mini-batch gathered ahead of its step: the samples' indices (empty when none is waiting),
/// inputs and targets.
#[derive(Clone, Debug)]
struct Ahead<F> {
    indices: Vec<usize>,
    x: SparseInput<F>,
    t: Array2<F>,
}

impl<F: Float> Trainer<F> {
    /// A trainer for `network` on mini-batches of `data` as `config` says (its batch size at most
    /// the number of samples). Augmentation needs samples that are images.
    pub fn new(network: &Network<F>, data: &impl Samples, config: &TrainConfig) -> Self {
        let batch = config.batch_size.min(data.len()).max(1);
        let steps_per_epoch = data.len().div_ceil(batch) as u64;
        let augmenter = (!config.augment.is_off()).then(|| {
            let shape = data
                .image_shape()
                .expect("augmentation is only asked for image samples");
            Augmenter::new(config.augment, shape)
        });
        Self {
            optimizer: Optimizer::new(config.optimizer, network),
            schedule: config.schedule,
            steps_per_epoch,
            total_steps: config
                .steps
                .map_or(config.epochs as u64 * steps_per_epoch, |s| s as u64),
            l2: F::of(config.l2),
            dropout: config.dropout,
            may_gather_sparse: augmenter.is_none() && config.dropout.rate_before(0) == 0.0,
            augmenter,
            x: Array2::zeros((batch, data.inputs())),
            t: Array2::zeros((batch, data.outputs())),
            sparse_x: SparseInput::with_room(batch, data.inputs()),
            trace: network.trace(batch),
            grads: network.zero_gradients(),
            ahead: Ahead {
                indices: Vec::with_capacity(batch),
                x: SparseInput::with_room(batch, data.inputs()),
                t: Array2::zeros((batch, data.outputs())),
            },
        }
    }

    /// One update on the samples `indices` of `data` (at most the batch size): augmentation and
    /// forward (with dropout masks), both drawn from `rng`, loss, backward, optimizer step at the schedule's rate.
    /// Returns the batch's mean loss (with the L2 penalty) before the update, or `Diverged` when
    /// that loss or an updated parameter is not finite.
    pub fn step<R: Rng + Send>(
        &mut self,
        network: &mut Network<F>,
        data: &impl Samples,
        indices: &[usize],
        rng: &mut R,
    ) -> Result<F, Diverged> {
        self.ahead.indices.clear();
        self.step_ahead(network, data, indices, None, rng)
    }

    /// `step`s through `batches` in turn, handing each batch's loss to `after_batch`, which tells
    /// whether to go on; stops with `Diverged` at the first batch whose loss or updated parameters
    /// are not finite. Batches that go in sparse are gathered one ahead: the next batch's nonzero
    /// pixels are collected on another thread while the current one trains.
    pub fn run<'b, R: Rng + Send>(
        &mut self,
        network: &mut Network<F>,
        data: &impl Samples,
        batches: impl IntoIterator<Item = &'b [usize]>,
        rng: &mut R,
        mut after_batch: impl FnMut(f64) -> bool,
    ) -> Result<(), Diverged> {
        let mut batches = batches.into_iter().peekable();
        self.ahead.indices.clear();
        let mut result = Ok(());
        while let Some(indices) = batches.next() {
            match self.step_ahead(network, data, indices, batches.peek().copied(), rng) {
                Ok(loss) if after_batch(loss.as_f64()) => {}
                Ok(_) => break,
                Err(diverged) => {
                    result = Err(diverged);
                    break;
                }
            }
        }
        // A batch gathered for a step that did not come is dropped: only this run knows `data`.
        self.ahead.indices.clear();
        result
    }

    /// `step`, gathering the batch `next` (when given, and when batches go in sparse) into `ahead`
    /// on another thread meanwhile; takes `indices` from `ahead` when they are waiting there.
    fn step_ahead<R: Rng + Send>(
        &mut self,
        network: &mut Network<F>,
        data: &impl Samples,
        indices: &[usize],
        next: Option<&[usize]>,
        rng: &mut R,
    ) -> Result<F, Diverged> {
        let rows = indices.len();
        let sparse = if !self.ahead.indices.is_empty() && self.ahead.indices == indices {
            std::mem::swap(&mut self.sparse_x, &mut self.ahead.x);
            std::mem::swap(&mut self.t, &mut self.ahead.t);
            true
        } else {
            self.may_gather_sparse && data.gather_sparse(indices, &mut self.sparse_x, self.t.slice_mut(s![..rows, ..]))
        };
        self.ahead.indices.clear();
        let (lr, step) = (self.lr(), self.steps());
        let Self {
            optimizer,
            l2,
            dropout,
            augmenter,
            x,
            t,
            sparse_x,
            trace,
            grads,
            ahead,
            ..
        } = self;
        let mut x = x.slice_mut(s![..rows, ..]);
        let input = if sparse {
            Input::Sparse(&*sparse_x)
        } else {
            data.gather(indices, x.view_mut(), t.slice_mut(s![..rows, ..]));
            if let Some(augmenter) = augmenter {
                augmenter.apply(x.view_mut(), rng);
            }
            Input::Dense(x.view())
        };
        let t = t.slice(s![..rows, ..]);
        let mut update = || {
            let logits = if *dropout == Dropout::OFF {
                network.forward(input, trace)
            } else {
                network.forward_dropout(input, trace, *dropout, rng)
            };
            let loss = network.loss(logits, t, *l2);
            network.backward(input, trace, t, *l2, grads);
            (loss, optimizer.step(network, grads, lr))
        };
        let (loss, finite) = match next.filter(|_| sparse) {
            Some(next) => {
                let gather_next = || {
                    let gathered = data.gather_sparse(next, &mut ahead.x, ahead.t.slice_mut(s![..next.len(), ..]));
                    if gathered {
                        ahead.x.keep_columns();
                    }
                    gathered
                };
                let (updated, gathered) = rayon::join(update, gather_next);
                if gathered {
                    ahead.indices.extend_from_slice(next);
                }
                updated
            }
            None => update(),
        };
        if !loss.is_finite() {
            Err(self.diverged(step, format!("the loss is {loss}")))
        } else if !finite {
            Err(self.diverged(step, "a weight or bias became NaN or infinite".to_owned()))
        } else {
            Ok(loss)
        }
    }

    /// The learning rate of the next update.
    pub fn lr(&self) -> f64 {
        self.lr_of(self.optimizer.steps)
    }

    /// The learning rate of update `step` (0-based, counted over the whole run).
    fn lr_of(&self, step: u64) -> f64 {
        self.schedule.lr(step, self.steps_per_epoch, self.total_steps)
    }

    /// One pass over the samples `order` of `data`: shuffles `order` with `rng`, then steps through
    /// its first `batches` mini-batches (all of them when there are fewer), handing each batch's
    /// loss to `on_batch`. Stops with `Diverged` at the first batch whose loss or updated parameters
    /// are not finite.
    pub fn epoch<R: Rng + Send>(
        &mut self,
        network: &mut Network<F>,
        data: &impl Samples,
        order: &mut [usize],
        rng: &mut R,
        batches: usize,
        mut on_batch: impl FnMut(f64),
    ) -> Result<(), Diverged> {
        order.shuffle(rng);
        let batch = self.x.nrows();
        self.run(network, data, order.chunks(batch).take(batches), rng, |loss| {
            on_batch(loss);
            true
        })
    }

    /// Updates made so far.
    pub fn steps(&self) -> u64 {
        self.optimizer.steps
    }

    /// The divergence found at update `step` (0-based, counted over the whole run), placed in its
    /// epoch and batch the way the schedule places it.
    fn diverged(&self, step: u64, what: String) -> Diverged {
        Diverged {
            epoch: (step / self.steps_per_epoch) as usize + 1,
            batch: (step % self.steps_per_epoch) as usize + 1,
            batches: self.steps_per_epoch as usize,
            what,
            learning_rate: self.lr_of(step),
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, ArrayViewMut2};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::data::dataset::CLASSES;
    use crate::data::scaling::Scaling;
    use crate::nn::{Activation, Dropout, Init, Loss};

    /// A data set that can only be gathered dense: the network then finds each batch's zeros itself.
    struct DenseOnly<'a>(&'a Dataset);

    impl Samples for DenseOnly<'_> {
        fn len(&self) -> usize {
            self.0.len()
        }

        fn inputs(&self) -> usize {
            self.0.features()
        }

        fn outputs(&self) -> usize {
            CLASSES
        }

        fn gather<F: Float>(&self, indices: &[usize], x: ArrayViewMut2<F>, t: ArrayViewMut2<F>) {
            self.0.gather(indices, x, t);
        }
    }

    /// A 36-10-10 net after two epochs on `data` in batches of 8, and the loss of every batch.
    fn trained(data: &impl Samples, dropout: Dropout) -> (Network<f32>, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut network = Network::new(
            &[36, 10, 10],
            Activation::Sigmoid,
            Loss::CrossEntropy,
            Init::Xavier,
            &mut rng,
        );
        let config = TrainConfig {
            epochs: 2,
            steps: None,
            batch_size: 8,
            optimizer: Method::Sgd,
            schedule: Schedule::constant(0.5),
            l2: 1e-3,
            dropout,
            augment: Augment::default(),
            patience: None,
        };
        let mut trainer = Trainer::new(&network, data, &config);
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut losses = Vec::new();
        for _ in 0..config.epochs {
            trainer
                .epoch(&mut network, data, &mut order, &mut rng, usize::MAX, |loss| {
                    losses.push(loss)
                })
                .unwrap();
        }
        (network, losses)
    }

    #[test]
    fn batches_gathered_sparse_train_exactly_as_dense_ones() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let images = Array2::from_shape_simple_fn((44, 36), || {
            if rng.random_bool(0.2) {
                rng.random_range(1..=255)
            } else {
                0
            }
        });
        let labels = (0..44).map(|i| (i % CLASSES) as u8).collect();
        let data = Dataset::new(images, labels, 6, 6);
        let mut t = Array2::<f32>::zeros((2, CLASSES));
        assert!(
            data.gather_sparse(&[3, 1], &mut SparseInput::default(), t.view_mut()),
            "the data set gathers sparse"
        );
        for dropout in [
            Dropout::OFF,
            Dropout {
                input: 0.0,
                hidden: 0.3,
            },
            Dropout {
                input: 0.2,
                hidden: 0.0,
            },
        ] {
            let (sparse, sparse_losses) = trained(&data, dropout);
            let (dense, dense_losses) = trained(&DenseOnly(&data), dropout);
            assert_eq!(sparse_losses.len(), 12);
            assert_eq!(sparse_losses, dense_losses, "dropout {dropout:?}");
            assert_eq!(sparse, dense, "dropout {dropout:?}");
        }
    }

    #[test]
    fn runs_gathering_ahead_train_as_single_steps_do_even_when_stopped_early() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let images = Array2::from_shape_simple_fn((40, 36), || u8::from(rng.random_bool(0.2)) * 200);
        let labels = (0..40).map(|i| (i % CLASSES) as u8).collect();
        let data = Dataset::new(images, labels, 6, 6);
        let batches: Vec<Vec<usize>> = (0..5)
            .map(|b| (0..8).map(|i| (7 * (8 * b + i)) % 40).collect())
            .collect();
        // Trains on the batches numbered `order`: one `step` at a time, or in `run`s split where
        // the callback stops the first after `stop_after` batches.
        let train = |order: &[usize], stop_after: Option<usize>| {
            let mut rng = ChaCha8Rng::seed_from_u64(9);
            let sizes = &[36, 10, 10];
            let mut network =
                Network::<f32>::new(sizes, Activation::Sigmoid, Loss::CrossEntropy, Init::Xavier, &mut rng);
            let config = TrainConfig {
                epochs: 1,
                steps: None,
                batch_size: 8,
                optimizer: Method::Sgd,
                schedule: Schedule::constant(0.5),
                l2: 0.0,
                dropout: Dropout::OFF,
                augment: Augment::default(),
                patience: None,
            };
            let mut trainer = Trainer::new(&network, &data, &config);
            let mut losses = Vec::new();
            let in_order = order.iter().map(|&b| batches[b].as_slice());
            match stop_after {
                None => {
                    for indices in in_order {
                        losses.push(trainer.step(&mut network, &data, indices, &mut rng).unwrap().as_f64());
                    }
                }
                Some(stop) => {
                    for _ in 0..2 {
                        let rest = in_order.clone().skip(losses.len());
                        trainer
                            .run(&mut network, &data, rest, &mut rng, |loss| {
                                losses.push(loss);
                                losses.len() != stop
                            })
                            .unwrap();
                    }
                }
            }
            (network, losses)
        };
        for order in [[0, 1, 2, 3, 4], [0, 1, 4, 4, 2]] {
            let stepped = train(&order, None);
            assert_eq!(stepped.1.len(), 5);
            for stop in [2, 5] {
                assert_eq!(
                    train(&order, Some(stop)),
                    stepped,
                    "batches {order:?}, stopped after {stop}"
                );
            }
        }
    }

    #[test]
    fn a_scaling_that_moves_zero_gathers_dense() {
        let images = Array2::from_shape_fn((4, 4), |(i, j)| u8::from(i == j) * 200);
        let mut data = Dataset::new(images, vec![0, 1, 2, 3], 2, 2);
        let mut t = Array2::<f32>::zeros((1, CLASSES));
        assert!(data.gather_sparse(&[2], &mut SparseInput::default(), t.view_mut()));
        data.scaling = Scaling::standard_for(data.images()).unwrap();
        t.fill(7.0);
        assert!(!data.gather_sparse(&[2], &mut SparseInput::default(), t.view_mut()));
        assert!(t.iter().all(|&v| v == 7.0), "nothing written when refused");
    }

    /// Runs `healthy` epochs, then lets `break_network` have its way with the 4-3-10 net, then runs one
    /// more epoch: SGD at `learning_rate` on four 2x2 images in batches of two. Returns the last
    /// epoch's outcome and how many batches it reported.
    fn epoch_after(
        healthy: usize,
        learning_rate: f64,
        break_network: impl FnOnce(&mut Network<f32>),
    ) -> (Result<(), Diverged>, usize) {
        let images = Array2::from_shape_fn((4, 4), |(i, j)| (40 * i + 10 * j) as u8);
        let data = Dataset::new(images, vec![0, 1, 2, 3], 2, 2);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let sizes = [4, 3, 10];
        let mut network = Network::new(&sizes, Activation::Sigmoid, Loss::CrossEntropy, Init::Xavier, &mut rng);
        let config = TrainConfig {
            epochs: 5,
            steps: None,
            batch_size: 2,
            optimizer: Method::Sgd,
            schedule: Schedule::constant(learning_rate),
            l2: 0.0,
            dropout: Dropout::OFF,
            augment: Augment::default(),
            patience: None,
        };
        let mut trainer = Trainer::new(&network, &data, &config);
        let mut order = vec![0, 1, 2, 3];
        for _ in 0..healthy {
            trainer
                .epoch(&mut network, &data, &mut order, &mut rng, usize::MAX, |_| {})
                .unwrap();
        }
        break_network(&mut network);
        let mut batches_reported = 0;
        let outcome = trainer.epoch(&mut network, &data, &mut order, &mut rng, usize::MAX, |loss| {
            assert!(loss.is_finite());
            batches_reported += 1;
        });
        (outcome, batches_reported)
    }

    #[test]
    fn a_nan_weight_stops_the_epoch_at_its_first_batch() {
        let (outcome, reported) = epoch_after(2, 0.1, |network| network.layers[1].weight[[0, 0]] = f32::NAN);
        let error = outcome.unwrap_err();
        assert_eq!((error.epoch, error.batch, error.batches), (3, 1, 2));
        assert_eq!(error.what, "the loss is NaN");
        assert_eq!(reported, 0, "a diverged batch is not reported as done");
    }

    #[test]
    fn an_update_that_overflows_the_weights_is_caught_in_the_same_batch() {
        // 1e300 is infinite in f32: the first update makes weights infinite while its loss was finite.
        let (outcome, _) = epoch_after(0, 1e300, |_| {});
        let error = outcome.unwrap_err();
        assert_eq!((error.epoch, error.batch), (1, 1));
        assert_eq!(error.what, "a weight or bias became NaN or infinite");
        let message = error.to_string();
        assert!(
            message.ends_with("Try a lower learning rate than 1e300, e.g. 1e299"),
            "{message}"
        );
    }

    #[test]
    fn a_healthy_epoch_passes_every_check() {
        let (outcome, reported) = epoch_after(1, 0.1, |_| {});
        assert_eq!(outcome, Ok(()));
        assert_eq!(reported, 2);
    }
}
