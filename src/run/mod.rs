//! A training run as a library: start one from its specification (`RunSpec`), or resume one from
//! the checkpoint its model file holds; then train it, observing it as it goes, and save it.
//!
//! ```text
//! start(spec, dir):  load the data (hold out `val` images; the classes are the data set's)
//!                    -> fit the scaling on the training images -> scale every split
//!                    -> initialize the network from the seed, one output per class
//! resume(path, dir): read the checkpoint -> load the data as the spec says, of the model's
//!                    classes -> check they fit the checkpoint -> scale as the model was trained
//! ```
//!
//! Errors name no flags: whatever fills the specification words them for its users (`RunError`).

mod data;
mod spec;

use std::path::{Path, PathBuf};

use anyhow::Context;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use data::RunData;
pub use spec::{RunSpec, Validation};

use crate::data::catalog::DatasetId;
use crate::data::dataset::{DataDir, DataError};
use crate::model_file::{self, InputSpec, ModelFileError, ModelInfo};
use crate::nn::Network;
use crate::train::{Observer, Outcome, TrainConfig, TrainState, train};

/// What stops a run from starting, in terms of its specification.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the batch size {batch_size} is larger than the training set ({samples} samples)")]
    BatchTooLarge { batch_size: usize, samples: usize },
    #[error("holding out {val} validation images leaves no training images: the training set has {samples}")]
    HoldOutTooLarge { val: usize, samples: usize },
    #[error("standard scaling: every training pixel in {} has the same value", dir.display())]
    ConstantPixels { dir: PathBuf },
    #[error("early stopping needs validation data")]
    PatienceWithoutValidation,
    #[error("{} has no validation split of its own (MedMNIST's npz files have one)", path.display())]
    NoValidationSplit { path: PathBuf },
    #[error("{}: the file holds a model but no training state to continue from", path.display())]
    NoCheckpoint { path: PathBuf },
    #[error("{}: its training settings are not those of an mlp run: {problem}", path.display())]
    NoSpec { path: PathBuf, problem: String },
    #[error("the run is {done} {unit} in already; it cannot end at {asked}")]
    ShorterThanDone {
        unit: &'static str,
        done: u64,
        asked: usize,
    },
    #[error("the run counts its length in {counted}, not {asked}")]
    OtherUnit { counted: &'static str, asked: &'static str },
}

/// Where a run ends: after this many epochs, or this many updates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunLength {
    Epochs(usize),
    Steps(usize),
}

/// A run ready to train: its state, what its model file records, and its data.
pub struct Run {
    pub spec: RunSpec,
    pub state: TrainState<f32>,
    /// The image shape the network reads and the scaling of its inputs.
    pub input: InputSpec,
    pub data: RunData,
}

impl Run {
    /// Trains until the run ends, early stopping ends it, or `observer` asks to stop.
    pub fn train(&mut self, observer: &mut dyn Observer<f32>) -> anyhow::Result<Outcome> {
        train(&mut self.state, self.data.splits(), &self.spec.train, observer)
    }

    /// Makes the run end at `length` instead, in the unit it counts: a finished or interrupted
    /// run then trains on to it. Schedules that do not depend on the run's length (constant, step,
    /// warm-up) give the very run that was started with `length`; cosine's curve is stretched to
    /// the new end from where the run stands.
    pub fn train_on_to(&mut self, length: RunLength) -> Result<(), RunError> {
        let config = &mut self.spec.train;
        let samples = self.state.order.len();
        match (length, config.steps) {
            (RunLength::Epochs(epochs), None) => {
                if epochs < self.state.epoch {
                    let done = self.state.epoch as u64;
                    return Err(RunError::ShorterThanDone {
                        unit: "epochs",
                        done,
                        asked: epochs,
                    });
                }
                config.epochs = epochs;
            }
            (RunLength::Steps(steps), Some(_)) => {
                if (steps as u64) < self.state.optimizer.steps {
                    let done = self.state.optimizer.steps;
                    return Err(RunError::ShorterThanDone {
                        unit: "updates",
                        done,
                        asked: steps,
                    });
                }
                config.steps = Some(steps);
                config.epochs = steps.div_ceil(config.batches_per_epoch(samples));
            }
            (RunLength::Epochs(_), Some(_)) => {
                return Err(RunError::OtherUnit {
                    counted: "updates",
                    asked: "epochs",
                });
            }
            (RunLength::Steps(_), None) => {
                return Err(RunError::OtherUnit {
                    counted: "epochs",
                    asked: "updates",
                });
            }
        }
        Ok(())
    }

    pub fn config(&self) -> &TrainConfig {
        &self.spec.train
    }

    /// The classes no training image has (the network still has an output for each); a data
    /// set read from files may skip some labels, or the hold-out take a class's only images.
    pub fn empty_classes(&self) -> Vec<usize> {
        self.data.empty_classes()
    }

