//! What a model file holds, as one plain value: its format and checksum, the data set and class
//! names, the layers, the loss and input scaling, the training settings as recorded, and the run's
//! state. `mlp info` prints it (as JSON or as text); it is serde data, not text, so that anything
//! else that reports on a model gives the same content.
//!
//! The run's state comes from the checkpoint (saved after every epoch by `mlp train`):
//!
//! ```text
//! finished       epochs done = the settings' epochs, or the updates reached `steps`
//! stopped-early  `patience` epochs passed without a better validation result
//! in-progress    neither: a checkpoint to continue with `mlp train --resume FILE`
//! no-checkpoint  a file without a training state (version 1, or saved without one)
//! ```
//!
//! The model a file keeps is the last epoch's, or with validation data the best epoch's; its test
//! accuracy is the one recorded for that epoch.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::metrics::Accuracy;
use crate::model_file::{self, Checkpoint, ChecksumCheck, InputSpec, Inspection, ModelFileError};
use crate::run::RunSpec;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelSummary {
    pub file: PathBuf,
    pub format_version: u32,
    /// Whether `checksum.recorded` is `checksum.computed`.
    pub checksum_verifies: bool,
    pub checksum: ChecksumCheck,
    pub dataset: DatasetSummary,
    /// Input to output.
    pub layers: Vec<LayerSummary>,
    /// All weights and biases.
    pub parameters: usize,
    pub loss: String,
    pub output_activation: String,
    pub input: InputSpec,
    pub training: TrainingSummary,
    pub state: RunState,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatasetSummary {
    /// As `--dataset` spells it, or the name of the files the model was trained on.
    pub name: String,
    pub title: String,
    /// What output k means, for each k.
    pub classes: Vec<String>,
}

/// One dense layer: z = x·W + b, then its activation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerSummary {
    pub inputs: usize,
    pub outputs: usize,
    /// The hidden activation, or the output's (`softmax` for cross-entropy).
    pub activation: String,
    /// inputs × outputs weights plus outputs biases.
    pub parameters: usize,
}

/// The training settings as the file records them: parsed as an mlp run's when they are one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainingSummary {
    /// The settings of an `mlp train` run.
    pub spec: Option<RunSpec>,
    /// Why the recorded settings are not an mlp run's, when they are not.
    pub not_a_run: Option<String>,
    /// The `training` metadata as it is in the file.
    pub recorded: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    Finished,
    StoppedEarly,
    InProgress,
    NoCheckpoint,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunState {
    pub status: RunStatus,
    /// Epochs finished: from the checkpoint, else the `epochs_completed` a file recorded, if any.
    pub epochs_done: Option<usize>,
    /// The epochs the run was to train (after `steps` turned into epochs).
    pub epochs: Option<usize>,
    /// Updates made in all, and the limit on them when the run had one.
    pub updates: Option<u64>,
    pub steps: Option<usize>,
    /// Batches done of the epoch after `epochs_done`: more than 0 when interrupted mid-epoch.
    pub batches_done: usize,
    /// The epoch whose network the file keeps.
    pub kept_epoch: Option<usize>,
    /// With validation data: the best epoch and its validation accuracy.
    pub best_epoch: Option<usize>,
    pub best_validation_accuracy: Option<Accuracy>,
    /// The kept network's test accuracy, recorded when its epoch ended.
    pub test_accuracy: Option<Accuracy>,
}

impl ModelSummary {
    /// The summary of the model file at `path`. A checksum that does not verify is reported in
    /// `checksum`; every other flaw of the file is an error.
    pub fn read(path: &Path) -> Result<Self, ModelFileError> {
        Ok(Self::of(path, model_file::inspect(path)?))
    }

