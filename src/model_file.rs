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
//! | `checkpoint.layers.{i}.weight`, `.bias` | the weights being trained, when the model kept (above) is the best on validation instead |
//! | `checkpoint.optimizer.{slot}.layers.{i}.weight`, `.bias` | optimizer state: `velocity` (momentum, nesterov) or `m`, `v` (adam, adamw) |
//!
//! Metadata (string to string, the safetensors `__metadata__`):
//!
//! | key               | value                                                           |
//! |-------------------|-----------------------------------------------------------------|
//! | `format`          | `mlp`                                                           |
//! | `format_version`  | `2` (version 1 files, which have no checkpoint, are read too)  |
//! | `layer_sizes`     | JSON list, input to output, e.g. `[784,100,10]`                 |
//! | `activation`      | hidden activation: sigmoid, tanh, relu, leaky-relu, identity    |
//! | `loss`            | cross-entropy, bce or mse                                       |
//! | `output_activation` | softmax (cross-entropy), sigmoid (bce), or mse's activation   |
//! | `input`           | JSON `{"rows":28,"cols":28,"scaling":"unit"}`: x = pixel / 255, or |
//! |                   | `{..,"scaling":"standard","mean":m,"std":s}`: x = (pixel/255 - m) / s |
//! | `classes`         | number of outputs, e.g. `10`                                    |
//! | `dataset`         | the data set trained on: `mnist` or `fashion-mnist`; names the classes |
//! | `training`        | JSON object of the training settings (seed, epochs, lr, ...)    |
//! | `checkpoint`      | JSON of the training configuration and the rest of the state: epoch, batches done, optimizer steps, the generator's seed/stream/word position, the best epoch, the history (wall times left out, so the same seed writes the same bytes) |
//! | `sha256`          | SHA-256 (hex) of every tensor (by name: the name, a 0 byte, its bytes) then every other metadata entry (by key: key, 0, value, 0) |
//!
//! Version 1 had `tensor_sha256` instead: the tensors' bytes in the order layers.0.weight,
//! layers.0.bias, layers.1.weight, ...
//!
//! The file is written with `crate::atomic_file`: to a temporary file beside the target, renamed
//! over it, so a reader sees the old file or the new one, never half of one.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::atomic_file::write_atomically;
use crate::data::catalog::KnownDataset;
use crate::data::scaling::Scaling;
use crate::metrics::Accuracy;
use crate::nn::loss::OutputActivation;
use crate::nn::{Activation, Dense, Loss, Network};
use crate::optim::Optimizer;
use crate::train::{Best, History, TrainConfig, TrainState};

pub const FORMAT: &str = "mlp";
pub const FORMAT_VERSION: u32 = 2;

/// What the network's input is: the image shape it was trained on and how pixels were scaled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    pub rows: usize,
    pub cols: usize,
    #[serde(flatten)]
    pub scaling: Scaling,
}

/// Everything about a model but its weights.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInfo {
    /// The data set the model was trained on, which says what each output class means.
    pub dataset: KnownDataset,
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

/// The parts of a checkpoint that are not tensors, as the `checkpoint` metadata.
#[derive(Debug, Serialize, Deserialize)]
struct CheckpointMeta {
    config: TrainConfig,
    epoch: usize,
    batches_done: usize,
    optimizer_steps: u64,
    /// The generator: its 32-byte seed (hex), stream and position in 32-bit words (decimal; a u128).
    rng_seed: String,
    rng_stream: u64,
    rng_word_pos: String,
    best: Option<BestMeta>,
    stale_epochs: usize,
    history: History,
}

