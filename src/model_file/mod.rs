//! The saved model: a safetensors file that any safetensors reader can open.
//!
//! Tensors (little-endian f32 unless said):
//!
//! | name              | shape       | meaning                                  |
//! |-------------------|-------------|------------------------------------------|
//! | `layers.{i}.weight` | [in, out] | layer i computes z = x·W + b             |
//! | `layers.{i}.bias`   | [out]     |                                          |
//!
//! A checkpoint (written while training, so `mlp train --resume` continues exactly) adds:
//!
//! | name                                   | meaning                                                |
//! |----------------------------------------|--------------------------------------------------------|
//! | `checkpoint.order` (U32, [samples])    | the current epoch's order of the training samples       |
//! | `checkpoint.layers.{i}.weight`, `.bias` | the weights being trained, when the model kept (above) is not them: the best on validation, or the moving average of `--ema` |
//! | `checkpoint.average.layers.{i}.weight`, `.bias` | the moving average of `--ema`, when the model kept is the best on validation |
//! | `checkpoint.optimizer.{slot}.layers.{i}.weight`, `.bias` | optimizer state: `velocity` (momentum, nesterov) or `m`, `v` (adam, adamw) |
//!
//! Metadata (string to string, the safetensors `__metadata__`):
//!
//! | key               | value                                                           |
//! |-------------------|-----------------------------------------------------------------|
//! | `format`          | `mlp`                                                           |
//! | `format_version`  | `3` (versions 1 and 2 are read too; see below)                  |
//! | `layer_sizes`     | JSON list, input to output, e.g. `[784,100,10]`                 |
//! | `activation`      | hidden activation: sigmoid, tanh, relu, leaky-relu, identity    |
//! | `loss`            | cross-entropy, bce or mse                                       |
//! | `output_activation` | softmax (cross-entropy), sigmoid (bce), or mse's activation   |
//! | `input`           | JSON `{"rows":28,"cols":28,"scaling":"unit"}`: x = pixel / 255, or |
//! |                   | `{..,"scaling":"standard","mean":m,"std":s}`: x = (pixel/255 - m) / s; |
//! |                   | `"channels":3` for colour images (rows x cols x 3, channel last; absent: 1) |
//! | `classes`         | number of outputs, e.g. `10`                                    |
//! | `class_names`     | JSON list of what each output means, e.g. `["0","1",...]` or `["T-shirt/top",...]` |
//! | `dataset`         | the data set's name: `mnist`, `fashion-mnist`, or that of files read (e.g. a directory's) |
//! | `training`        | JSON object: the run's specification, a `run::RunSpec` (seed, epochs, lr, ...) |
//! | `checkpoint`      | JSON of the training configuration and the rest of the state: epoch, batches done, optimizer steps, the generator's seed/stream/word position, the best epoch, the history (wall times left out, so the same seed writes the same bytes) |
//! | `sha256`          | SHA-256 (hex) of every tensor (by name: the name, a 0 byte, its bytes) then every other metadata entry (by key: key, 0, value, 0) |
//!
//! Version 1 had `tensor_sha256` instead: the tensors' bytes in the order layers.0.weight,
//! layers.0.bias, layers.1.weight, ... Versions 1 and 2 have no `class_names`: their `dataset` is
//! `mnist` or `fashion-mnist` (version 1 may lack it: MNIST), whose classes the catalog names.
//! Version 3 added `class_names` and `channels`, and `dataset` may name a set read from files:
//! version 2 readers would take such a file for corrupt.
//!
//! The file is written with `crate::atomic_file`: to a temporary file beside the target, renamed
//! over it, so a reader sees the old file or the new one, never half of one.
//!
//! The parts: `header` the safetensors envelope both kinds of file share (the `format` keys, the
//! version check, the checksum, the sorted header), `tensors` layers to bytes and back, `model` the
//! network and what it was trained on, `checkpoint` the rest of a training state.

mod checkpoint;
mod header;
mod model;
pub(crate) mod tensors;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use safetensors::SafeTensors;
use serde::{Deserialize, Serialize};

use crate::atomic_file::write_atomically;
use crate::data::catalog::DatasetId;
use crate::data::classes::Classes;
use crate::data::dataset::ImageSize;
use crate::data::scaling::Scaling;
use crate::nn::Network;
use crate::train::{TrainConfig, TrainState};

pub(crate) use self::header::safetensors_bytes;
pub use self::model::output_activation_name;

