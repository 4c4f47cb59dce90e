//! One training step, and the epochs of steps: gather a mini-batch (`batch::Gatherer`), forward
//! with dropout, loss, backward, the optimizer's update at the schedule's rate (and the moving
//! average of the weights after it), then the checks that nothing became NaN or infinite.
//!
//! The trainer holds what steps need and keep nothing of their own: the schedule, the buffers of a
//! batch, its trace and gradients, and the batch gathered ahead (`Prefetch`). What a step changes
//! (weights, optimizer state, generator) it borrows as a `Learner`. Buffers are made for the
//! largest batch at the start, so that after the first batch a step allocates nothing.

use rand::Rng;
use rand::seq::SliceRandom;

use super::average;
use super::config::TrainConfig;
use super::prefetch::Prefetch;
use super::state::Learner;
use crate::batch::{Batch, Gatherer};
use crate::data::samples::Samples;
use crate::float::Float;
use crate::nn::{Gradients, Network, Trace};
use crate::schedule::Schedule;

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

/// Mini-batch updates, with the buffers a step needs allocated once and reused.
#[derive(Clone, Debug)]
pub struct Trainer<F> {
    schedule: Schedule,
    /// Updates per epoch and in all, which place an update on the schedule.
    steps_per_epoch: u64,
    total_steps: u64,
    batch_size: usize,
    l2: F,
    /// The drop probability of hidden outputs (inputs are dropped by the gatherer).
    hidden_dropout: f64,
    /// ε of label smoothing, applied to every batch's targets however it was gathered.
    label_smoothing: F,
    /// The decay of the moving average of the weights, moved after every update when the learner
    /// has one.
    ema: Option<f64>,
    gatherer: Gatherer<F>,
    batch: Batch<F>,
    prefetch: Prefetch<F>,
    trace: Trace<F>,
    grads: Gradients<F>,
}

impl<F: Float> Trainer<F> {
    /// A trainer for `network` on mini-batches of `data` as `config` says (its batch size at most
    /// the number of samples). Augmentation needs samples that are images.
    pub fn new(network: &Network<F>, data: &impl Samples, config: &TrainConfig) -> Self {
        let batch_size = config.batch_size.min(data.len()).max(1);
        let steps_per_epoch = data.len().div_ceil(batch_size) as u64;
        let (inputs, outputs) = (data.inputs(), data.outputs());
        Self {
            schedule: config.schedule,
            steps_per_epoch,
            total_steps: config
                .steps
                .map_or(config.epochs as u64 * steps_per_epoch, |s| s as u64),
            batch_size,
            l2: F::of(config.l2),
            hidden_dropout: config.dropout.hidden,
            label_smoothing: F::of(config.label_smoothing),
            ema: config.ema,
            gatherer: Gatherer::new(data, config.augment, config.dropout.input),
            batch: Batch::with_room(batch_size, inputs, outputs),
            prefetch: Prefetch::new(batch_size, inputs, outputs),
            trace: network.trace(batch_size),
            grads: network.zero_gradients(),
        }
    }

    /// One update on the samples `indices` of `data` (at most the batch size): augmentation and
    /// forward (with dropout masks), both drawn from the learner's generator, loss, backward,
    /// optimizer step at the schedule's rate. Returns the batch's mean loss (with the L2 penalty)
    /// before the update, or `Diverged` when that loss or an updated parameter is not finite.
    pub fn step<R: Rng + Send>(
        &mut self,
        learner: &mut Learner<'_, F, R>,
        data: &impl Samples,
        indices: &[usize],
    ) -> Result<F, Diverged> {
        self.prefetch.clear();
        self.step_ahead(learner, data, indices, None)
    }

    /// Batches `done..batches` of the epoch whose samples are `order`, shuffled first with the
    /// learner's generator when the epoch has not begun (`done` is 0). `done` counts the batches
    /// finished; `after_batch` gets each one's loss and tells whether to go on. Stops with
    /// `Diverged` at the first batch whose loss or updated parameters are not finite.
    pub fn run_epoch<R: Rng + Send>(
        &mut self,
        learner: &mut Learner<'_, F, R>,
        data: &impl Samples,
        (order, done): (&mut [usize], &mut usize),
        batches: usize,
        mut after_batch: impl FnMut(f64) -> bool,
    ) -> Result<(), Diverged> {
        if *done == 0 {
            order.shuffle(learner.rng);
        }
        let todo = order.chunks(self.batch_size).take(batches).skip(*done);
        self.run(learner, data, todo, |loss| {
            *done += 1;
            after_batch(loss)
        })
    }

