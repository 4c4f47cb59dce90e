//! The saved model: a safetensors file that any safetensors reader can open.
//!
//! Tensors (little-endian f32):
//!
//! | name              | shape       | meaning                                  |
//! |-------------------|-------------|------------------------------------------|
//! | `layers.{i}.weight` | [in, out] | layer i computes z = x·W + b             |
//! | `layers.{i}.bias`   | [out]     |                                          |
//!
//! Metadata (string to string, the safetensors `__metadata__`):
//!
//! | key               | value                                                           |
//! |-------------------|-----------------------------------------------------------------|
//! | `format`          | `mlp`                                                           |
//! | `format_version`  | `1`                                                             |
//! | `layer_sizes`     | JSON list, input to output, e.g. `[784,100,10]`                 |
//! | `activation`      | hidden activation: sigmoid, tanh, relu, leaky-relu, identity    |
//! | `loss`            | cross-entropy, bce or mse                                       |
//! | `output_activation` | softmax (cross-entropy), sigmoid (bce), or mse's activation   |
//! | `input`           | JSON `{"rows":28,"cols":28,"scaling":"unit"}`: x = pixel / 255, or |
//! |                   | `{..,"scaling":"standard","mean":m,"std":s}`: x = (pixel/255 - m) / s |
//! | `classes`         | number of outputs, e.g. `10`                                    |
//! | `dataset`         | the data set trained on: `mnist` or `fashion-mnist`; names the classes |
//! | `training`        | JSON object of the training settings (seed, epochs, lr, ...)    |
//! | `tensor_sha256`   | SHA-256 (hex) of the tensors' bytes in the order layers.0.weight, layers.0.bias, layers.1.weight, ... |
//!
//! The file is written to a temporary file beside the target and renamed over it, so a reader sees
//! the old file or the new one, never half of one.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::data::catalog::KnownDataset;
use crate::data::scaling::Scaling;
use crate::nn::loss::OutputActivation;
use crate::nn::{Activation, Dense, Loss, Network};

pub const FORMAT: &str = "mlp";
pub const FORMAT_VERSION: u32 = 1;

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
    let bytes = encode(network, info);
    write_atomically(path, &bytes).map_err(|source| ModelFileError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Reads and validates the model at `path`.
pub fn load(path: &Path) -> Result<Model, ModelFileError> {
    let bytes = fs::read(path).map_err(|source| ModelFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    decode(&bytes).map_err(|source| ModelFileError::Format {
        path: path.to_owned(),
        source,
    })
}

/// Writes `bytes` to a temporary file in `path`'s directory, syncs it, and renames it over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".mlp-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
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
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let mut hasher = Sha256::new();
    for (i, layer) in network.layers.iter().enumerate() {
        let [weight_name, bias_name] = tensor_names(i);
        let weight = le_bytes(layer.weight.iter());
        let bias = le_bytes(layer.bias.iter());
        hasher.update(&weight);
        hasher.update(&bias);
        tensors.push((weight_name, vec![layer.inputs(), layer.outputs()], weight));
        tensors.push((bias_name, vec![layer.outputs()], bias));
    }
    let metadata = HashMap::from([
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
        ("tensor_sha256".to_owned(), hex(&hasher.finalize())),
    ]);
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(name, shape, data)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), data).expect("shape matches data length");
            (name.clone(), view)
        })
        .collect();
    let bytes = safetensors::serialize(views, Some(metadata)).expect("serializing in-memory tensors cannot fail");
    with_sorted_header(&bytes)
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
    if input.rows * input.cols != sizes[0] {
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
    let dataset_name = field("dataset")?;
    let dataset =
        KnownDataset::from_name(dataset_name).ok_or_else(|| Corrupt(format!("unknown dataset `{dataset_name}`")))?;
    let serde_json::Value::Object(training) = json("training")? else {
        return Err(Corrupt("metadata `training` is not a JSON object".to_owned()));
    };

    let expected_tensors = 2 * (sizes.len() - 1);
    if file.len() != expected_tensors {
        return Err(Corrupt(format!(
            "{} tensors where layer_sizes {sizes:?} needs {expected_tensors}",
            file.len()
        )));
    }
    let mut hasher = Sha256::new();
    let mut layers = Vec::new();
    for (i, pair) in sizes.windows(2).enumerate() {
        let [weight_name, bias_name] = tensor_names(i);
        let weight = read_tensor(&file, &weight_name, &[pair[0], pair[1]], &mut hasher)?;
        let bias = read_tensor(&file, &bias_name, &[pair[1]], &mut hasher)?;
        let weight = Array2::from_shape_vec((pair[0], pair[1]), weight).expect("shape checked");
        layers.push(Dense {
            weight,
            bias: Array1::from(bias),
        });
    }
    let checksum = hex(&hasher.finalize());
    if field("tensor_sha256")? != &checksum {
        return Err(Corrupt(format!(
            "the tensors' SHA-256 is {checksum}, not the {} recorded in the file",
            field("tensor_sha256")?
        )));
    }
    Ok(Model {
        network: Network {
            layers,
            activation,
            loss,
        },
        info: ModelInfo {
            dataset,
            input,
            training,
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

fn read_tensor(
    file: &SafeTensors<'_>,
    name: &str,
    shape: &[usize],
    hasher: &mut Sha256,
) -> Result<Vec<f32>, ModelFormatError> {
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
    hasher.update(tensor.data());
    Ok(tensor
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn le_bytes<'a>(values: impl Iterator<Item = &'a f32>) -> Vec<u8> {
    values.flat_map(|v| v.to_le_bytes()).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
