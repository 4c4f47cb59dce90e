//! A model as one ONNX graph (opset 13) that any ONNX runtime runs as it is.
//!
//! ```text
//! pixels                 float32 [batch, inputs]   raw pixel values 0-255, as in the data files
//! x   = Add(Mul(pixels, input_factor), input_offset)       the model's input scaling
//! z_i = Gemm(a_{i-1}, layers.i.weight, layers.i.bias)      weight [in, out], bias [out]: a·W + b
//! a_i = f(z_i)                                             the hidden activation, i < L
//! logits        = z_L                      float32 [batch, classes]
//! probabilities = g(logits)                float32 [batch, classes]: Softmax (axis -1), Sigmoid, ...
//! ```
//!
//! `batch` is a symbolic dimension, so one graph takes any number of rows. The weights are mlp's
//! own [in, out] matrices (Gemm with transB = 0), stored little-endian in `raw_data`. The hidden
//! activations map to Sigmoid, Tanh, Relu, LeakyRelu (alpha = `LEAKY_RELU_SLOPE`) and Identity.
//! The metadata (`super::metadata`) goes into `metadata_props`.

use prost::Message;

use super::metadata;
use super::onnx_proto::{
    ATTRIBUTE_FLOAT, ATTRIBUTE_INT, AttributeProto, DATA_TYPE_FLOAT, Dimension, DimensionValue, GraphProto, ModelProto,
    NodeProto, OperatorSetIdProto, StringStringEntryProto, TensorProto, TensorShapeProto, TensorTypeProto, TypeProto,
    ValueInfoProto,
};
use crate::model_file::tensors::le_bytes;
use crate::model_file::{Model, output_activation_name};
use crate::nn::Activation;
use crate::nn::activation::LEAKY_RELU_SLOPE;
use crate::nn::loss::OutputActivation;

/// The ONNX operator set the graph is written against.
pub const OPSET: i64 = 13;
/// The IR version that came with opset 13 (ONNX 1.8).
pub const IR_VERSION: i64 = 7;
/// The graph's input: raw pixel values.
pub const INPUT: &str = "pixels";
/// The graph's outputs: the last layer's z, and the output activation of it.
pub const LOGITS: &str = "logits";
pub const PROBABILITIES: &str = "probabilities";
/// The name of the graph's batch dimension.
pub const BATCH: &str = "batch";

/// The model as the bytes of an `.onnx` file.
pub fn encode(model: &Model) -> Vec<u8> {
    model_proto(model).encode_to_vec()
}

fn model_proto(model: &Model) -> ModelProto {
    let sizes = model.network.sizes();
    ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "mlp".to_owned(),
        producer_version: env!("CARGO_PKG_VERSION").to_owned(),
        doc_string: format!(
            "an mlp network {sizes:?} trained on {}: raw pixels in, logits and probabilities out",
            model.info.dataset.name()
        ),
        graph: Some(graph(model)),
        metadata_props: metadata(model)
            .into_iter()
            .map(|(key, value)| StringStringEntryProto {
                key: key.to_owned(),
                value,
            })
            .collect(),
    }
}

/// The nodes and constants being gathered, in topological order.
#[derive(Default)]
struct Builder {
    nodes: Vec<NodeProto>,
    constants: Vec<TensorProto>,
}

impl Builder {
    /// A constant `name` of shape `dims` holding `values` in row-major order.
    fn constant<'a>(&mut self, name: &str, dims: &[usize], values: impl Iterator<Item = &'a f32>) -> String {
        self.constants.push(TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: DATA_TYPE_FLOAT,
            name: name.to_owned(),
            raw_data: le_bytes(values),
        });
        name.to_owned()
    }

    /// A node `op` from `inputs` to the value `output`, named after its output.
    fn node(&mut self, op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> String {
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|&i| i.to_owned()).collect(),
            output: vec![output.to_owned()],
            name: format!("{output}.{}", op.to_lowercase()),
            op_type: op.to_owned(),
            attribute,
        });
        output.to_owned()
    }

    /// `activation` of the value `input`, as the value `output`.
    fn activation(&mut self, activation: Activation, input: &str, output: &str) -> String {
        let (op, attributes) = match activation {
            Activation::Sigmoid => ("Sigmoid", vec![]),
            Activation::Tanh => ("Tanh", vec![]),
            Activation::Relu => ("Relu", vec![]),
            Activation::LeakyRelu => ("LeakyRelu", vec![float_attribute("alpha", LEAKY_RELU_SLOPE as f32)]),
            Activation::Identity => ("Identity", vec![]),
        };
        self.node(op, &[input], output, attributes)
    }
}