#[derive(Debug, Serialize, Deserialize)]
struct BestMeta {
    epoch: usize,
    accuracy: Accuracy,
    loss: f64,
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
    let bytes = fs::read(path).map_err(|source| ModelFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    decode_checkpoint(&bytes).map_err(|source| ModelFileError::Format {
        path: path.to_owned(),
        source,
    })
}

fn tensor_names(layer: usize) -> [String; 2] {
    [format!("layers.{layer}.weight"), format!("layers.{layer}.bias")]
}

fn output_activation_name(loss: Loss) -> &'static str {
    match loss.output_activation() {
        OutputActivation::Softmax => "softmax",
        OutputActivation::Elementwise(a) => a.name(),
    }
}

/// The model as safetensors bytes.
pub fn encode(network: &Network<f32>, info: &ModelInfo) -> Vec<u8> {
    encode_parts(network, info, None)
}

/// The model `state` keeps, with the checkpoint of `state` and `config`, as safetensors bytes.
pub fn encode_checkpoint(config: &TrainConfig, state: &TrainState<f32>, info: &ModelInfo) -> Vec<u8> {
    encode_parts(state.kept(), info, Some((config, state)))
}

/// A tensor to write: name, type, shape, little-endian bytes.
type Tensor = (String, Dtype, Vec<usize>, Vec<u8>);

fn layer_tensors(prefix: &str, network: &Network<f32>) -> Vec<Tensor> {
    let mut tensors = Vec::new();
    for (i, layer) in network.layers.iter().enumerate() {
        let [weight_name, bias_name] = tensor_names(i);
        let weight = le_bytes(layer.weight.iter());
        let bias = le_bytes(layer.bias.iter());
        tensors.push((
            format!("{prefix}{weight_name}"),
            Dtype::F32,
            vec![layer.inputs(), layer.outputs()],
            weight,
        ));
        tensors.push((format!("{prefix}{bias_name}"), Dtype::F32, vec![layer.outputs()], bias));
    }
    tensors
}

fn encode_parts(
    network: &Network<f32>,
    info: &ModelInfo,
    checkpoint: Option<(&TrainConfig, &TrainState<f32>)>,
) -> Vec<u8> {
    let mut tensors = layer_tensors("", network);
    let mut metadata = HashMap::from([
        ("format".to_owned(), FORMAT.to_owned()),
        ("format_version".to_owned(), FORMAT_VERSION.to_string()),
        (
            "layer_sizes".to_owned(),
            serde_json::to_string(&network.sizes()).expect("a list of integers"),
        ),
        ("activation".to_owned(), network.activation.name().to_owned()),
        ("loss".to_owned(), network.loss.name().to_owned()),
        (
            "output_activation".to_owned(),
            output_activation_name(network.loss).to_owned(),
        ),
        (
            "input".to_owned(),
            serde_json::to_string(&info.input).expect("plain fields"),
        ),
        ("classes".to_owned(), network.outputs().to_string()),
        ("dataset".to_owned(), info.dataset.name().to_owned()),
        (
            "training".to_owned(),
            serde_json::Value::Object(info.training.clone()).to_string(),
        ),
    ]);
    if let Some((config, state)) = checkpoint {
        let order = state.order.iter().flat_map(|&i| (i as u32).to_le_bytes()).collect();
        tensors.push((
            "checkpoint.order".to_owned(),
            Dtype::U32,
            vec![state.order.len()],
            order,
        ));
        if state.best.is_some() {
            tensors.extend(layer_tensors("checkpoint.", &state.network));
        }
        let names = parameter_names(network.layers.len());
        let shapes = network
            .layers
            .iter()
            .flat_map(|l| [vec![l.inputs(), l.outputs()], vec![l.outputs()]]);
        let parameters: Vec<_> = names.iter().zip(shapes).collect();
        for (slot, buffers) in state.optimizer.method.slot_names().iter().zip(&state.optimizer.buffers) {
            for ((name, shape), buffer) in parameters.iter().zip(buffers) {
                let tensor_name = format!("checkpoint.optimizer.{slot}.{name}");
                tensors.push((tensor_name, Dtype::F32, shape.clone(), le_bytes(buffer.iter())));
            }
        }
        let meta = CheckpointMeta {
            config: *config,
            epoch: state.epoch,
            batches_done: state.batches_done,
            optimizer_steps: state.optimizer.steps,
            rng_seed: hex(&state.rng.get_seed()),
            rng_stream: state.rng.get_stream(),
            rng_word_pos: state.rng.get_word_pos().to_string(),
            best: state.best.as_ref().map(|b| BestMeta {
                epoch: b.epoch,
                accuracy: b.accuracy,
                loss: b.loss,
            }),
            stale_epochs: state.stale_epochs,
            history: without_times(&state.history),
        };
        metadata.insert(
            "checkpoint".to_owned(),
            serde_json::to_string(&meta).expect("plain fields"),
        );
    }
    let digest = content_sha256(
        tensors
            .iter()
            .map(|(name, _, _, data)| (name.as_str(), data.as_slice())),
        &metadata,
    );
    metadata.insert("sha256".to_owned(), digest);
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(name, dtype, shape, data)| {
            let view = TensorView::new(*dtype, shape.clone(), data).expect("shape matches data length");
            (name.clone(), view)
        })
        .collect();
    let bytes = safetensors::serialize(views, Some(metadata)).expect("serializing in-memory tensors cannot fail");
    with_sorted_header(&bytes)
}

