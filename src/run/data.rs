//! The data of a run: the training set less the images held out for validation, the held-out
//! images, and the test set, all of the same classes and scaled alike. Hold-out, the classes of
//! the splits together, and scaling happen here and nowhere else.

use super::RunError;
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
    /// The splits of the data set in `dir`, with `val` training images held out as `seed` chooses
    /// them; every split scaled `Unit` until `scale`. The splits are of `classes` when given (a
    /// resumed run's), else of the data set's: a known set's, or as many as the largest label of
    /// all splits + 1.
    pub fn load(dir: &DataDir, val: usize, seed: u64, classes: Option<&Classes>) -> anyhow::Result<Self> {
        let source::Splits { mut train, test, .. } = source::load_splits(dir, classes)?;
        let mut test = test;
        if let Some(test) = &test
            && test.size() != train.size()
        {
            return Err(DataError::Incompatible(format!(
                "{}: the test images are {} but the training images {}",
                dir.path.display(),
                test.size(),
                train.size()
            ))
            .into());
        }
        if let Some(test) = &mut test
            && train.classes() != test.classes()
        {
            // Sets read from files, counted split by split: the classes of both.
            let classes = Classes::numbered(train.classes().len().max(test.classes().len()));
            train.set_classes(classes.clone());
            test.set_classes(classes);
        }
        if val == 0 {
            return Ok(Self {
                train,
                validation: None,
                test,
            });
        }
        if val >= train.len() {
            return Err(RunError::HoldOutTooLarge {
                val,
                samples: train.len(),
            }
            .into());
        }
        let (train, validation) = train.hold_out(val, seed);
        Ok(Self {
            train,
            validation: Some(validation),
            test,
        })
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
