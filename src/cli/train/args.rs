//! `mlp train`'s flags, and the settings among them turned into a run's specification.

use std::path::PathBuf;

use clap::Args;

use super::super::args::{
    InitName, LossName, OptimizerFlags, OptimizerName, ScheduleName, non_negative_f64, positive_f64, positive_usize,
    seed, unit_interval,
};
use super::super::data::DataArgs;
use super::super::exit::usage_bail;
use crate::data::augment::Augment;
use crate::data::catalog::DatasetId;
use crate::data::scaling::ScalingChoice;
use crate::nn::{Activation, Dropout, Init};
use crate::optim::Method;
use crate::run::{RunLength, RunSpec, Validation};
use crate::schedule::{Decay, Schedule};
use crate::train::TrainConfig;

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub length: LengthArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Append one CSV row per epoch to this file (epoch, lr, losses and accuracies, seconds)
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Continue the training saved in this model file, exactly where it stopped (its settings come
    /// from the file, and setting flags restated must agree with it; --epochs or --steps beyond its
    /// length train it on)
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// The setting flags the command line gave explicitly, checked against a resumed run's file.
    #[arg(skip)]
    pub restated: Vec<GivenFlag>,
    /// Where to save the model and its checkpoint, after every epoch [default: model.bin, or the
    /// --resume file]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Draw the learning curves (accuracy and loss per epoch) to this .png or .svg, after every
    /// epoch; `-` redraws them as text under the epoch lines on a terminal (plain lines otherwise)
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Worker threads for the matrix products and evaluation [default: all cores]. The same seed
    /// and thread count give bit-identical results
    #[arg(long, value_parser = positive_usize)]
    pub threads: Option<usize>,
    /// Measure each epoch before the next one trains, as on one thread, so that each epoch's
    /// training seconds are the updates' alone (for timing epochs). By default, with two threads
    /// or more, an epoch is measured while the next one trains
    #[arg(long)]
    pub measure_in_line: bool,
    /// Print nothing but errors (and the JSON with --json)
    #[arg(long)]
    pub quiet: bool,
    /// Print one JSON object on stdout; human text goes to stderr
    #[arg(long)]
    pub json: bool,
}

/// A setting flag as given on a command line: clap's id (the field name) and its value as typed.
#[derive(Clone, Debug, PartialEq)]
pub struct GivenFlag {
    pub id: String,
    pub value: String,
}

/// How long a run is: a new run's length, or where a resumed one ends.
#[derive(Debug, Args)]
pub struct LengthArgs {
    /// Passes over the training set [default: 30]; with --resume, more than the run's epochs train
    /// it on to this many
    #[arg(long, value_parser = positive_usize)]
    pub epochs: Option<usize>,
    /// Train for this many mini-batch updates instead of whole epochs (the textbook recipe's 10000
    /// iterations); the last epoch stops early and is evaluated like the others. With --resume,
    /// more than the run's updates train it on to this many
    #[arg(long, value_parser = positive_usize, conflicts_with = "epochs")]
    pub steps: Option<usize>,
}

impl LengthArgs {
    /// The length asked for, if any.
    pub fn length(&self) -> Option<RunLength> {
        match (self.epochs, self.steps) {
            (_, Some(steps)) => Some(RunLength::Steps(steps)),
            (Some(epochs), None) => Some(RunLength::Epochs(epochs)),
            (None, None) => None,
        }
    }
}

