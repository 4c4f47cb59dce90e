//! A run's specification: every setting that shapes a training run, in one serde type. The
//! command line fills it, the model file records it (metadata `training`), and a resumed run reads
//! it back from there; nothing else keeps a list of the settings.
//!
//! Its JSON is the `training` object of model files since they were first written (the same keys
//! and values), plus `scaling`, which older files record only in `input`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

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
    /// The validation images: training images held out, or the data file's own split.
    pub val: Validation,
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
            val: Validation::Held(0),
            train: TrainConfig::default(),
        }
    }
}

/// Which images validate a run: `Held(n)`, n training images held out as the seed chooses (0:
/// none), or `FileSplit`, the data file's own validation split (MedMNIST's npz `val_images`).
/// Recorded as the count, as runs always have, or as `"file"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "ValidationJson", try_from = "ValidationJson")]
pub enum Validation {
    Held(usize),
    FileSplit,
}

/// The word for `Validation::FileSplit`, on the command line (`--val file`, or `--val` alone) and
/// in the record.
const FILE_SPLIT: &str = "file";

impl Validation {
    /// Training images held out: 0 for the file's split.
    pub fn held(self) -> usize {
        match self {
            Self::Held(n) => n,
            Self::FileSplit => 0,
        }
    }

    pub fn is_none(self) -> bool {
        self == Self::Held(0)
    }
}

impl fmt::Display for Validation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Held(n) => write!(f, "{n}"),
            Self::FileSplit => f.write_str(FILE_SPLIT),
        }
    }
}

impl FromStr for Validation {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim() {
            FILE_SPLIT => Ok(Self::FileSplit),
            count => count.parse().map(Self::Held).map_err(|_| {
                format!("`{text}` is neither a number of images to hold out nor `{FILE_SPLIT}` (the file's own validation split)")
            }),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum ValidationJson {
    Held(usize),
    Word(String),
}

impl From<Validation> for ValidationJson {
    fn from(val: Validation) -> Self {
        match val {
            Validation::Held(n) => Self::Held(n),
            Validation::FileSplit => Self::Word(FILE_SPLIT.to_owned()),
        }
    }
}

impl TryFrom<ValidationJson> for Validation {
    type Error = String;

    fn try_from(json: ValidationJson) -> Result<Self, String> {
        match json {
            ValidationJson::Held(n) => Ok(Self::Held(n)),
            ValidationJson::Word(word) => word.parse(),
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
            val: Validation::Held(5000),
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
            (
                Activation::Relu,
                Init::He,
                ScalingChoice::Unit,
                7,
                Validation::Held(1000)
            )
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

    #[test]
    fn validation_is_recorded_as_the_count_or_as_file() {
        assert_eq!(serde_json::to_string(&Validation::Held(1000)).unwrap(), "1000");
        assert_eq!(serde_json::to_string(&Validation::FileSplit).unwrap(), r#""file""#);
        for val in [Validation::Held(0), Validation::Held(7), Validation::FileSplit] {
            let json = serde_json::to_string(&val).unwrap();
            assert_eq!(serde_json::from_str::<Validation>(&json).unwrap(), val);
            assert_eq!(val.to_string().parse::<Validation>().unwrap(), val);
        }
        assert!(serde_json::from_str::<Validation>(r#""half""#).is_err());
        assert!("-3".parse::<Validation>().unwrap_err().contains("`-3`"));
    }
}