    /// What the model file records besides the weights.
    pub fn info(&self) -> ModelInfo {
        let training = serde_json::to_value(&self.spec).expect("a spec is plain data");
        ModelInfo {
            dataset: self.spec.dataset.clone(),
            classes: self.data.train.classes().clone(),
            input: self.input.clone(),
            training: match training {
                serde_json::Value::Object(map) => map,
                _ => unreachable!("a spec is a JSON object"),
            },
        }
    }

    /// Writes the model kept so far and the run's checkpoint to `path`, whole.
    pub fn save(&self, path: &Path) -> Result<(), ModelFileError> {
        model_file::save_checkpoint(path, &self.spec.train, &self.state, &self.info())
    }
}

/// A new run of `spec` on the data set in `dir` (which the spec then records, with the data set).
pub fn start(mut spec: RunSpec, dir: &DataDir) -> anyhow::Result<Run> {
    if spec.train.patience.is_some() && spec.val.is_none() {
        return Err(RunError::PatienceWithoutValidation.into());
    }
    spec.data_dir.clone_from(&dir.path);
    spec.dataset = dir.dataset.clone();
    spec.test_data.clone_from(&dir.test_file);
    spec.image_size = dir.image_size;
    let mut data = RunData::load(dir, spec.val, spec.seed, None)?;
    let samples = data.train.len();
    let config = &mut spec.train;
    if config.batch_size > samples {
        let batch_size = config.batch_size;
        return Err(RunError::BatchTooLarge { batch_size, samples }.into());
    }
    if let Some(steps) = config.steps {
        config.epochs = steps.div_ceil(config.batches_per_epoch(samples));
    }
    let scaling = spec
        .scaling
        .fit(data.train.images())
        .ok_or_else(|| RunError::ConstantPixels { dir: dir.path.clone() })?;
    data.scale(scaling);

    let mut sizes = vec![data.train.features()];
    sizes.extend(&spec.hidden);
    sizes.push(data.train.classes().len());
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let network = Network::<f32>::new(&sizes, spec.activation, spec.loss, spec.init, &mut rng);
    let input = InputSpec {
        rows: data.train.rows,
        cols: data.train.cols,
        channels: data.train.channels,
        scaling,
    };
    Ok(Run {
        state: TrainState::new(network, spec.train.optimizer, rng, samples),
        spec,
        input,
        data,
    })
}

/// The run saved in the checkpoint at `path`, on its data set in the directory `data_dir` chooses
/// for it from the data set and the directory the run recorded.
pub fn resume(path: &Path, data_dir: impl FnOnce(&DatasetId, &Path) -> DataDir) -> anyhow::Result<Run> {
    let (model, checkpoint) = model_file::load_checkpoint(path)?;
    let checkpoint = checkpoint.ok_or_else(|| RunError::NoCheckpoint { path: path.to_owned() })?;
    let recorded = serde_json::Value::Object(model.info.training);
    let mut spec: RunSpec = serde_json::from_value(recorded).map_err(|e| RunError::NoSpec {
        path: path.to_owned(),
        problem: e.to_string(),
    })?;
    // The file's `input` is what the network was trained on; older files record the choice only there.
    let input = model.info.input;
    spec.scaling = input.scaling.choice();
    spec.train = checkpoint.config;
    let mut dir = data_dir(&spec.dataset, &spec.data_dir);
    // A CSV set's test file and image size go with its training file, wherever that is now.
    if dir.test_file.is_none() {
        dir.test_file.clone_from(&spec.test_data);
    }
    dir.image_size = dir.image_size.or(spec.image_size);
    let mut data = RunData::load(&dir, spec.val, spec.seed, Some(&model.info.classes))?;
    check_fits(&data, &input, &checkpoint.state, &dir).with_context(|| path.display().to_string())?;
    data.scale(input.scaling);
    Ok(Run {
        spec,
        state: checkpoint.state,
        input,
        data,
    })
}

/// Whether `data` (read from `dir`) are the data the checkpoint was trained on, as far as sizes tell.
fn check_fits(data: &RunData, input: &InputSpec, state: &TrainState<f32>, dir: &DataDir) -> Result<(), DataError> {
    let train = &data.train;
    if train.size() != input.size() {
        return Err(DataError::Incompatible(format!(
            "trained on {} images but those in {} are {}",
            input.size(),
            dir.path.display(),
            train.size()
        )));
    }
    if train.len() != state.order.len() {
        let held_out = data.validation.as_ref().map_or(0, |v| v.len());
        return Err(DataError::Incompatible(format!(
            "trained on {} images but {} has {} (after holding out {held_out})",
            state.order.len(),
            dir.path.display(),
            train.len()
        )));
    }
    Ok(())
}
