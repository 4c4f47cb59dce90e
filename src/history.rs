//! The record of a run: one row of numbers per finished epoch.

use serde::{Deserialize, Serialize};

use crate::metrics::Accuracy;

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
