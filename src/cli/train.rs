//! `mlp train`: flags, their validation into a typed configuration, and the run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::{LossName, non_negative_f64, positive_f64, positive_usize};
use crate::data::dataset::{CLASSES, DataDir, Split, load_split};
use crate::model_file::{self, InputSpec, ModelInfo};
use crate::nn::{Activation, Init, Loss, Network};
use crate::report::{Console, Progress};
use crate::train::{EpochRecord, Observer, TrainConfig, train};

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
    /// Learning rate
    #[arg(long, value_parser = positive_f64, default_value = "0.5")]
    pub lr: f64,
    /// Mini-batch size
    #[arg(long, value_parser = positive_usize, default_value = "100")]
    pub batch_size: usize,
    /// Passes over the training set
    #[arg(long, value_parser = positive_usize, default_value = "30")]
    pub epochs: usize,
    /// L2 penalty λ: adds λ/2·Σw² to the loss (weights only, not biases)
    #[arg(long, value_parser = non_negative_f64, default_value = "0")]
    pub l2: f64,
    /// Weight initialization; auto picks xavier for sigmoid/tanh/identity and he for relu/leaky-relu
    #[arg(long, value_enum, default_value = "auto")]
    pub init: InitName,
    /// Standard deviation for --init normal
    #[arg(long, value_parser = positive_f64)]
    pub init_std: Option<f64>,
    /// Seed of the one random generator (initial weights and shuffling)
    #[arg(long, default_value = "1")]
    pub seed: u64,
    /// Directory with the MNIST files [default: $MLP_DATA_DIR, else ./data]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Where to save the model, after every epoch
    #[arg(long, default_value = "model.bin")]
    pub out: PathBuf,
    /// Print nothing but errors (and the JSON with --json)
    #[arg(long)]
    pub quiet: bool,
    /// Print one JSON object on stdout; human text goes to stderr
    #[arg(long)]
    pub json: bool,
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
            (_, Some(_)) => bail!(
                "--output-activation applies only to --loss mse (cross-entropy implies softmax, bce implies sigmoid)"
            ),
            (LossName::CrossEntropy, None) => Ok(Loss::CrossEntropy),
            (LossName::Bce, None) => Ok(Loss::BinaryCrossEntropy),
        }
    }

    fn init(&self) -> anyhow::Result<Init> {
        match (self.init, self.init_std) {
            (InitName::Normal, std) => Ok(Init::Normal {
                std: std.unwrap_or(DEFAULT_INIT_STD),
            }),
            (_, Some(_)) => bail!("--init-std applies only to --init normal"),
            (InitName::Auto, None) => Ok(Init::default_for(self.activation)),
            (InitName::Xavier, None) => Ok(Init::Xavier),
            (InitName::He, None) => Ok(Init::He),
        }
    }
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let loss = args.loss()?;
    let init = args.init()?;
    let config = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.lr,
        l2: args.l2,
    };
    let console = Console::new(args.json, args.quiet);
    check_writable(&args.out)?;

    let started = Instant::now();
    let data_dir = DataDir::resolve(args.data_dir.as_deref());
    let train_set = load_split(&data_dir, Split::Train)?;
    let test_set = load_split(&data_dir, Split::Test)?;
    if test_set.features() != train_set.features() {
        bail!(
            "the test images are {}x{} but the training images {}x{}",
            test_set.rows,
            test_set.cols,
            train_set.rows,
            train_set.cols
        );
    }
    if config.batch_size > train_set.len() {
        bail!(
            "--batch-size {} is larger than the training set ({} samples)",
            config.batch_size,
            train_set.len()
        );
    }

    let mut sizes = vec![train_set.features()];
    sizes.extend(&args.hidden);
    sizes.push(CLASSES);
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let mut network = Network::<f32>::new(&sizes, args.activation, loss, init, &mut rng);
    let sizes_text = sizes.iter().map(usize::to_string).collect::<Vec<_>>().join("-");
    console.line(&format!(
        "training {sizes_text} ({} parameters), {} hidden, {loss} loss, {init} init, lr {}, batch {}, {} epochs, seed {}",
        network.parameter_count(),
        args.activation,
        args.lr,
        args.batch_size,
        args.epochs,
        args.seed
    ));

    let training = json!({
        "hidden": args.hidden,
        "activation": args.activation.name(),
        "loss": loss.to_string(),
        "init": init.to_string(),
        "lr": args.lr,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "l2": args.l2,
        "seed": args.seed,
        "data_dir": data_dir.path.display().to_string(),
    });
    let mut saver = EpochSaver {
        console,
        progress: None,
        out: &args.out,
        epochs: args.epochs,
        info: ModelInfo {
            input: InputSpec {
                rows: train_set.rows,
                cols: train_set.cols,
                scaling: "unit".to_owned(),
            },
            training: training.as_object().cloned().unwrap_or_default(),
        },
    };
    let history = train(&mut network, &train_set, &test_set, &config, &mut rng, &mut saver)?;

    let last = history.epochs.last().expect("at least one epoch ran");
    let seconds = started.elapsed().as_secs_f64();
    console.line(&format!(
        "test accuracy {} after {} epochs, {seconds:.1} s; model saved to {}",
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
    }));
    Ok(())
}

/// Fails fast, before data loading and training, when the model could not be saved to `out`.
fn check_writable(out: &Path) -> anyhow::Result<()> {
    if out.is_dir() {
        bail!(
            "--out {} is a directory; give a file name such as model.bin",
            out.display()
        );
    }
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".mlp-")
        .tempfile_in(dir)
        .with_context(|| format!("--out {}: cannot create files in {}", out.display(), dir.display()))?;
    Ok(())
}

/// Shows progress and saves the model after every epoch.
struct EpochSaver<'a> {
    console: Console,
    progress: Option<Progress>,
    out: &'a Path,
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
        self.console.line(&format!(
            "epoch {:>3}/{}  train loss {:.4}  train acc {}  test acc {}  {:.1} s",
            record.epoch, self.epochs, record.train_loss, record.train_accuracy, record.test_accuracy, record.seconds
        ));
        Ok(())
    }
}