/// `history` with its wall times zeroed: the file records what was computed, so the same seed
/// always writes the same bytes.
fn without_times(history: &History) -> History {
    let mut history = history.clone();
    for r in &mut history.epochs {
        (r.seconds, r.train_seconds, r.eval_seconds) = (0.0, 0.0, 0.0);
    }
    history
}

/// `layers.0.weight`, `layers.0.bias`, ... in the order of `Network::parameters`.
fn parameter_names(layers: usize) -> Vec<String> {
    (0..layers).flat_map(tensor_names).collect()
}

/// The version 2 checksum: every tensor by name (name, 0, bytes), then every metadata entry but
/// `sha256` by key (key, 0, value, 0).
fn content_sha256<'a>(
    tensors: impl Iterator<Item = (&'a str, &'a [u8])>,
    metadata: &HashMap<String, String>,
) -> String {
    let mut tensors: Vec<_> = tensors.collect();
    tensors.sort_by_key(|&(name, _)| name);
    let mut entries: Vec<_> = metadata.iter().filter(|(k, _)| k.as_str() != "sha256").collect();
    entries.sort();
    let mut hasher = Sha256::new();
    for (name, data) in tensors {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(data);
    }
    for (key, value) in entries {
        hasher.update(key.as_bytes());
        hasher.update([0]);
        hasher.update(value.as_bytes());
        hasher.update([0]);
    }
    hex(&hasher.finalize())
}

/// The same safetensors bytes with the header's JSON keys in sorted order. The safetensors crate
/// writes metadata in hash-map order, which changes from run to run; sorted, the same model always
/// gives the same bytes.
fn with_sorted_header(bytes: &[u8]) -> Vec<u8> {
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let header: serde_json::Value =
        serde_json::from_slice(&bytes[8..8 + header_len]).expect("safetensors wrote a JSON header");
    // serde_json's map is ordered by key.
    let mut sorted = header.to_string().into_bytes();
    // The data must start 8-byte aligned; the format pads the header with spaces.
    sorted.resize(sorted.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + sorted.len() + bytes.len() - 8 - header_len);
    out.extend_from_slice(&(sorted.len() as u64).to_le_bytes());
    out.extend_from_slice(&sorted);
    out.extend_from_slice(&bytes[8 + header_len..]);
    out
}

/// Parses and validates model bytes.
pub fn decode(bytes: &[u8]) -> Result<Model, ModelFormatError> {
    decode_checkpoint(bytes).map(|(model, _)| model)
}

