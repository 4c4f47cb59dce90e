//! A model in the formats other runtimes load: `onnx` (one ONNX graph from raw pixels to
//! probabilities) and `torch` (the state dict of a PyTorch `nn.Sequential`, as safetensors).
//!
//! Both apply or describe the model's own input scaling as x = p · factor + offset on raw pixel
//! values p in 0..=255 (`Scaling::affine`), then the layers z = x·W + b with the hidden activation
//! between them, and the output activation the loss implies (softmax for cross-entropy, a sigmoid
//! per class for bce, mse's activation). Both carry the same metadata (`metadata`): ONNX as the
//! model's `metadata_props`, safetensors as its `__metadata__`.
//!
//! | key                 | value                                                               |
//! |---------------------|---------------------------------------------------------------------|
//! | `producer`          | `mlp 0.1.0`                                                         |
//! | `dataset`           | the data set's name: `mnist`, `fashion-mnist`, or that of files read |
//! | `class_names`       | JSON list, what output k means, e.g. `["0","1",...]`                |
//! | `layer_sizes`       | JSON list, input to output, e.g. `[784,100,10]`                     |
//! | `activation`        | hidden activation: sigmoid, tanh, relu, leaky-relu, identity        |
//! | `leaky_relu_slope`  | `0.01`, with leaky-relu only                                        |
//! | `loss`              | cross-entropy, bce or mse                                           |
//! | `output_activation` | softmax, or the activation per output (sigmoid for bce)             |
//! | `input`             | the model file's JSON: rows, cols, channels (when 3), scaling, mean, std |
//! | `input_factor`, `input_offset` | x = pixels · factor + offset                             |
//!
//! Nothing here writes files or prints: each format's `encode` gives the bytes.

pub mod onnx;
mod onnx_proto;
pub mod torch;

use crate::model_file::{Model, output_activation_name};
use crate::nn::Activation;
use crate::nn::activation::LEAKY_RELU_SLOPE;

/// The metadata both formats carry, in the order of the table above.
pub fn metadata(model: &Model) -> Vec<(&'static str, String)> {
    let network = &model.network;
    let info = &model.info;
    let (factor, offset) = info.input.scaling.affine();
    let mut entries = vec![
        ("producer", format!("mlp {}", env!("CARGO_PKG_VERSION"))),
        ("dataset", info.dataset.name().to_owned()),
        (
            "class_names",
            serde_json::to_string(&info.classes).expect("a list of names"),
        ),
        (
            "layer_sizes",
            serde_json::to_string(&network.sizes()).expect("a list of integers"),
        ),
        ("activation", network.activation.name().to_owned()),
    ];
    if network.activation == Activation::LeakyRelu {
        entries.push(("leaky_relu_slope", LEAKY_RELU_SLOPE.to_string()));
    }
    entries.extend([
        ("loss", network.loss.name().to_owned()),
        ("output_activation", output_activation_name(network.loss).to_owned()),
        ("input", serde_json::to_string(&info.input).expect("plain fields")),
        ("input_factor", factor.to_string()),
        ("input_offset", offset.to_string()),
    ]);
    entries
}

#[cfg(test)]
pub(crate) mod tests {
    use ndarray::{Array1, Array2};

    use super::*;
    use crate::data::catalog::DatasetId;
    use crate::data::classes::Classes;
    use crate::data::scaling::Scaling;
    use crate::model_file::{InputSpec, ModelInfo};
    use crate::nn::{Dense, Loss, Network};

    /// A 6-4-3-2 network of 2x3 images with distinct weights, named classes and standard scaling.
    pub(crate) fn small_model(activation: Activation, loss: Loss) -> Model {
        let layer = |inputs: usize, outputs: usize, seed: f32| Dense {
            weight: Array2::from_shape_fn((inputs, outputs), |(i, j)| seed + i as f32 * 0.1 - j as f32 * 0.07),
            bias: Array1::from_shape_fn(outputs, |j| seed * 0.5 - j as f32 * 0.01),
        };
        Model {
            network: Network {
                layers: vec![layer(6, 4, 0.3), layer(4, 3, -0.2), layer(3, 2, 0.1)],
                activation,
                loss,
            },
            info: ModelInfo {
                dataset: DatasetId::Files("shapes".to_owned()),
                classes: Classes::named(vec!["circle".to_owned(), "square".to_owned()]),
                input: InputSpec {
                    rows: 2,
                    cols: 3,
                    channels: 1,
                    scaling: Scaling::Standard { mean: 0.25, std: 0.5 },
                },
                training: serde_json::Map::new(),
            },
        }
    }

    #[test]
    fn the_metadata_names_the_classes_the_data_set_and_the_scaling() {
        let model = small_model(Activation::LeakyRelu, Loss::CrossEntropy);
        let metadata: std::collections::HashMap<_, _> = metadata(&model).into_iter().collect();
        assert_eq!(metadata["class_names"], r#"["circle","square"]"#);
        assert_eq!(metadata["dataset"], "shapes");
        assert_eq!(metadata["layer_sizes"], "[6,4,3,2]");
        assert_eq!(metadata["leaky_relu_slope"], "0.01");
        assert_eq!(metadata["output_activation"], "softmax");
        // x = (p/255 - 0.25) / 0.5 = p · 2/255 - 0.5
        assert_eq!(metadata["input_factor"].parse::<f64>().unwrap(), 2.0 / 255.0);
        assert_eq!(metadata["input_offset"], "-0.5");
        assert_eq!(
            metadata["input"],
            r#"{"rows":2,"cols":3,"scaling":"standard","mean":0.25,"std":0.5}"#
        );
    }
}