    /// `step`s through `batches` in turn, handing each batch's loss to `after_batch`, which tells
    /// whether to go on; stops with `Diverged` at the first batch whose loss or updated parameters
    /// are not finite. Batches that go in sparse are gathered one ahead: the next batch's nonzero
    /// pixels are collected on another thread while the current one trains.
    pub fn run<'b, R: Rng + Send>(
        &mut self,
        learner: &mut Learner<'_, F, R>,
        data: &impl Samples,
        batches: impl IntoIterator<Item = &'b [usize]>,
        mut after_batch: impl FnMut(f64) -> bool,
    ) -> Result<(), Diverged> {
        let mut batches = batches.into_iter().peekable();
        self.prefetch.clear();
        let mut result = Ok(());
        while let Some(indices) = batches.next() {
            match self.step_ahead(learner, data, indices, batches.peek().copied()) {
                Ok(loss) if after_batch(loss.as_f64()) => {}
                Ok(_) => break,
                Err(diverged) => {
                    result = Err(diverged);
                    break;
                }
            }
        }
        self.prefetch.clear();
        result
    }

    /// `step`, gathering the batch `next` (when given, and when batches go in plain and sparse)
    /// ahead on another thread meanwhile; takes `indices` from the prefetch when they wait there.
    fn step_ahead<R: Rng + Send>(
        &mut self,
        learner: &mut Learner<'_, F, R>,
        data: &impl Samples,
        indices: &[usize],
        next: Option<&[usize]>,
    ) -> Result<F, Diverged> {
        if !self.prefetch.take(indices, &mut self.batch) {
            self.gatherer.gather(data, indices, &mut self.batch, learner.rng);
        }
        self.batch.smooth_targets(self.label_smoothing);
        let step = learner.optimizer.steps;
        let lr = self.lr_of(step);
        let ahead = next.filter(|_| self.gatherer.is_plain() && self.batch.is_sparse());
        let Self {
            l2,
            hidden_dropout,
            ema,
            batch,
            prefetch,
            trace,
            grads,
            ..
        } = self;
        let mut update = || {
            let Learner {
                network,
                average,
                optimizer,
                rng,
            } = learner;
            let (input, t) = (batch.input(), batch.targets());
            let logits = network.forward_dropout(input, trace, *hidden_dropout, &mut **rng);
            let loss = network.loss(logits, t, *l2);
            network.backward(input, trace, t, *l2, grads);
            let finite = optimizer.step(network, grads, lr);
            if let (Some(decay), Some(average)) = (*ema, average) {
                average::move_towards(average, network, average::decay_at(decay, optimizer.steps));
            }
            (loss, finite)
        };
        let (loss, finite) = match ahead {
            Some(next) => rayon::join(update, || prefetch.gather(data, next)).0,
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

    /// The learning rate of update `step` (0-based, counted over the whole run).
    pub fn lr_of(&self, step: u64) -> f64 {
        self.schedule.lr(step, self.steps_per_epoch, self.total_steps)
    }

    /// The divergence found at update `step` (0-based, counted over the whole run), placed in its
    /// epoch and batch the way the schedule places it.
    pub fn diverged(&self, step: u64, what: String) -> Diverged {
        let (batch, batches) = self.batch_of(step);
        Diverged {
            epoch: (step / self.steps_per_epoch) as usize + 1,
            batch,
            batches,
            what,
            learning_rate: self.lr_of(step),
        }
    }

    /// Update `step` (0-based, over the whole run) as the schedule places it in its epoch: its
    /// batch (1-based) and the batches of an epoch.
    pub fn batch_of(&self, step: u64) -> (usize, usize) {
        (
            (step % self.steps_per_epoch) as usize + 1,
            self.steps_per_epoch as usize,
        )
    }
}
