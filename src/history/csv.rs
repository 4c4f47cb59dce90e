//! The history CSV: one row per finished epoch, flushed as it is written, and read back (also from
//! CSVs written by other tools) into `Curves`.
//!
//! | column                                  | holds                                              |
//! |-----------------------------------------|----------------------------------------------------|
//! | `epoch`                                 | the epoch number (required)                        |
//! | `train_acc`, `val_acc`, `test_acc`      | accuracy, as a fraction (0.9812) or percent (98.12) |
//! | `train_loss`, `val_loss`, `test_loss`   | mean loss                                          |
//! | `lr`, `seconds`                         | the epoch's last learning rate, its training and evaluation time |
//!
//! mlp writes fractions, empty where a split was not measured (no validation or test set, or
//! `--train-eval 0`). Reading, `_accuracy` may stand for
//! `_acc`, and `validation` for `val`; empty cells are skipped, other columns ignored.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{Curves, EpochRecord, SPLITS, SplitCurve};
use crate::data::table::{NumericTable, TableError};

/// The columns mlp writes.
pub const HEADER: &str = "epoch,lr,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,seconds";

/// A history CSV open for appending a row per finished epoch.
pub struct HistoryFile {
    path: PathBuf,
    file: File,
}

impl HistoryFile {
    /// Opens `path` for appending, writing the header when the file is new or empty.
    pub fn open(path: &Path) -> io::Result<Self> {
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        if file.metadata()?.len() == 0 {
            writeln!(file, "{HEADER}")?;
        }
        Ok(Self {
            path: path.to_owned(),
            file,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the row of `r` and flushes it, so that a run stopped at any time leaves whole rows.
    pub fn append(&mut self, r: &EpochRecord) -> io::Result<()> {
        let optional = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
        writeln!(
            self.file,
            "{},{},{},{},{},{},{},{},{:.3}",
            r.epoch,
            r.lr,
            optional(r.train_loss),
            optional(r.train_accuracy.map(|a| a.fraction())),
            optional(r.val_loss),
            optional(r.val_accuracy.map(|a| a.fraction())),
            optional(r.test_loss),
            optional(r.test_accuracy.map(|a| a.fraction())),
            r.seconds
        )?;
        self.file.flush()
    }
}

impl Curves {
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
        for (split, prefixes) in SPLITS {
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
}
