//! The model part of a file: the network's shape (`layer_sizes`, `activation`, `loss`,
//! `output_activation`, `classes`), what it was trained on (`input`, `dataset`, `class_names`,
//! `training`) and its layer tensors. Written and read here, checked against each other on reading.

use std::collections::HashMap;

use safetensors::SafeTensors;
use serde::Deserialize;

use super::header::Metadata;
use super::tensors::read_layers;
use super::{InputSpec, Model, ModelFormatError, ModelInfo};
use crate::data::catalog::{DatasetId, KnownDataset};
use crate::data::classes::Classes;
use crate::data::scaling::Scaling;
use crate::nn::loss::OutputActivation;
use crate::nn::{Activation, Loss, Network};

/// The model's metadata entries.
pub(super) fn metadata(network: &Network<f32>, info: &ModelInfo) -> HashMap<String, String> {
    HashMap::from([
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
        (
            "class_names".to_owned(),
            serde_json::to_string(&info.classes).expect("a list of names"),
        ),
        ("dataset".to_owned(), info.dataset.name().to_owned()),
        (
            "training".to_owned(),
            serde_json::Value::Object(info.training.clone()).to_string(),
        ),
    ])
}

/// The `output_activation` a file records for `loss`: `softmax`, or the elementwise activation's name.
pub fn output_activation_name(loss: Loss) -> &'static str {
    match loss.output_activation() {
        OutputActivation::Softmax => "softmax",
        OutputActivation::Elementwise(a) => a.name(),
    }
}

/// The model of a file of format `version`.
pub(super) fn read(file: &SafeTensors<'_>, metadata: &Metadata<'_>, version: u32) -> Result<Model, ModelFormatError> {
    let (sizes, activation, loss) = read_shape(metadata)?;
    let info = read_info(metadata, &sizes, version)?;
    let network = Network {
        layers: read_layers(file, "", &sizes)?,
        activation,
        loss,
    };
    Ok(Model { network, info })
}

/// The layer sizes (input to output), the hidden activation and the loss.
fn read_shape(metadata: &Metadata<'_>) -> Result<(Vec<usize>, Activation, Loss), ModelFormatError> {
    use ModelFormatError::Corrupt;
    let sizes: Vec<usize> = serde_json::from_value(metadata.json("layer_sizes")?)
        .map_err(|e| Corrupt(format!("layer_sizes is not a list of sizes: {e}")))?;
    if sizes.len() < 2 || sizes.contains(&0) {
        return Err(Corrupt(format!(
            "layer_sizes {sizes:?} needs at least two sizes, none zero"
        )));
    }
    let activation_name = metadata.field("activation")?;
    let activation = Activation::from_name(activation_name)
        .ok_or_else(|| Corrupt(format!("unknown activation `{activation_name}`")))?;
    let loss = parse_loss(metadata.field("loss")?, metadata.field("output_activation")?)?;
    Ok((sizes, activation, loss))
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

/// The input, data set and training settings of a network of `sizes`.
fn read_info(metadata: &Metadata<'_>, sizes: &[usize], version: u32) -> Result<ModelInfo, ModelFormatError> {
    use ModelFormatError::Corrupt;
    let input: InputSpec = serde_json::from_value(metadata.json("input")?)
        .map_err(|e| Corrupt(format!("metadata `input` is not {{rows, cols, scaling}}: {e}")))?;
    if let Scaling::Standard { mean, std } = input.scaling
        && !(mean.is_finite() && std.is_finite() && std > 0.0)
    {
        return Err(Corrupt(format!("input scaling with mean {mean} and std {std}")));
    }
    if !matches!(input.channels, 1 | 3) {
        return Err(Corrupt(format!(
            "input of {} channels; images have 1 (grey) or 3 (RGB)",
            input.channels
        )));
    }
    // A hostile file may claim sizes whose product overflows.
    let values = input
        .rows
        .checked_mul(input.cols)
        .and_then(|p| p.checked_mul(input.channels));
    if values != Some(sizes[0]) {
        return Err(Corrupt(format!(
            "input {} does not match {} inputs",
            input.size(),
            sizes[0]
        )));
    }
    let classes = metadata.field("classes")?;
    let outputs = sizes[sizes.len() - 1];
    if classes.parse::<usize>().ok() != Some(outputs) {
        return Err(Corrupt(format!(
            "classes `{classes}` does not match the output size {outputs}"
        )));
    }
    let (named, classes) = read_classes(metadata, outputs, version)?;
    let serde_json::Value::Object(training) = metadata.json("training")? else {
        return Err(Corrupt("metadata `training` is not a JSON object".to_owned()));
    };
    // The run's own record tells files from a known set (`{"files": "mnist"}` is an mnist.npz of
    // one's own, not MNIST): `dataset` alone holds only the name.
    let dataset = match training.get("dataset").map(DatasetId::deserialize) {
        Some(Ok(recorded)) if recorded.name() == named.name() => recorded,
        _ => named,
    };
    Ok(ModelInfo {
        dataset,
        classes,
        input,
        training,
    })
}

/// The data set and the names of the `outputs` classes. Files before version 3 name no classes:
/// their data set is a known one (version 1 may not say: MNIST), whose catalog names them (the
/// first `outputs` of them, and numbers beyond).
fn read_classes(
    metadata: &Metadata<'_>,
    outputs: usize,
    version: u32,
) -> Result<(DatasetId, Classes), ModelFormatError> {
    use ModelFormatError::Corrupt;
    if version < 3 {
        let known = match metadata.get("dataset") {
            None if version == 1 => KnownDataset::Mnist,
            _ => {
                let name = metadata.field("dataset")?;
                KnownDataset::from_name(name).ok_or_else(|| Corrupt(format!("unknown dataset `{name}`")))?
            }
        };
        // Made-up test models may have fewer outputs than the data set has classes, or more.
        let names = known.class_names();
        let classes = Classes::named(
            (0..outputs)
                .map(|k| names.get(k).map_or_else(|| k.to_string(), |&n| n.to_owned()))
                .collect(),
        );
        return Ok((DatasetId::Known(known), classes));
    }
    let classes: Classes = serde_json::from_value(metadata.json("class_names")?)
        .map_err(|e| Corrupt(format!("class_names is not a list of names: {e}")))?;
    if classes.len() != outputs {
        return Err(Corrupt(format!("{} class_names for {outputs} outputs", classes.len())));
    }
    let name = metadata.field("dataset")?;
    Ok((DatasetId::of_model(name, &classes), classes))
}
