//! The data of a run: the training set less the images held out for validation, the held-out
//! images, and the test set, all of the same classes and scaled alike. Hold-out, the classes of
//! the splits together, and scaling happen here and nowhere else.

use super::{RunError, Validation};
use crate::data::classes::Classes;
use crate::data::dataset::{DataDir, DataError, Dataset};
use crate::data::scaling::Scaling;
use crate::data::source;
use crate::train::Splits;

#[derive(Clone, Debug)]
pub struct RunData {
    pub train: Dataset,
    /// Held out of the training set by the run's seed.
    pub validation: Option<Dataset>,
    /// `None` when the data set has no test split (a CSV file without a test file).
    pub test: Option<Dataset>,
}

impl RunData {
    /// The splits of the data set in `dir`, validated by `val`: training images held out as
    /// `seed` chooses them, or the file's own validation split; every split scaled `Unit` until
    /// `scale`. The splits are of `classes` when given (a resumed run's), else of the data set's:
    /// a known set's, or as many as the largest label of all splits + 1.
    pub fn load(dir: &DataDir, val: Validation, seed: u64, classes: Option<&Classes>) -> anyhow::Result<Self> {
        let source::Splits {
            train,
            val: file_val,
            test,
        } = source::load_splits(dir, classes)?;
        let (train, validation) = match val {
            Validation::Held(0) => (train, None),
            Validation::Held(n) if n >= train.len() => {
                return Err(RunError::HoldOutTooLarge {
                    val: n,
                    samples: train.len(),
                }
                .into());
            }
            Validation::Held(n) => {
                let (train, validation) = train.hold_out(n, seed);
                (train, Some(validation))
            }
            Validation::FileSplit => {
                let validation = file_val.ok_or_else(|| RunError::NoValidationSplit { path: dir.path.clone() })?;
                (train, Some(validation))
            }
        };
        let mut data = Self {
            train,
            validation,
            test,
        };
        for (name, other) in [("validation", &data.validation), ("test", &data.test)] {
            if let Some(other) = other
                && other.size() != data.train.size()
            {
                return Err(DataError::Incompatible(format!(
                    "{}: the {name} images are {} but the training images {}",
                    dir.path.display(),
                    other.size(),
                    data.train.size()
                ))
                .into());
            }
        }
        data.share_classes();
        Ok(data)
    }

    /// Splits read from files are counted split by split: when they differ, each gets the classes
    /// of all (as many as the most).
    fn share_classes(&mut self) {
        let splits = || {
            [Some(&self.train), self.validation.as_ref(), self.test.as_ref()]
                .into_iter()
                .flatten()
        };
        let most = splits().map(|s| s.classes().len()).max().unwrap_or(0);
        if splits().all(|s| s.classes() == self.train.classes()) {
            return;
        }
        let classes = Classes::numbered(most);
        for set in [Some(&mut self.train), self.validation.as_mut(), self.test.as_mut()]
            .into_iter()
            .flatten()
        {
            set.set_classes(classes.clone());
        }
    }

    /// Scales every split by `scaling`.
    pub fn scale(&mut self, scaling: Scaling) {
        for set in [Some(&mut self.train), self.validation.as_mut(), self.test.as_mut()]
            .into_iter()
            .flatten()
        {
            set.scaling = scaling;
        }
    }

    /// The classes no training image has (after the hold-out), in order.
    pub fn empty_classes(&self) -> Vec<usize> {
        self.train.empty_classes()
    }

    pub fn splits(&self) -> Splits<'_> {
        Splits {
            train: &self.train,
            validation: self.validation.as_ref(),
            test: self.test.as_ref(),
        }
    }
}
