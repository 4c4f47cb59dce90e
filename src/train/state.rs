//! Everything a run changes, in one value: weights, optimizer state, generator, position in the
//! epoch, the best network on validation so far and the history. A checkpoint saves it whole and
//! a resumed run continues from it exactly. What one update changes of it is lent to the trainer as
//! a `Learner`: nothing copies the state in and out.

use rand_chacha::ChaCha8Rng;

use crate::float::Float;
use crate::history::History;
use crate::metrics::Accuracy;
use crate::nn::Network;
use crate::optim::{Method, Optimizer};

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
    pub fn beaten_by(&self, accuracy: Accuracy, loss: f64) -> bool {
        accuracy.correct > self.accuracy.correct || (accuracy.correct == self.accuracy.correct && loss < self.loss)
    }
}

/// Everything a run changes, from which it continues.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainState<F> {
    /// The weights being trained.
    pub network: Network<F>,
    /// With `--ema`, the moving average of `network` (`average`): what is measured and kept.
    pub average: Option<Network<F>>,
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
            average: None,
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

    /// The network an epoch measures: the moving average of the weights when there is one, else
    /// the weights themselves.
    pub fn measured(&self) -> &Network<F> {
        self.average.as_ref().unwrap_or(&self.network)
    }

    /// The network to keep: the best on validation when there is validation data, else the latest
    /// measured.
    pub fn kept(&self) -> &Network<F> {
        self.best.as_ref().map_or_else(|| self.measured(), |b| &b.network)
    }
}

/// What one update changes, borrowed from whoever owns it (a `TrainState`, or `fit`'s own
/// network, optimizer and generator): the weights, their moving average when there is one, the
/// update rule's state and the generator that draws augmentation and dropout.
pub struct Learner<'a, F, R: ?Sized> {
    pub network: &'a mut Network<F>,
    pub average: Option<&'a mut Network<F>>,
    pub optimizer: &'a mut Optimizer<F>,
    pub rng: &'a mut R,
}
