//! A run's specification: every setting that shapes a training run, in one serde type. The
//! command line fills it, the model file records it (metadata `training`), and a resumed run reads
//! it back from there; nothing else keeps a list of the settings.
//!
//! Its JSON is the `training` object of model files since they were first written (the same keys
//! and values), plus `scaling`, which older files record only in `input`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::data::catalog::{DatasetId, KnownDataset};
use crate::data::scaling::ScalingChoice;
use crate::nn::{Activation, Init, Loss};
use crate::train::TrainConfig;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// A known data set (recorded as its name, `"mnist"`), or files (`{"files": NAME}`).
    pub dataset: DatasetId,
    /// Where the data set's files were read from (filled by `run::start`); a resumed run reads
    /// them there again unless it is told another directory.
    pub data_dir: PathBuf,
    /// The file of the test split, for a data set read from a CSV file (`data_dir`) with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_data: Option<PathBuf>,
    /// (rows, cols) of the images, when the files' rows are flat and not square.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<(usize, usize)>,
    /// Hidden layer widths; the input and output widths come from the data.
    pub hidden: Vec<usize>,
    #[serde(with = "crate::serde_text")]
    pub activation: Activation,
    #[serde(with = "crate::serde_text")]
    pub loss: Loss,
    #[serde(with = "crate::serde_text")]
    pub init: Init,
    #[serde(default)]
    pub scaling: ScalingChoice,
    /// The one generator's seed: initial weights, shuffling, augmentation, dropout, and (on a
    /// stream of its own) the choice of validation images.
    pub seed: u64,
    /// Training images held out for validation.
    pub val: usize,
    #[serde(flatten)]
    pub train: TrainConfig,
}

impl Default for RunSpec {
    /// The classic recipe: 784-100-10 sigmoid with softmax cross-entropy, Xavier weights, unit
    /// scaling, seed 1, on MNIST in `./data`.
    fn default() -> Self {
        Self {
            dataset: DatasetId::Known(KnownDataset::Mnist),
            data_dir: PathBuf::from("data"),
            test_data: None,
            image_size: None,
            hidden: vec![100],
            activation: Activation::Sigmoid,
            loss: Loss::CrossEntropy,
            init: Init::Xavier,
            scaling: ScalingChoice::Unit,
            seed: 1,
            val: 0,
            train: TrainConfig::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::augment::Augment;
    use crate::nn::Dropout;
    use crate::optim::Method;
    use crate::schedule::{Decay, Schedule};

    #[test]
    fn a_spec_reads_back_what_it_writes() {
        let spec = RunSpec {
            dataset: DatasetId::Known(KnownDataset::FashionMnist),
            hidden: vec![256, 64],
            activation: Activation::LeakyRelu,
            loss: Loss::MeanSquaredError(Activation::Identity),
            init: Init::Normal { std: 0.02 },
            scaling: ScalingChoice::Standard,
            seed: 7,
            val: 5000,
            train: TrainConfig {
                steps: Some(1200),
                optimizer: Method::AdamW {
                    beta1: 0.8,
                    beta2: 0.99,
                    eps: 1e-7,
                    weight_decay: 0.05,
                },
                schedule: Schedule {
                    lr: 0.002,
                    decay: Decay::Cosine { min_lr: 1e-5 },
                    warmup_epochs: 0.5,
                },
                dropout: Dropout {
                    input: 0.1,
                    hidden: 0.3,
                },
                augment: "shift=2,rotate=5".parse::<Augment>().unwrap(),
                patience: Some(3),
                ..TrainConfig::default()
            },
            ..RunSpec::default()
        };
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<RunSpec>(&json).unwrap(), spec);
        let files = RunSpec {
            dataset: DatasetId::Files("shapes".to_owned()),
            ..spec
        };
        let json = serde_json::to_string(&files).unwrap();
        assert!(json.contains(r#""dataset":{"files":"shapes"}"#), "{json}");
        assert_eq!(serde_json::from_str::<RunSpec>(&json).unwrap(), files);
    }

    #[test]
    fn the_training_object_of_a_file_written_before_the_spec_reads_as_one() {
        // The `training` metadata `mlp train` wrote at 5ea5a96, for --hidden 64 --activation relu
        // --optimizer adam --dropout 0.2 --augment shift=2 --val 1000 --steps 20 --seed 7.
        let written = r#"{"activation":"relu","augment":{"elastic":0.0,"elastic_sigma":4.0,"rotate":0.0,"scale":0.0,"shift":2},"batch_size":100,"data_dir":"/work/shared/data/mnist","dataset":"mnist","dropout":{"hidden":0.2,"input":0.0},"epochs":1,"hidden":[64],"init":"he","l2":0.0,"loss":"cross-entropy","optimizer":{"beta1":0.9,"beta2":0.999,"eps":1e-8,"name":"adam"},"patience":null,"schedule":{"decay":{"name":"constant"},"lr":0.001,"warmup_epochs":0.0},"seed":7,"steps":20,"val":1000}"#;
        let spec: RunSpec = serde_json::from_str(written).unwrap();
        assert_eq!(
            (spec.activation, spec.init, spec.scaling, spec.seed, spec.val),
            (Activation::Relu, Init::He, ScalingChoice::Unit, 7, 1000)
        );
        assert_eq!((spec.train.steps, spec.train.dropout.hidden), (Some(20), 0.2));
        assert_eq!(
            spec.train.optimizer,
            Method::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8
            }
        );
    }
}