use self::header::Metadata;

pub const FORMAT: &str = "mlp";
pub const FORMAT_VERSION: u32 = 3;

/// What the network's input is: the image shape it was trained on (rows x cols pixels of
/// `channels` values, channel last) and how pixels were scaled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    pub rows: usize,
    pub cols: usize,
    /// 1 (grey) or 3 (RGB); left out of the file when 1, as files before colour have it.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub channels: usize,
    #[serde(flatten)]
    pub scaling: Scaling,
}

fn one() -> usize {
    1
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

impl InputSpec {
    /// The image size the network reads.
    pub fn size(&self) -> ImageSize {
        ImageSize {
            rows: self.rows,
            cols: self.cols,
            channels: self.channels,
        }
    }
}

/// Everything about a model but its weights.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInfo {
    /// The data set the model was trained on.
    pub dataset: DatasetId,
    /// What each output means: one class per output.
    pub classes: Classes,
    pub input: InputSpec,
    /// The training settings, as recorded by whoever trained the model.
    pub training: serde_json::Map<String, serde_json::Value>,
}

/// A network with everything needed to use it again.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub network: Network<f32>,
    pub info: ModelInfo,
}

/// A training run saved with its model, to resume from.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub config: TrainConfig,
    pub state: TrainState<f32>,
}

/// A file's recorded checksum beside the one its content gives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChecksumCheck {
    /// The metadata key it is recorded under: `sha256`, or `tensor_sha256` in version 1.
    pub key: &'static str,
    pub recorded: String,
    pub computed: String,
}

impl ChecksumCheck {
    pub fn verifies(&self) -> bool {
        self.recorded == self.computed
    }

    /// The error a file whose checksum does not verify is refused with, if it does not.
    pub fn problem(&self) -> Option<ModelFormatError> {
        (!self.verifies()).then(|| {
            ModelFormatError::Corrupt(format!(
                "the content's SHA-256 is {}, not the {} recorded in the file",
                self.computed, self.recorded
            ))
        })
    }
}

/// A model file read whole with its checksum compared but not enforced: for reporting on a file
/// (`mlp info`), where a mismatch is something to say rather than a reason to stop.
#[derive(Clone, Debug, PartialEq)]
pub struct Inspection {
    pub version: u32,
    pub model: Model,
    pub checkpoint: Option<Checkpoint>,
    pub checksum: ChecksumCheck,
}

