//! The data of a run: the training set less the images held out for validation, the held-out
//! images, and the test set, all scaled alike. Hold-out and scaling happen here and nowhere else.

use super::RunError;
use crate::data::dataset::{DataDir, DataError, Dataset, load_split};
use crate::data::scaling::Scaling;
use crate::data::split::Split;
use crate::train::Splits;

#[derive(Clone, Debug)]
pub struct RunData {
    pub train: Dataset,
    /// Held out of the training set by the run's seed.
    pub validation: Option<Dataset>,
    pub test: Dataset,
}

impl RunData {
    /// The training and test splits in `dir`, with `val` training images held out as `seed`
    /// chooses them; every split scaled `Unit` until `scale`.
    pub fn load(dir: &DataDir, val: usize, seed: u64) -> anyhow::Result<Self> {
        // The two splits side by side: decompressing the files is most of the loading time.
        let (train, test) = rayon::join(|| load_split(dir, Split::Train), || load_split(dir, Split::Test));
        let (train, test) = (train?, test?);
        if test.features() != train.features() {
            return Err(DataError::Incompatible(format!(
                "{}: the test images are {}x{} but the training images {}x{}",
                dir.path.display(),
                test.rows,
                test.cols,
                train.rows,
                train.cols
            ))
            .into());
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
        for set in [Some(&mut self.train), self.validation.as_mut(), Some(&mut self.test)]
            .into_iter()
            .flatten()
        {
            set.scaling = scaling;
        }
    }

    pub fn splits(&self) -> Splits<'_> {
        Splits {
            train: &self.train,
            validation: self.validation.as_ref(),
            test: &self.test,
        }
    }
}