/// Parses and validates model bytes with their checkpoint, if they have one.
pub fn decode_checkpoint(bytes: &[u8]) -> Result<(Model, Option<Checkpoint>), ModelFormatError> {
    use ModelFormatError::{Corrupt, Foreign, FutureVersion, NotSafetensors};
    let file = SafeTensors::deserialize(bytes).map_err(|e| NotSafetensors(e.to_string()))?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| NotSafetensors(e.to_string()))?;
    let metadata = header.metadata().as_ref().ok_or(Foreign)?;
    if metadata.get("format").map(String::as_str) != Some(FORMAT) {
        return Err(Foreign);
    }
    let field = |key: &str| {
        metadata
            .get(key)
            .ok_or_else(|| Corrupt(format!("metadata has no `{key}`")))
    };
    let json = |key: &str| -> Result<serde_json::Value, ModelFormatError> {
        serde_json::from_str(field(key)?).map_err(|e| Corrupt(format!("metadata `{key}` is not valid JSON: {e}")))
    };
    let version_text = field("format_version")?;
    let version: u32 = version_text
        .parse()
        .map_err(|_| Corrupt(format!("format_version `{version_text}` is not a number")))?;
    if version > FORMAT_VERSION {
        return Err(FutureVersion(version));
    }
    if version == 0 {
        return Err(Corrupt("format_version 0 does not exist".to_owned()));
    }

    let sizes: Vec<usize> = serde_json::from_value(json("layer_sizes")?)
        .map_err(|e| Corrupt(format!("layer_sizes is not a list of sizes: {e}")))?;
    if sizes.len() < 2 || sizes.contains(&0) {
        return Err(Corrupt(format!(
            "layer_sizes {sizes:?} needs at least two sizes, none zero"
        )));
    }
    let activation_name = field("activation")?;
    let activation = Activation::from_name(activation_name)
        .ok_or_else(|| Corrupt(format!("unknown activation `{activation_name}`")))?;
    let loss = parse_loss(field("loss")?, field("output_activation")?)?;
    let input: InputSpec = serde_json::from_value(json("input")?)
        .map_err(|e| Corrupt(format!("metadata `input` is not {{rows, cols, scaling}}: {e}")))?;
    if let Scaling::Standard { mean, std } = input.scaling
        && !(mean.is_finite() && std.is_finite() && std > 0.0)
    {
        return Err(Corrupt(format!("input scaling with mean {mean} and std {std}")));
    }
    // A hostile file may claim sizes whose product overflows.
    if input.rows.checked_mul(input.cols) != Some(sizes[0]) {
        return Err(Corrupt(format!(
            "input {}x{} does not match {} inputs",
            input.rows, input.cols, sizes[0]
        )));
    }
    let classes = field("classes")?;
    if classes.parse::<usize>().ok() != Some(sizes[sizes.len() - 1]) {
        return Err(Corrupt(format!(
            "classes `{classes}` does not match the output size {}",
            sizes[sizes.len() - 1]
        )));
    }
    // Version 1 files may predate data set names: they hold MNIST models.
    let dataset = match metadata.get("dataset") {
        None if version == 1 => KnownDataset::Mnist,
        _ => {
            let name = field("dataset")?;
            KnownDataset::from_name(name).ok_or_else(|| Corrupt(format!("unknown dataset `{name}`")))?
        }
    };
    let serde_json::Value::Object(training) = json("training")? else {
        return Err(Corrupt("metadata `training` is not a JSON object".to_owned()));
    };

    let mut layers = Vec::new();
    for (i, pair) in sizes.windows(2).enumerate() {
        let [weight_name, bias_name] = tensor_names(i);
        layers.push(Dense {
            weight: read_matrix(&file, &weight_name, pair[0], pair[1])?,
            bias: Array1::from(read_f32(&file, &bias_name, &[pair[1]])?),
        });
    }
    let network = Network {
        layers,
        activation,
        loss,
    };
    let checkpoint = match metadata.get("checkpoint") {
        Some(text) if version >= 2 => Some(read_checkpoint(&file, text, &network)?),
        _ => None,
    };
    let expected_tensors = match &checkpoint {
        None => 2 * network.layers.len(),
        Some(c) => {
            // The kept layers, the trained ones when they differ, each optimizer slot, the order.
            let copies = 1 + usize::from(c.state.best.is_some()) + c.config.optimizer.slot_names().len();
            2 * network.layers.len() * copies + 1
        }
    };
    if file.len() != expected_tensors {
        return Err(Corrupt(format!(
            "{} tensors where layer_sizes {sizes:?}{} needs {expected_tensors}",
            file.len(),
            if checkpoint.is_some() {
                " with its checkpoint"
            } else {
                ""
            }
        )));
    }

    let (key, checksum) = if version == 1 {
        let mut hasher = Sha256::new();
        for name in parameter_names(network.layers.len()) {
            hasher.update(file.tensor(&name).expect("read above").data());
        }
        ("tensor_sha256", hex(&hasher.finalize()))
    } else {
        let tensors = file.iter().map(|(name, view)| (name, view.data()));
        ("sha256", content_sha256(tensors, metadata))
    };
    let recorded = field(key)?;
    // Under the fuzzer (cargo-fuzz sets `cfg(fuzzing)`) a mutated file is allowed past the checksum,
    // which it could never match, so that the code after it and the targets' round trips get run.
    if recorded != &checksum && !cfg!(fuzzing) {
        return Err(Corrupt(format!(
            "the content's SHA-256 is {checksum}, not the {recorded} recorded in the file"
        )));
    }
    Ok((
        Model {
            network,
            info: ModelInfo {
                dataset,
                input,
                training,
            },
        },
        checkpoint,
    ))
}