fn float_attribute(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: name.to_owned(),
        r#type: ATTRIBUTE_FLOAT,
        f: value,
        i: 0,
    }
}

fn int_attribute(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.to_owned(),
        r#type: ATTRIBUTE_INT,
        f: 0.0,
        i: value,
    }
}

fn graph(model: &Model) -> GraphProto {
    let network = &model.network;
    let mut graph = Builder::default();
    let (factor, offset) = model.info.input.scaling.affine();
    let factor = graph.constant("input_factor", &[], [factor as f32].iter());
    let offset = graph.constant("input_offset", &[], [offset as f32].iter());
    let scaled = graph.node("Mul", &[INPUT, &factor], "scaled_pixels", vec![]);
    let mut a = graph.node("Add", &[&scaled, &offset], "x", vec![]);
    let last = network.layers.len() - 1;
    for (i, layer) in network.layers.iter().enumerate() {
        let weight = graph.constant(
            &format!("layers.{i}.weight"),
            &[layer.inputs(), layer.outputs()],
            layer.weight.iter(),
        );
        let bias = graph.constant(&format!("layers.{i}.bias"), &[layer.outputs()], layer.bias.iter());
        let z = if i == last {
            LOGITS.to_owned()
        } else {
            format!("layers.{i}.z")
        };
        let z = graph.node("Gemm", &[&a, &weight, &bias], &z, vec![]);
        if i < last {
            a = graph.activation(network.activation, &z, &format!("layers.{i}.a"));
        }
    }
    match network.loss.output_activation() {
        OutputActivation::Softmax => graph.node("Softmax", &[LOGITS], PROBABILITIES, vec![int_attribute("axis", -1)]),
        OutputActivation::Elementwise(f) => graph.activation(f, LOGITS, PROBABILITIES),
    };
    let (inputs, classes) = (network.inputs(), network.outputs());
    GraphProto {
        node: graph.nodes,
        name: "mlp".to_owned(),
        initializer: graph.constants,
        input: vec![value_info(
            INPUT,
            inputs,
            "raw pixel values 0-255 (not scaled), one image a row, channel last for colour",
        )],
        output: vec![
            value_info(LOGITS, classes, "the last layer's z = a·W + b"),
            value_info(
                PROBABILITIES,
                classes,
                &format!("{} of the logits", output_activation_name(network.loss)),
            ),
        ],
    }
}