/// What is wrong with a model file's content, independent of where it came from.
#[derive(Debug, thiserror::Error)]
pub enum ModelFormatError {
    #[error("not a model file: not a readable safetensors file ({0}); is it truncated, or a file of another kind?")]
    NotSafetensors(String),
    #[error("a safetensors file but not an mlp model (its metadata has no format = \"mlp\")")]
    Foreign,
    #[error("model format version {0} is newer than this mlp reads (up to {FORMAT_VERSION}); update mlp")]
    FutureVersion(u32),
    #[error("corrupt model file: {0}")]
    Corrupt(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    #[error("cannot read model file {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write model file {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("{}: {source}", path.display())]
    Format { path: PathBuf, source: ModelFormatError },
}

/// Writes `network` and `info` to `path` atomically.
pub fn save(path: &Path, network: &Network<f32>, info: &ModelInfo) -> Result<(), ModelFileError> {
    write(path, &encode(network, info))
}

/// Writes the model `state` keeps, with the checkpoint of `state` and `config`, to `path` atomically.
pub fn save_checkpoint(
    path: &Path,
    config: &TrainConfig,
    state: &TrainState<f32>,
    info: &ModelInfo,
) -> Result<(), ModelFileError> {
    write(path, &encode_checkpoint(config, state, info))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ModelFileError> {
    write_atomically(path, bytes).map_err(|source| ModelFileError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Reads and validates the model at `path`.
pub fn load(path: &Path) -> Result<Model, ModelFileError> {
    load_checkpoint(path).map(|(model, _)| model)
}

/// Reads and validates the model at `path` with its checkpoint, if it has one.
pub fn load_checkpoint(path: &Path) -> Result<(Model, Option<Checkpoint>), ModelFileError> {
    read_with(path, decode_checkpoint)
}

/// Reads the model at `path` as `inspect_bytes` does: every check but the checksum's is enforced.
pub fn inspect(path: &Path) -> Result<Inspection, ModelFileError> {
    read_with(path, inspect_bytes)
}

fn read_with<T>(path: &Path, decode: impl FnOnce(&[u8]) -> Result<T, ModelFormatError>) -> Result<T, ModelFileError> {
    let bytes = fs::read(path).map_err(|source| ModelFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    decode(&bytes).map_err(|source| ModelFileError::Format {
        path: path.to_owned(),
        source,
    })
}

/// The model as safetensors bytes.
pub fn encode(network: &Network<f32>, info: &ModelInfo) -> Vec<u8> {
    header::seal(tensors::layer_tensors("", network), model::metadata(network, info))
}

/// The model `state` keeps, with the checkpoint of `state` and `config`, as safetensors bytes.
pub fn encode_checkpoint(config: &TrainConfig, state: &TrainState<f32>, info: &ModelInfo) -> Vec<u8> {
    let kept = state.kept();
    let mut tensors = tensors::layer_tensors("", kept);
    tensors.extend(checkpoint::tensors(state));
    let mut metadata = model::metadata(kept, info);
    metadata.insert("checkpoint".to_owned(), checkpoint::metadata(config, state));
    header::seal(tensors, metadata)
}

/// Parses and validates model bytes.
pub fn decode(bytes: &[u8]) -> Result<Model, ModelFormatError> {
    decode_checkpoint(bytes).map(|(model, _)| model)
}

/// Parses and validates model bytes with their checkpoint, if they have one: everything
/// `inspect_bytes` checks, and that the checksum verifies.
pub fn decode_checkpoint(bytes: &[u8]) -> Result<(Model, Option<Checkpoint>), ModelFormatError> {
    let Inspection {
        model,
        checkpoint,
        checksum,
        ..
    } = inspect_bytes(bytes)?;
    // Under the fuzzer (cargo-fuzz sets `cfg(fuzzing)`) a mutated file is allowed past the
    // checksum, which it could never match, so that the code after it and the targets' round
    // trips get run.
    match checksum.problem() {
        Some(problem) if !cfg!(fuzzing) => Err(problem),
        _ => Ok((model, checkpoint)),
    }
}

/// Parses and validates model bytes, comparing their checksum without enforcing it: the header and
/// its version, the model, the checkpoint, then that no tensor is missing or extra, and last the
/// checksum recorded (which must be there) against the content's.
pub fn inspect_bytes(bytes: &[u8]) -> Result<Inspection, ModelFormatError> {
    let not_safetensors = |e: safetensors::SafeTensorError| ModelFormatError::NotSafetensors(e.to_string());
    let file = SafeTensors::deserialize(bytes).map_err(not_safetensors)?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(not_safetensors)?;
    let metadata = Metadata::of_mlp(header.metadata())?;
    let version = metadata.version()?;
    let model = model::read(&file, &metadata, version)?;
    let checkpoint = match metadata.get("checkpoint") {
        Some(text) if version >= 2 => Some(checkpoint::read(&file, text, &model.network)?),
        _ => None,
    };
    check_tensor_count(&file, &model.network, checkpoint.as_ref())?;
    let checksum = metadata.checksum(&file, version, model.network.layers.len())?;
    Ok(Inspection {
        version,
        model,
        checkpoint,
        checksum,
    })
}

/// That `file` holds exactly the tensors its model and checkpoint name: a tensor more is as corrupt
/// as one missing.
fn check_tensor_count(
    file: &SafeTensors<'_>,
    network: &Network<f32>,
    checkpoint: Option<&Checkpoint>,
) -> Result<(), ModelFormatError> {
    let expected_tensors = match checkpoint {
        None => 2 * network.layers.len(),
        Some(c) => {
            // The kept layers, the trained ones and the average when they differ, each optimizer
            // slot, the order.
            let (trained, average) = checkpoint::layer_copies(c.state.best.is_some(), c.state.average.is_some());
            let copies = 1 + usize::from(trained) + usize::from(average) + c.config.optimizer.slot_names().len();
            2 * network.layers.len() * copies + 1
        }
    };
    if file.len() != expected_tensors {
        return Err(ModelFormatError::Corrupt(format!(
            "{} tensors where layer_sizes {:?}{} needs {expected_tensors}",
            file.len(),
            network.sizes(),
            if checkpoint.is_some() {
                " with its checkpoint"
            } else {
                ""
            }
        )));
    }
    Ok(())
}