/// The checkpoint of a file whose kept model is `kept`, from its `checkpoint` metadata `text`.
fn read_checkpoint(file: &SafeTensors<'_>, text: &str, kept: &Network<f32>) -> Result<Checkpoint, ModelFormatError> {
    use ModelFormatError::Corrupt;
    let meta: CheckpointMeta = serde_json::from_str(text)
        .map_err(|e| Corrupt(format!("metadata `checkpoint` is not a training state: {e}")))?;
    if let Some(problem) = meta.config.problem() {
        return Err(Corrupt(format!("checkpoint settings: {problem}")));
    }
    let order_tensor = file
        .tensor("checkpoint.order")
        .map_err(|_| Corrupt("tensor `checkpoint.order` is missing".to_owned()))?;
    if order_tensor.dtype() != Dtype::U32 || order_tensor.shape().len() != 1 {
        return Err(Corrupt("tensor `checkpoint.order` is not a U32 list".to_owned()));
    }
    let order: Vec<usize> = order_tensor
        .data()
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let mut seen = vec![false; order.len()];
    for &i in &order {
        if i >= order.len() || std::mem::replace(&mut seen[i], true) {
            return Err(Corrupt("`checkpoint.order` is not a permutation".to_owned()));
        }
    }
    let batches_per_epoch = order.len().div_ceil(meta.config.batch_size.min(order.len()).max(1));
    if order.is_empty() || meta.batches_done >= batches_per_epoch {
        return Err(Corrupt(format!(
            "checkpoint: {} batches done of an epoch of {} samples in batches of {}",
            meta.batches_done,
            order.len(),
            meta.config.batch_size
        )));
    }
    let mut network = kept.clone();
    let best = match meta.best {
        Some(b) => {
            for (i, layer) in network.layers.iter_mut().enumerate() {
                let [weight_name, bias_name] = tensor_names(i);
                let (rows, cols) = layer.weight.dim();
                layer.weight = read_matrix(file, &format!("checkpoint.{weight_name}"), rows, cols)?;
                layer.bias = Array1::from(read_f32(file, &format!("checkpoint.{bias_name}"), &[cols])?);
            }
            Some(Best {
                network: kept.clone(),
                epoch: b.epoch,
                accuracy: b.accuracy,
                loss: b.loss,
            })
        }
        None => None,
    };
    let mut optimizer = Optimizer::new(meta.config.optimizer, &network);
    optimizer.steps = meta.optimizer_steps;
    let names = parameter_names(network.layers.len());
    for (slot, buffers) in meta.config.optimizer.slot_names().iter().zip(&mut optimizer.buffers) {
        for ((name, buffer), (_, parameter)) in names.iter().zip(buffers.iter_mut()).zip(network.parameters()) {
            let tensor_name = format!("checkpoint.optimizer.{slot}.{name}");
            let tensor = file
                .tensor(&tensor_name)
                .map_err(|_| Corrupt(format!("tensor `{tensor_name}` is missing")))?;
            if tensor.dtype() != Dtype::F32 || tensor.shape().iter().product::<usize>() != parameter.len() {
                return Err(Corrupt(format!("tensor `{tensor_name}` does not match its parameter")));
            }
            *buffer = f32_values(tensor.data());
        }
    }
    let seed_bytes = unhex(&meta.rng_seed)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| {
            Corrupt(format!(
                "checkpoint rng_seed `{}` is not 32 bytes of hex",
                meta.rng_seed
            ))
        })?;
    let word_pos: u128 = meta.rng_word_pos.parse().map_err(|_| {
        Corrupt(format!(
            "checkpoint rng_word_pos `{}` is not a number",
            meta.rng_word_pos
        ))
    })?;
    let mut rng = ChaCha8Rng::from_seed(seed_bytes);
    rng.set_stream(meta.rng_stream);
    rng.set_word_pos(word_pos);
    Ok(Checkpoint {
        config: meta.config,
        state: TrainState {
            network,
            optimizer,
            rng,
            epoch: meta.epoch,
            order,
            batches_done: meta.batches_done,
            epoch_seconds: 0.0,
            best,
            stale_epochs: meta.stale_epochs,
            history: meta.history,
        },
    })
}