/// The flags that set up a run: what its `RunSpec` holds. A resumed run takes them from its file
/// instead; given with `--resume`, they must restate it (`restate`).
#[derive(Debug, Args)]
pub struct SpecArgs {
    /// Hidden layer widths, comma-separated: 100, or 256,128,64
    #[arg(long, value_delimiter = ',', value_parser = positive_usize, default_value = "100")]
    pub hidden: Vec<usize>,
    /// Activation of every hidden layer
    #[arg(long, value_enum, default_value = "sigmoid")]
    pub activation: Activation,
    /// Loss (and the output layer it implies)
    #[arg(long, value_enum, default_value = "cross-entropy")]
    pub loss: LossName,
    /// Output activation for --loss mse
    #[arg(long, value_enum)]
    pub output_activation: Option<Activation>,
    /// Update rule
    #[arg(long, value_enum, default_value = "sgd")]
    pub optimizer: OptimizerName,
    /// Learning rate [default: 0.5 for sgd, 0.05 for momentum and nesterov, 0.001 for adam and adamw]
    #[arg(long, value_parser = positive_f64)]
    pub lr: Option<f64>,
    /// Momentum μ of --optimizer momentum and nesterov [default: 0.9]
    #[arg(long, value_parser = unit_interval)]
    pub momentum: Option<f64>,
    /// β₁ of --optimizer adam and adamw [default: 0.9]
    #[arg(long, value_parser = unit_interval)]
    pub beta1: Option<f64>,
    /// β₂ of --optimizer adam and adamw [default: 0.999]
    #[arg(long, value_parser = unit_interval)]
    pub beta2: Option<f64>,
    /// ε of --optimizer adam and adamw [default: 1e-8]
    #[arg(long, value_parser = positive_f64)]
    pub eps: Option<f64>,
    /// Decoupled weight decay λ of --optimizer adamw: θ ← θ - lr·λ·θ on weights [default: 0.01]
    #[arg(long, value_parser = non_negative_f64)]
    pub weight_decay: Option<f64>,
    /// Learning-rate schedule after the warm-up
    #[arg(long, value_enum, default_value = "constant")]
    pub schedule: ScheduleName,
    /// Epochs between two drops of --schedule step
    #[arg(long, value_parser = positive_usize)]
    pub lr_step: Option<usize>,
    /// Factor of each drop of --schedule step [default: 0.1]
    #[arg(long, value_parser = positive_f64)]
    pub lr_gamma: Option<f64>,
    /// Final rate of --schedule cosine [default: 0]
    #[arg(long, value_parser = non_negative_f64)]
    pub lr_min: Option<f64>,
    /// Epochs (fractions allowed) of linear warm-up to the learning rate
    #[arg(long, value_parser = non_negative_f64, default_value = "0")]
    pub warmup: f64,
    /// Mini-batch size
    #[arg(long, value_parser = positive_usize, default_value = "100")]
    pub batch_size: usize,
    /// L2 penalty λ: adds λ/2·Σw² to the loss (weights only, not biases)
    #[arg(long, value_parser = non_negative_f64, default_value = "0")]
    pub l2: f64,
    /// Weight initialization; auto picks xavier for sigmoid/tanh/identity and he for relu/leaky-relu
    #[arg(long, value_enum, default_value = "auto")]
    pub init: InitName,
    /// Standard deviation for --init normal
    #[arg(long, value_parser = positive_f64)]
    pub init_std: Option<f64>,
    /// Dropout probability of every hidden layer's outputs in training (inverted dropout)
    #[arg(long, value_parser = unit_interval, default_value = "0")]
    pub dropout: f64,
    /// Dropout probability of the input pixels in training
    #[arg(long, value_parser = unit_interval, default_value = "0")]
    pub input_dropout: f64,
    /// Random transforms of training images, e.g. shift=2,rotate=10,scale=0.1 (shift in pixels,
    /// rotate in degrees, scale as a fraction; elastic=ALPHA and elastic-sigma=SIGMA in pixels for
    /// elastic distortions)
    #[arg(long, default_value = "none")]
    pub augment: Augment,
    /// Input scaling: unit is pixel/255; standard subtracts the training pixels' mean and divides by
    /// their standard deviation. Saved with the model and applied by everything that loads it
    #[arg(long, value_enum, default_value = "unit")]
    pub scaling: ScalingChoice,
    /// Seed of the one random generator (initial weights and shuffling)
    #[arg(long, value_parser = seed, default_value = "1")]
    pub seed: u64,
    /// Hold out this many training images (chosen by --seed) for validation: per-epoch validation
    /// accuracy, and the model kept is the one of the best validation epoch. `--val` alone (or
    /// `--val file`) validates on the data file's own validation split (MedMNIST's npz)
    #[arg(long, default_value = "0", num_args = 0..=1, default_missing_value = "file")]
    pub val: Validation,
    /// Stop after this many epochs without a better validation accuracy (needs --val)
    #[arg(long, value_parser = positive_usize)]
    pub patience: Option<usize>,
    /// Measure this many training images after each epoch (spread evenly through the set), or none
    /// with 0, instead of all of them: for short runs, where measuring 60,000 images each epoch
    /// costs more than training. Training itself is the same [default: all]
    #[arg(long)]
    pub train_eval: Option<usize>,
    /// Label smoothing ε: training targets become (1 - ε)·one-hot + ε/classes (0.1 is usual).
    /// Evaluation and the reported losses use the true labels
    #[arg(long, value_parser = unit_interval, default_value = "0")]
    pub label_smoothing: f64,
    /// Keep an exponential moving average of the weights with this decay per update (e.g. 0.999,
    /// or 0.9999 for long runs), warmed up over the first updates: each epoch measures the average,
    /// and the model saved is the average, while training goes on from the weights themselves
    #[arg(long, value_parser = unit_interval, value_name = "DECAY")]
    pub ema: Option<f64>,
}

