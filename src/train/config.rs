//! A run's training settings: epochs or updates, batch size, update rule and its schedule,
//! penalties, dropout, augmentation and early stopping. The command line's defaults are the
//! classic recipe's (`TrainConfig::default`).

use serde::{Deserialize, Serialize};

use crate::data::augment::Augment;
use crate::nn::Dropout;
use crate::optim::Method;
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
    /// How many training images to measure after each epoch: all (`None`), `n` spread through
    /// the set, or none (0). Training does not depend on it; only the history's train columns do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_eval: Option<usize>,
    /// ε of label smoothing: training targets are (1 - ε)·one-hot + ε/classes. Left out of the
    /// file when 0, so that runs without it record what they did before.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub label_smoothing: f64,
    /// The decay of an exponential moving average of the weights, moved after every update
    /// (`average`): when set, the average is what each epoch measures and what the run keeps.
    /// Left out of the file when unset, like `label_smoothing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ema: Option<f64>,
}

fn is_zero(value: &f64) -> bool {
    *value == 0.0
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
            train_eval: None,
            label_smoothing: 0.0,
            ema: None,
        }
    }
}

impl TrainConfig {
    /// Mini-batches in an epoch over `samples` samples (the last one may be smaller).
    pub fn batches_per_epoch(&self, samples: usize) -> usize {
        samples.div_ceil(self.batch_size.min(samples))
    }

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
            (
                fraction(self.label_smoothing),
                "label smoothing must be at least 0 and below 1",
            ),
            (
                self.ema.is_none_or(fraction),
                "the moving average's decay must be at least 0 and below 1",
            ),
        ];
        checks.into_iter().find(|&(ok, _)| !ok).map(|(_, problem)| problem)
    }
}