fn parse_loss(loss: &str, output: &str) -> Result<Loss, ModelFormatError> {
    let corrupt = || ModelFormatError::Corrupt(format!("unknown loss `{loss}` with output activation `{output}`"));
    let parsed = match loss {
        "cross-entropy" => Loss::CrossEntropy,
        "bce" => Loss::BinaryCrossEntropy,
        "mse" => Loss::MeanSquaredError(Activation::from_name(output).ok_or_else(corrupt)?),
        _ => return Err(corrupt()),
    };
    if output_activation_name(parsed) != output {
        return Err(corrupt());
    }
    Ok(parsed)
}

/// The f32 tensor `name`, which must have `shape`.
fn read_f32(file: &SafeTensors<'_>, name: &str, shape: &[usize]) -> Result<Vec<f32>, ModelFormatError> {
    let tensor = file
        .tensor(name)
        .map_err(|_| ModelFormatError::Corrupt(format!("tensor `{name}` is missing")))?;
    if tensor.dtype() != Dtype::F32 || tensor.shape() != shape {
        return Err(ModelFormatError::Corrupt(format!(
            "tensor `{name}` is {:?} {:?}, expected F32 {shape:?}",
            tensor.dtype(),
            tensor.shape()
        )));
    }
    Ok(f32_values(tensor.data()))
}

fn read_matrix(file: &SafeTensors<'_>, name: &str, rows: usize, cols: usize) -> Result<Array2<f32>, ModelFormatError> {
    let values = read_f32(file, name, &[rows, cols])?;
    Ok(Array2::from_shape_vec((rows, cols), values).expect("shape checked"))
}

fn f32_values(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn le_bytes<'a>(values: impl Iterator<Item = &'a f32>) -> Vec<u8> {
    values.flat_map(|v| v.to_le_bytes()).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.is_ascii() || text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}
