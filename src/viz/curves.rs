//! Learning curves, the classic accuracy-versus-epochs figure: accuracy (in %) per epoch on the left,
//! loss per epoch on the right, one line per split (train, validation, test).
//!
//! The curves come from a training run's `History`, or from a history CSV with a header:
//!
//! | column                                  | holds                                              |
//! |-----------------------------------------|----------------------------------------------------|
//! | `epoch`                                 | the epoch number (required)                        |
//! | `train_acc`, `val_acc`, `test_acc`      | accuracy, as a fraction (0.9812) or percent (98.12) |
//! | `train_loss`, `val_loss`, `test_loss`   | mean loss                                          |
//!
//! `_accuracy` may stand for `_acc`, and `validation` for `val`. Empty cells are skipped; other
//! columns (lr, seconds, ...) are ignored.

use std::path::Path;

use super::Format;
use super::chart::{self, BLUE, Frame, GREEN, Legend, Panel, RED, Series, Style};
use crate::data::table::{NumericTable, TableError};
use crate::history::History;

/// The splits a history can have, with their colours and the spellings of their CSV column prefixes.
const SPLITS: [(&str, [&str; 2], [u8; 3]); 3] = [
    ("train", ["train", "train"], BLUE),
    ("validation", ["val", "validation"], GREEN),
    ("test", ["test", "test"], RED),
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
        let percent = |a: crate::metrics::Accuracy| Some(100.0 * a.fraction());
        let train = SplitCurve {
            split: "train",
            accuracy: history.epochs.iter().map(|r| percent(r.train_accuracy)).collect(),
            loss: history.epochs.iter().map(|r| Some(r.train_loss)).collect(),
        };
        let validation = SplitCurve {
            split: "validation",
            accuracy: history
                .epochs
                .iter()
                .map(|r| r.val_accuracy.and_then(percent))
                .collect(),
            loss: history.epochs.iter().map(|r| r.val_loss).collect(),
        };
        let test = SplitCurve {
            split: "test",
            accuracy: history.epochs.iter().map(|r| percent(r.test_accuracy)).collect(),
            loss: history.epochs.iter().map(|r| Some(r.test_loss)).collect(),
        };
        let mut splits = vec![train, test];
        if validation.accuracy.iter().any(Option::is_some) {
            splits.insert(1, validation);
        }
        Self { epochs, splits }
    }

    /// Reads a history CSV (see the module documentation).
    pub fn from_csv(path: &Path) -> Result<Self, TableError> {
        Self::from_table(&NumericTable::read(path)?)
    }

    pub fn from_table(table: &NumericTable) -> Result<Self, TableError> {
        let problem = |message: String| TableError::Csv {
            path: table.path.clone(),
            message,
        };
        let Some(epoch_column) = table.column("epoch") else {
            return Err(problem(
                "no `epoch` column; a history CSV has a header with epoch and columns such as train_acc, test_acc, train_loss"
                    .to_owned(),
            ));
        };
        let mut epochs = Vec::with_capacity(table.rows.len());
        for (row, line) in table.rows.iter().zip(&table.lines) {
            let epoch = row[epoch_column].ok_or_else(|| problem(format!("line {line}: the epoch is empty")))?;
            epochs.push(epoch);
        }
        let find = |prefixes: [&str; 2], suffixes: &[&str]| {
            prefixes
                .iter()
                .flat_map(|p| suffixes.iter().map(move |s| format!("{p}_{s}")))
                .find_map(|name| table.column(&name))
        };
        let column = |j: Option<usize>| -> Vec<Option<f64>> {
            j.map_or_else(
                || vec![None; table.rows.len()],
                |j| table.rows.iter().map(|r| r[j]).collect(),
            )
        };
        let mut splits = Vec::new();
        for (split, prefixes, _) in SPLITS {
            let accuracy = column(find(prefixes, &["acc", "accuracy"]));
            let loss = column(find(prefixes, &["loss"]));
            if accuracy.iter().chain(&loss).any(Option::is_some) {
                splits.push(SplitCurve { split, accuracy, loss });
            }
        }
        if splits.is_empty() {
            return Err(problem(
                "no accuracy or loss columns (such as train_acc, test_acc, train_loss) with values".to_owned(),
            ));
        }
        // Fractions become percents; a history in percent already has values above 1.
        let all_accuracies = splits.iter().flat_map(|s| s.accuracy.iter().flatten());
        if all_accuracies.clone().all(|&a| a <= 1.0) {
            for split in &mut splits {
                split.accuracy.iter_mut().flatten().for_each(|a| *a *= 100.0);
            }
        }
        Ok(Self { epochs, splits })
    }

    /// The accuracy panel and the loss panel, each left out when it has no values.
    pub fn panels(&self) -> Vec<Panel> {
        let series = |pick: fn(&SplitCurve) -> &Vec<Option<f64>>| -> Vec<Series> {
            self.splits
                .iter()
                .filter_map(|curve| {
                    let points: Vec<(f64, f64)> = self
                        .epochs
                        .iter()
                        .zip(pick(curve))
                        .filter_map(|(&e, v)| v.map(|v| (e, v)))
                        .collect();
                    let colour = SPLITS.iter().find(|s| s.0 == curve.split).map_or(BLUE, |s| s.2);
                    (!points.is_empty()).then(|| Series {
                        name: curve.split.to_owned(),
                        points,
                        colour,
                        style: Style::LineWithPoints,
                    })
                })
                .collect()
        };
        let panel = |title: &str, y_label: &str, legend, series: Vec<Series>| Panel {
            title: title.to_owned(),
            x_label: "epoch".to_owned(),
            y_label: y_label.to_owned(),
            whole_x: true,
            legend,
            series,
        };
        [
            panel("accuracy", "accuracy (%)", Legend::LowerRight, series(|c| &c.accuracy)),
            panel("loss", "mean loss", Legend::UpperRight, series(|c| &c.loss)),
        ]
        .into_iter()
        .filter(|p| !p.series.is_empty())
        .collect()
    }

    /// The curves as a picture, with the frame of each panel (accuracy first).
    pub fn render(&self, format: Format) -> anyhow::Result<(Vec<u8>, Vec<Frame>)> {
        let panels = self.panels();
        let width = 520 * panels.len() as u32;
        chart::render(&panels, (width, 420), format)
    }
}
