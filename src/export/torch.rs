//! A model as the state dict of `torch.nn.Sequential(Linear, act, Linear, act, ..., Linear)`, in a
//! safetensors file that `safetensors.torch.load_file` reads and `load_state_dict(strict=True)` takes.
//!
//! Layer i of mlp is the Sequential's module 2i (the activations between have no parameters):
//!
//! | key            | shape      | value                                                        |
//! |----------------|------------|--------------------------------------------------------------|
//! | `{2i}.weight`  | [out, in]  | the transpose of mlp's [in, out] W: `Linear` computes x·Wᵀ + b |
//! | `{2i}.bias`    | [out]      | b                                                            |
//!
//! The `__metadata__` holds `format` = `pt` (what PyTorch's own safetensors files say) and the
//! export's metadata (`super::metadata`): the activation, the output activation, and the scaling
//! to apply to raw pixels first, x = pixels · input_factor + input_offset.

use std::collections::HashMap;

use safetensors::tensor::Dtype;

use super::metadata;
use crate::model_file::tensors::{Tensor, le_bytes};
use crate::model_file::{Model, safetensors_bytes};
use crate::nn::activation::LEAKY_RELU_SLOPE;
use crate::nn::{Activation, Network};

/// The model as the bytes of a `.safetensors` state dict.
pub fn encode(model: &Model) -> Vec<u8> {
    let mut entries: HashMap<String, String> = metadata(model)
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect();
    entries.insert("format".to_owned(), "pt".to_owned());
    safetensors_bytes(&tensors(&model.network), entries)
}

/// `{2i}.weight` (transposed) and `{2i}.bias` of every layer.
fn tensors(network: &Network<f32>) -> Vec<Tensor> {
    let mut tensors = Vec::new();
    for (i, layer) in network.layers.iter().enumerate() {
        let [weight, bias] = state_dict_keys(i);
        let (inputs, outputs) = (layer.inputs(), layer.outputs());
        tensors.push((
            weight,
            Dtype::F32,
            vec![outputs, inputs],
            le_bytes(layer.weight.t().iter()),
        ));
        tensors.push((bias, Dtype::F32, vec![outputs], le_bytes(layer.bias.iter())));
    }
    tensors
}

/// The state dict's keys for mlp's layer `layer`: those of the Sequential's module 2·layer.
pub fn state_dict_keys(layer: usize) -> [String; 2] {
    [format!("{}.weight", 2 * layer), format!("{}.bias", 2 * layer)]
}

/// The PyTorch module of `activation`, as Python builds it.
pub fn module(activation: Activation) -> String {
    match activation {
        Activation::Sigmoid => "Sigmoid()".to_owned(),
        Activation::Tanh => "Tanh()".to_owned(),
        Activation::Relu => "ReLU()".to_owned(),
        Activation::LeakyRelu => format!("LeakyReLU({LEAKY_RELU_SLOPE})"),
        Activation::Identity => "Identity()".to_owned(),
    }
}

/// The Sequential the state dict is for, as Python writes it: `Sequential(Linear(784, 100),
/// Sigmoid(), Linear(100, 10))`.
pub fn sequential(network: &Network<f32>) -> String {
    let mut modules = Vec::new();
    for (i, layer) in network.layers.iter().enumerate() {
        if i > 0 {
            modules.push(module(network.activation));
        }
        modules.push(format!("Linear({}, {})", layer.inputs(), layer.outputs()));
    }
    format!("Sequential({})", modules.join(", "))
}

#[cfg(test)]
mod tests {
    use safetensors::SafeTensors;

    use super::*;
    use crate::export::tests::small_model;
    use crate::model_file::tensors::f32_values;
    use crate::nn::Loss;

    #[test]
    fn the_weights_are_transposed_to_out_by_in_under_the_sequential_keys() {
        let model = small_model(Activation::Relu, Loss::CrossEntropy);
        let bytes = encode(&model);
        let file = SafeTensors::deserialize(&bytes).unwrap();
        let mut names = file.names();
        names.sort();
        assert_eq!(
            names,
            ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]
        );
        let weight = file.tensor("2.weight").unwrap();
        assert_eq!(weight.shape(), [3, 4]);
        let mlp_weight = &model.network.layers[1].weight;
        let values = f32_values(weight.data());
        for (o, row) in values.chunks(4).enumerate() {
            for (i, &v) in row.iter().enumerate() {
                assert_eq!(v, mlp_weight[(i, o)], "2.weight[{o}, {i}]");
            }
        }
        let bias = file.tensor("4.bias").unwrap();
        assert_eq!(f32_values(bias.data()), model.network.layers[2].bias.to_vec());
    }

    #[test]
    fn the_metadata_says_pt_and_the_same_bytes_come_every_time() {
        let model = small_model(Activation::LeakyRelu, Loss::BinaryCrossEntropy);
        let bytes = encode(&model);
        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        let metadata = header.metadata().as_ref().unwrap();
        assert_eq!(metadata["format"], "pt");
        assert_eq!(metadata["activation"], "leaky-relu");
        assert_eq!(metadata["output_activation"], "sigmoid");
        assert_eq!(metadata["class_names"], r#"["circle","square"]"#);
        assert_eq!(encode(&model), bytes);
    }

    #[test]
    fn the_sequential_has_an_activation_between_every_two_linears() {
        let model = small_model(Activation::LeakyRelu, Loss::CrossEntropy);
        assert_eq!(
            sequential(&model.network),
            "Sequential(Linear(6, 4), LeakyReLU(0.01), Linear(4, 3), LeakyReLU(0.01), Linear(3, 2))"
        );
    }
}