/// Default standard deviation of `--init normal`: the textbook two-layer net's N(0, 0.01²).
const DEFAULT_INIT_STD: f64 = 0.01;

impl SpecArgs {
    fn optimizer(&self) -> anyhow::Result<Method> {
        self.optimizer.method(OptimizerFlags {
            momentum: self.momentum,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            weight_decay: self.weight_decay,
        })
    }

    fn schedule(&self) -> anyhow::Result<Schedule> {
        let lr = self.lr.unwrap_or(match self.optimizer {
            OptimizerName::Sgd => 0.5,
            OptimizerName::Momentum | OptimizerName::Nesterov => 0.05,
            OptimizerName::Adam | OptimizerName::AdamW => 0.001,
        });
        let decay = match (self.schedule, self.lr_step, self.lr_gamma, self.lr_min) {
            (ScheduleName::Step, Some(every_epochs), gamma, None) => Decay::Step {
                every_epochs,
                gamma: gamma.unwrap_or(0.1),
            },
            (ScheduleName::Step, None, _, _) => usage_bail!("--schedule step needs --lr-step EPOCHS"),
            (ScheduleName::Cosine, None, None, min_lr) => Decay::Cosine {
                min_lr: min_lr.unwrap_or(0.0),
            },
            (ScheduleName::Constant, None, None, None) => Decay::Constant,
            (_, _, _, Some(_)) => usage_bail!("--lr-min applies only to --schedule cosine"),
            (_, _, _, None) => usage_bail!("--lr-step and --lr-gamma apply only to --schedule step"),
        };
        if let Decay::Cosine { min_lr } = decay
            && min_lr > lr
        {
            usage_bail!("--lr-min {min_lr} is above the learning rate {lr}");
        }
        Ok(Schedule {
            lr,
            decay,
            warmup_epochs: self.warmup,
        })
    }

    fn init(&self) -> anyhow::Result<Init> {
        match (self.init, self.init_std) {
            (InitName::Normal, std) => Ok(Init::Normal {
                std: std.unwrap_or(DEFAULT_INIT_STD),
            }),
            (_, Some(_)) => usage_bail!("--init-std applies only to --init normal"),
            (InitName::Auto, None) => Ok(Init::default_for(self.activation)),
            (InitName::Xavier, None) => Ok(Init::Xavier),
            (InitName::He, None) => Ok(Init::He),
        }
    }

    /// The run these flags ask for on `dataset`, `length` long (its directory is filled in when
    /// the run starts).
    pub fn spec(&self, dataset: DatasetId, length: Option<RunLength>) -> anyhow::Result<RunSpec> {
        let defaults = TrainConfig::default();
        let (epochs, steps) = match length {
            Some(RunLength::Epochs(epochs)) => (epochs, None),
            Some(RunLength::Steps(steps)) => (defaults.epochs, Some(steps)),
            None => (defaults.epochs, None),
        };
        Ok(RunSpec {
            dataset,
            data_dir: PathBuf::new(),
            test_data: None,
            image_size: None,
            hidden: self.hidden.clone(),
            activation: self.activation,
            loss: self.loss.with_output(self.output_activation)?,
            init: self.init()?,
            scaling: self.scaling,
            seed: self.seed,
            val: self.val,
            train: TrainConfig {
                epochs,
                steps,
                batch_size: self.batch_size,
                optimizer: self.optimizer()?,
                schedule: self.schedule()?,
                l2: self.l2,
                dropout: Dropout {
                    input: self.input_dropout,
                    hidden: self.dropout,
                },
                augment: self.augment,
                patience: self.patience,
                train_eval: self.train_eval,
                label_smoothing: self.label_smoothing,
                ema: self.ema,
            },
        })
    }
}
