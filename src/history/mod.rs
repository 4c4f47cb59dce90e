//! The record of a run: one row of numbers per finished epoch (`History`), the same as curves per
//! split (`Curves`, which `viz::curves` draws), and the history CSV file that `mlp train --history`
//! writes and `mlp plot` reads back (`csv`).

mod csv;

use serde::{Deserialize, Serialize};

pub use csv::{HEADER, HistoryFile};

use crate::metrics::Accuracy;

/// The numbers of one finished epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based.
    pub epoch: usize,
    /// The learning rate of the epoch's last update.
    pub lr: f64,
    /// Mean loss over the training set after the epoch (without the L2 penalty, dropout or
    /// augmentation), or over the part of it `--train-eval` chose; `None` when it was not measured.
    pub train_loss: Option<f64>,
    pub train_accuracy: Option<Accuracy>,
    /// The same on the validation set, when there is one.
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<Accuracy>,
    /// The same on the test set, when there is one.
    pub test_loss: Option<f64>,
    pub test_accuracy: Option<Accuracy>,
    /// Updates made in this epoch: a full pass, or fewer in the last when `steps` ends it.
    pub steps: usize,
    /// The epoch's training and evaluation time, added: the evaluations may have run beside the
    /// next epoch's training (see `train`), so the epochs' seconds can add up to more than the run's.
    pub seconds: f64,
    /// Of `seconds`, the updates alone and the evaluations.
    pub train_seconds: f64,
    pub eval_seconds: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub epochs: Vec<EpochRecord>,
}

/// The splits a history can have, with the spellings of their CSV column prefixes.
const SPLITS: [(&str, [&str; 2]); 3] = [
    ("train", ["train", "train"]),
    ("validation", ["val", "validation"]),
    ("test", ["test", "test"]),
];

/// One split's numbers per epoch; `None` where it was not measured.
#[derive(Clone, Debug, PartialEq)]
pub struct SplitCurve {
    pub split: &'static str,
    /// Accuracy in percent.
    pub accuracy: Vec<Option<f64>>,
    pub loss: Vec<Option<f64>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Curves {
    pub epochs: Vec<f64>,
    pub splits: Vec<SplitCurve>,
}

impl Curves {
    pub fn from_history(history: &History) -> Self {
        let epochs = history.epochs.iter().map(|r| r.epoch as f64).collect();
        let curve = |split, measured: fn(&EpochRecord) -> (Option<Accuracy>, Option<f64>)| SplitCurve {
            split,
            accuracy: history
                .epochs
                .iter()
                .map(|r| measured(r).0.map(|a| 100.0 * a.fraction()))
                .collect(),
            loss: history.epochs.iter().map(|r| measured(r).1).collect(),
        };
        let splits = [
            curve("train", |r| (r.train_accuracy, r.train_loss)),
            curve("validation", |r| (r.val_accuracy, r.val_loss)),
            curve("test", |r| (r.test_accuracy, r.test_loss)),
        ];
        // A split never measured has no curve.
        let splits = splits
            .into_iter()
            .filter(|s| s.accuracy.iter().any(Option::is_some))
            .collect();
        Self { epochs, splits }
    }
}
