//! `mlp train`: flags, their validation into a typed configuration, and the run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::data::DataArgs;
use super::exit::usage_bail;
use super::{LossName, non_negative_f64, output, positive_f64, positive_usize, seed, unit_interval};
use crate::data::augment::Augment;
use crate::data::catalog::KnownDataset;
use crate::data::dataset::{CLASSES, DataError, Split};
use crate::data::scaling::Scaling;
use crate::model_file::{self, InputSpec, ModelInfo};
use crate::nn::{Activation, Dropout, Init, Loss, Network};
use crate::optim::{Method, defaults};
use crate::report::{Console, Progress};
use crate::schedule::{Decay, Schedule};
use crate::train::{EpochRecord, History, Observer, TrainConfig, train};
use crate::viz::{self, Format, curves::Curves};

#[derive(Debug, Args)]
pub struct TrainArgs {
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
    /// Passes over the training set
    #[arg(long, value_parser = positive_usize, default_value = "30")]
    pub epochs: usize,
    /// Train for this many mini-batch updates instead of whole epochs (the textbook recipe's 10000
    /// iterations); the last epoch stops early and is evaluated like the others
    #[arg(long, value_parser = positive_usize, conflicts_with = "epochs")]
    pub steps: Option<usize>,
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
    pub scaling: ScalingName,
    /// Seed of the one random generator (initial weights and shuffling)
    #[arg(long, value_parser = seed, default_value = "1")]
    pub seed: u64,
    #[command(flatten)]
    pub data: DataArgs,
    /// Where to save the model, after every epoch
    #[arg(long, default_value = "model.bin")]
    pub out: PathBuf,
    /// Draw the learning curves (accuracy and loss per epoch) to this .png or .svg, after every epoch
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Worker threads for the matrix products and evaluation [default: all cores]. The same seed
    /// and thread count give bit-identical results
    #[arg(long, value_parser = positive_usize)]
    pub threads: Option<usize>,
    /// Print nothing but errors (and the JSON with --json)
    #[arg(long)]
    pub quiet: bool,
    /// Print one JSON object on stdout; human text goes to stderr
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OptimizerName {
    /// plain stochastic gradient descent
    Sgd,
    /// heavy-ball momentum
    Momentum,
    /// Nesterov momentum
    Nesterov,
    /// Adam
    Adam,
    /// Adam with decoupled weight decay
    #[value(name = "adamw")]
    AdamW,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScheduleName {
    Constant,
    Step,
    Cosine,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScalingName {
    Unit,
    Standard,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InitName {
    Auto,
    Normal,
    Xavier,
    He,
}

/// Default standard deviation of `--init normal`: the textbook two-layer net's N(0, 0.01²).
const DEFAULT_INIT_STD: f64 = 0.01;

impl TrainArgs {
    fn loss(&self) -> anyhow::Result<Loss> {
        match (self.loss, self.output_activation) {
            (LossName::Mse, output) => Ok(Loss::MeanSquaredError(output.unwrap_or(Activation::Sigmoid))),
            (_, Some(_)) => usage_bail!(
                "--output-activation applies only to --loss mse (cross-entropy implies softmax, bce implies sigmoid)"
            ),
            (LossName::CrossEntropy, None) => Ok(Loss::CrossEntropy),
            (LossName::Bce, None) => Ok(Loss::BinaryCrossEntropy),
        }
    }

    fn optimizer(&self) -> anyhow::Result<Method> {
        use OptimizerName::{Adam, AdamW, Momentum, Nesterov, Sgd};
        let name = self.optimizer;
        let only = |flag: &str, given: bool, allowed: &[OptimizerName], to: &str| {
            if given && !allowed.contains(&name) {
                usage_bail!("{flag} applies only to --optimizer {to}");
            }
            anyhow::Ok(())
        };
        only(
            "--momentum",
            self.momentum.is_some(),
            &[Momentum, Nesterov],
            "momentum or nesterov",
        )?;
        for (flag, value) in [("--beta1", self.beta1), ("--beta2", self.beta2), ("--eps", self.eps)] {
            only(flag, value.is_some(), &[Adam, AdamW], "adam or adamw")?;
        }
        only(
            "--weight-decay",
            self.weight_decay.is_some(),
            &[AdamW],
            "adamw (for the others, --l2 adds a penalty to the loss)",
        )?;
        let momentum = self.momentum.unwrap_or(defaults::MOMENTUM);
        let (beta1, beta2, eps) = (
            self.beta1.unwrap_or(defaults::BETA1),
            self.beta2.unwrap_or(defaults::BETA2),
            self.eps.unwrap_or(defaults::EPS),
        );
        Ok(match name {
            Sgd => Method::Sgd,
            Momentum => Method::Momentum { momentum },
            Nesterov => Method::Nesterov { momentum },
            Adam => Method::Adam { beta1, beta2, eps },
            AdamW => Method::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay: self.weight_decay.unwrap_or(defaults::WEIGHT_DECAY),
            },
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
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let loss = args.loss()?;
    let init = args.init()?;
    let mut config = TrainConfig {
        epochs: args.epochs,
        steps: args.steps,
        batch_size: args.batch_size,
        optimizer: args.optimizer()?,
        schedule: args.schedule()?,
        l2: args.l2,
        dropout: Dropout {
            input: args.input_dropout,
            hidden: args.dropout,
        },
        augment: args.augment,
    };
    let console = Console::new(args.json, args.quiet);
    output::check_writable("--out", &args.out)?;
    let plot = match &args.plot {
        Some(path) => Some((path.as_path(), output::picture("--plot", path, true)?)),
        None => None,
    };

    let started = Instant::now();
    let dataset = args.data.dataset_or(KnownDataset::Mnist);
    let data_dir = args.data.dir(dataset);
    // The two splits side by side: decompressing the files is most of the loading time.
    let (train_set, test_set) = rayon::join(
        || args.data.load(dataset, Split::Train),
        || args.data.load(dataset, Split::Test),
    );
    let (mut train_set, mut test_set) = (train_set?, test_set?);
    let load_seconds = started.elapsed().as_secs_f64();
    if test_set.features() != train_set.features() {
        return Err(DataError::Incompatible(format!(
            "{}: the test images are {}x{} but the training images {}x{}",
            data_dir.path.display(),
            test_set.rows,
            test_set.cols,
            train_set.rows,
            train_set.cols
        ))
        .into());
    }
    if config.batch_size > train_set.len() {
        usage_bail!(
            "--batch-size {} is larger than the training set ({} samples)",
            config.batch_size,
            train_set.len()
        );
    }
    if let Some(steps) = config.steps {
        config.epochs = steps.div_ceil(train_set.len().div_ceil(config.batch_size));
    }

    let scaling = match args.scaling {
        ScalingName::Unit => Scaling::Unit,
        ScalingName::Standard => Scaling::standard_for(&train_set.images).with_context(|| {
            format!(
                "--scaling standard: every training pixel in {} has the same value",
                data_dir.path.display()
            )
        })?,
    };
    train_set.scaling = scaling;
    test_set.scaling = scaling;

    let mut sizes = vec![train_set.features()];
    sizes.extend(&args.hidden);
    sizes.push(CLASSES);
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let mut network = Network::<f32>::new(&sizes, args.activation, loss, init, &mut rng);
    let sizes_text = sizes.iter().map(usize::to_string).collect::<Vec<_>>().join("-");
    console.line(&format!(
        "training {sizes_text} ({} parameters) on {}, inputs {scaling}, {} hidden, {loss} loss, {init} init, {}, {}, batch {}, {} epochs, seed {}",
        network.parameter_count(),
        dataset.title(),
        args.activation,
        config.optimizer,
        config.schedule,
        args.batch_size,
        config.epochs,
        args.seed
    ));

    let training = json!({
        "hidden": args.hidden,
        "activation": args.activation.name(),
        "loss": loss.to_string(),
        "init": init.to_string(),
        "optimizer": config.optimizer,
        "schedule": config.schedule,
        "batch_size": args.batch_size,
        "epochs": config.epochs,
        "steps": config.steps,
        "l2": args.l2,
        "dropout": config.dropout,
        "augment": config.augment,
        "seed": args.seed,
        "dataset": dataset.name(),
        "data_dir": data_dir.path.display().to_string(),
    });
    let mut saver = EpochSaver {
        console,
        progress: None,
        out: &args.out,
        plot,
        history: History::default(),
        epochs: config.epochs,
        info: ModelInfo {
            dataset,
            input: InputSpec {
                rows: train_set.rows,
                cols: train_set.cols,
                scaling,
            },
            training: training.as_object().cloned().unwrap_or_default(),
        },
    };
    let history = train(&mut network, &train_set, &test_set, &config, &mut rng, &mut saver)?;

    let last = history.epochs.last().expect("at least one epoch ran");
    let seconds = started.elapsed().as_secs_f64();
    let train_seconds: f64 = history.epochs.iter().map(|e| e.train_seconds).sum();
    let eval_seconds: f64 = history.epochs.iter().map(|e| e.eval_seconds).sum();
    let steps: usize = history.epochs.iter().map(|e| e.steps).sum();
    console.line(&format!(
        "test accuracy {} after {} epochs ({steps} updates), {seconds:.1} s (loading {load_seconds:.2} s, \
         training {train_seconds:.1} s, evaluation {eval_seconds:.1} s); model saved to {}",
        last.test_accuracy,
        last.epoch,
        args.out.display()
    ));
    console.json(&json!({
        "model": args.out.display().to_string(),
        "layer_sizes": sizes,
        "config": training,
        "history": history.epochs,
        "final_test_accuracy": last.test_accuracy.fraction(),
        "seconds": seconds,
        "load_seconds": load_seconds,
        "train_seconds": train_seconds,
        "eval_seconds": eval_seconds,
    }));
    Ok(())
}

/// Shows progress and saves the model after every epoch.
struct EpochSaver<'a> {
    console: Console,
    progress: Option<Progress>,
    out: &'a Path,
    /// Where to draw the learning curves, and in which format.
    plot: Option<(&'a Path, Format)>,
    /// The epochs so far, for the curves.
    history: History,
    epochs: usize,
    info: ModelInfo,
}

impl Observer<f32> for EpochSaver<'_> {
    fn epoch_started(&mut self, epoch: usize, batches: usize) {
        self.progress = Some(
            self.console
                .progress(batches as u64, format!("epoch {epoch}/{}", self.epochs)),
        );
    }

    fn batch_done(&mut self, loss: f64) {
        if let Some(progress) = &mut self.progress {
            progress.step(loss);
        }
    }

    fn epoch_done(&mut self, network: &Network<f32>, record: &EpochRecord) -> anyhow::Result<()> {
        if let Some(progress) = self.progress.take() {
            progress.finish();
        }
        self.info
            .training
            .insert("epochs_completed".to_owned(), record.epoch.into());
        model_file::save(self.out, network, &self.info)?;
        self.history.epochs.push(record.clone());
        if let Some((path, format)) = self.plot {
            let (picture, _) = Curves::from_history(&self.history).render(format)?;
            viz::save(path, &picture)?;
        }
        self.console.line(&format!(
            "epoch {:>3}/{}  train loss {:.4}  train acc {}  test acc {}  {:.1} s",
            record.epoch, self.epochs, record.train_loss, record.train_accuracy, record.test_accuracy, record.seconds
        ));
        Ok(())
    }
}