    /// The summary of `inspection`, read from `path`.
    pub fn of(path: &Path, inspection: Inspection) -> Self {
        let Inspection {
            version,
            model,
            checkpoint,
            checksum,
        } = inspection;
        let network = &model.network;
        let last = network.layers.len() - 1;
        let output_activation = model_file::output_activation_name(network.loss).to_owned();
        let sizes = network.sizes();
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(i, io)| LayerSummary {
                inputs: io[0],
                outputs: io[1],
                activation: if i == last {
                    output_activation.clone()
                } else {
                    network.activation.name().to_owned()
                },
                parameters: io[0] * io[1] + io[1],
            })
            .collect();
        let dataset = model.info.dataset;
        let classes = model.info.classes.names().to_vec();
        let recorded = model.info.training;
        let (spec, not_a_run) = match serde_json::from_value::<RunSpec>(serde_json::Value::Object(recorded.clone())) {
            Ok(spec) => (Some(spec), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let epochs_completed = recorded
            .get("epochs_completed")
            .and_then(serde_json::Value::as_u64)
            .map(|e| e as usize);
        let state = match &checkpoint {
            Some(c) => RunState::of(c),
            None => RunState {
                status: RunStatus::NoCheckpoint,
                epochs_done: epochs_completed,
                epochs: spec.as_ref().map(|s| s.train.epochs),
                updates: None,
                steps: spec.as_ref().and_then(|s| s.train.steps),
                batches_done: 0,
                kept_epoch: None,
                best_epoch: None,
                best_validation_accuracy: None,
                test_accuracy: None,
            },
        };
        Self {
            file: path.to_owned(),
            format_version: version,
            checksum_verifies: checksum.verifies(),
            checksum,
            dataset: DatasetSummary {
                name: dataset.name().to_owned(),
                title: dataset.title().to_owned(),
                classes,
            },
            layers,
            parameters: network.parameter_count(),
            loss: network.loss.name().to_owned(),
            output_activation,
            input: model.info.input,
            training: TrainingSummary {
                spec,
                not_a_run,
                recorded,
            },
            state,
        }
    }
}

impl RunState {
    /// Where the run saved in `checkpoint` stands.
    pub fn of(checkpoint: &Checkpoint) -> RunState {
        let Checkpoint { config, state } = checkpoint;
        let updates = state.optimizer.steps;
        let between_epochs = state.batches_done == 0;
        let status = if between_epochs && config.patience.is_some_and(|p| state.stale_epochs >= p) {
            RunStatus::StoppedEarly
        } else if between_epochs && (state.epoch >= config.epochs || config.steps.is_some_and(|s| updates >= s as u64))
        {
            RunStatus::Finished
        } else {
            RunStatus::InProgress
        };
        let kept_epoch = match &state.best {
            Some(b) => b.epoch,
            None => state.epoch,
        };
        let test_accuracy = state
            .history
            .epochs
            .iter()
            .find(|r| r.epoch == kept_epoch)
            .and_then(|r| r.test_accuracy);
        RunState {
            status,
            epochs_done: Some(state.epoch),
            epochs: Some(config.epochs),
            updates: Some(updates),
            steps: config.steps,
            batches_done: state.batches_done,
            kept_epoch: (kept_epoch > 0).then_some(kept_epoch),
            best_epoch: state.best.as_ref().map(|b| b.epoch),
            best_validation_accuracy: state.best.as_ref().map(|b| b.accuracy),
            test_accuracy,
        }
    }

    /// How far the run got, for a reader: `1 of 3 epochs done and 5 batches of the next, 45 updates`
    /// (the batches only when an epoch was cut short, the updates only from a checkpoint).
    pub fn progress(&self) -> String {
        let of_epochs = match (self.epochs_done, self.epochs) {
            (Some(done), Some(epochs)) => format!("{done} of {epochs} epochs done"),
            (Some(done), None) => format!("{done} epochs done"),
            (None, _) => "epochs done not recorded".to_owned(),
        };
        let batches = if self.batches_done > 0 {
            format!(" and {} batches of the next", self.batches_done)
        } else {
            String::new()
        };
        let updates = self.updates.map_or_else(String::new, |u| match self.steps {
            Some(steps) => format!(", {u} of {steps} updates"),
            None => format!(", {u} updates"),
        });
        format!("{of_epochs}{batches}{updates}")
    }
}
