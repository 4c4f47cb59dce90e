//! Layers to tensors and back: `{prefix}layers.{i}.weight` [in, out] and `{prefix}layers.{i}.bias`
//! [out], little-endian f32 in row-major order; and the byte and hex conversions the file uses.

use ndarray::{Array1, Array2};
use safetensors::SafeTensors;
use safetensors::tensor::Dtype;

use super::ModelFormatError;
use crate::nn::{Dense, Network};

/// A tensor to write: name, type, shape, little-endian bytes.
pub(crate) type Tensor = (String, Dtype, Vec<usize>, Vec<u8>);

fn tensor_names(layer: usize) -> [String; 2] {
    [format!("layers.{layer}.weight"), format!("layers.{layer}.bias")]
}

/// `layers.0.weight`, `layers.0.bias`, ... in the order of `Network::parameters`.
pub(super) fn parameter_names(layers: usize) -> Vec<String> {
    (0..layers).flat_map(tensor_names).collect()
}

/// Each parameter of `network` by name and shape, in the order of `Network::parameters`.
pub(super) fn parameter_shapes(network: &Network<f32>) -> Vec<(String, Vec<usize>)> {
    let shapes = network
        .layers
        .iter()
        .flat_map(|l| [vec![l.inputs(), l.outputs()], vec![l.outputs()]]);
    parameter_names(network.layers.len()).into_iter().zip(shapes).collect()
}

/// The weights and biases of `network`, their names prefixed with `prefix`.
pub(super) fn layer_tensors(prefix: &str, network: &Network<f32>) -> Vec<Tensor> {
    let data = network
        .layers
        .iter()
        .flat_map(|l| [le_bytes(l.weight.iter()), le_bytes(l.bias.iter())]);
    parameter_shapes(network)
        .into_iter()
        .zip(data)
        .map(|((name, shape), data)| (format!("{prefix}{name}"), Dtype::F32, shape, data))
        .collect()
}

/// The layers of a network of `sizes` (input to output), from the tensors named with `prefix`.
pub(super) fn read_layers(
    file: &SafeTensors<'_>,
    prefix: &str,
    sizes: &[usize],
) -> Result<Vec<Dense<f32>>, ModelFormatError> {
    let mut layers = Vec::new();
    for (i, pair) in sizes.windows(2).enumerate() {
        let [weight_name, bias_name] = tensor_names(i);
        layers.push(Dense {
            weight: read_matrix(file, &format!("{prefix}{weight_name}"), pair[0], pair[1])?,
            bias: Array1::from(read_f32(file, &format!("{prefix}{bias_name}"), &[pair[1]])?),
        });
    }
    Ok(layers)
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

/// Little-endian f32 bytes as values; a trailing partial value is ignored (callers check lengths).
pub(crate) fn f32_values(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

pub(crate) fn le_bytes<'a>(values: impl Iterator<Item = &'a f32>) -> Vec<u8> {
    values.flat_map(|v| v.to_le_bytes()).collect()
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.is_ascii() || !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}