/// A float32 value of shape [batch, width].
fn value_info(name: &str, width: usize, doc: &str) -> ValueInfoProto {
    let dim = |value| Dimension { value: Some(value) };
    ValueInfoProto {
        name: name.to_owned(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: DATA_TYPE_FLOAT,
                shape: Some(TensorShapeProto {
                    dim: vec![
                        dim(DimensionValue::DimParam(BATCH.to_owned())),
                        dim(DimensionValue::DimValue(width as i64)),
                    ],
                }),
            }),
        }),
        doc_string: doc.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests::small_model;
    use crate::model_file::tensors::f32_values;
    use crate::nn::Loss;

    fn decoded(model: &Model) -> ModelProto {
        ModelProto::decode(encode(model).as_slice()).unwrap()
    }

    fn op_types(proto: &ModelProto) -> Vec<&str> {
        let graph = proto.graph.as_ref().unwrap();
        graph.node.iter().map(|n| n.op_type.as_str()).collect()
    }

    #[test]
    fn the_graph_scales_then_runs_each_layer_and_its_activation() {
        let proto = decoded(&small_model(Activation::Tanh, Loss::CrossEntropy));
        assert_eq!((proto.ir_version, proto.opset_import[0].version), (IR_VERSION, OPSET));
        assert_eq!(
            op_types(&proto),
            ["Mul", "Add", "Gemm", "Tanh", "Gemm", "Tanh", "Gemm", "Softmax"]
        );
        let graph = proto.graph.unwrap();
        let gemm = &graph.node[4];
        assert_eq!(gemm.input, ["layers.0.a", "layers.1.weight", "layers.1.bias"]);
        assert_eq!(graph.node[6].output, [LOGITS]);
        assert_eq!(graph.node[7].attribute, [int_attribute("axis", -1)]);
        let names: Vec<_> = graph
            .input
            .iter()
            .chain(&graph.output)
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(names, [INPUT, LOGITS, PROBABILITIES]);
    }

    #[test]
    fn the_constants_are_the_weights_as_stored_and_the_affine_scaling() {
        let model = small_model(Activation::Relu, Loss::BinaryCrossEntropy);
        let graph = decoded(&model).graph.unwrap();
        let constant = |name: &str| graph.initializer.iter().find(|t| t.name == name).unwrap();
        let weight = constant("layers.1.weight");
        assert_eq!(weight.dims, [4, 3]);
        let layer = &model.network.layers[1];
        assert_eq!(
            f32_values(&weight.raw_data),
            layer.weight.iter().copied().collect::<Vec<_>>()
        );
        assert_eq!(f32_values(&constant("input_factor").raw_data), [(2.0 / 255.0) as f32]);
        assert_eq!(f32_values(&constant("input_offset").raw_data), [-0.5]);
        assert!(constant("input_factor").dims.is_empty(), "a scalar");
    }

    #[test]
    fn each_activation_and_loss_has_its_operator() {
        let cases = [
            (Activation::Sigmoid, Loss::BinaryCrossEntropy, ["Sigmoid", "Sigmoid"]),
            (
                Activation::Relu,
                Loss::MeanSquaredError(Activation::Identity),
                ["Relu", "Identity"],
            ),
            (
                Activation::Identity,
                Loss::MeanSquaredError(Activation::Tanh),
                ["Identity", "Tanh"],
            ),
            (
                Activation::LeakyRelu,
                Loss::MeanSquaredError(Activation::LeakyRelu),
                ["LeakyRelu", "LeakyRelu"],
            ),
        ];
        for (activation, loss, [hidden, output]) in cases {
            let proto = decoded(&small_model(activation, loss));
            let ops = op_types(&proto);
            assert_eq!((ops[3], ops[7]), (hidden, output), "{activation} with {loss}");
            let graph = proto.graph.unwrap();
            if activation == Activation::LeakyRelu {
                assert_eq!(graph.node[3].attribute, [float_attribute("alpha", 0.01)]);
            }
        }
    }

    #[test]
    fn the_batch_is_a_named_dimension_and_the_metadata_is_there() {
        let proto = decoded(&small_model(Activation::Sigmoid, Loss::CrossEntropy));
        let input = &proto.graph.as_ref().unwrap().input[0];
        let shape = input
            .r#type
            .as_ref()
            .unwrap()
            .tensor_type
            .as_ref()
            .unwrap()
            .shape
            .as_ref()
            .unwrap();
        let dims: Vec<_> = shape.dim.iter().map(|d| d.value.clone().unwrap()).collect();
        assert_eq!(
            dims,
            [DimensionValue::DimParam(BATCH.to_owned()), DimensionValue::DimValue(6)]
        );
        let entry = |key: &str| {
            let entries = &proto.metadata_props;
            entries.iter().find(|e| e.key == key).map(|e| e.value.as_str())
        };
        assert_eq!(entry("class_names"), Some(r#"["circle","square"]"#));
        assert_eq!(entry("dataset"), Some("shapes"));
    }
}
