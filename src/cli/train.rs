//! `mlp train`: flags, their validation into a typed configuration, and the run.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::args::{
    InitName, LossName, OptimizerFlags, OptimizerName, ScalingName, ScheduleName, non_negative_f64, positive_f64,
    positive_usize, seed, unit_interval,
};
use super::data::{DataArgs, chosen_dir};
use super::exit::usage_bail;
use super::{exit, output};
use crate::data::augment::Augment;
use crate::data::catalog::KnownDataset;
use crate::data::dataset::{DataDir, DataError, Dataset, load_split};
use crate::data::scaling::Scaling;
use crate::data::split::{CLASSES, Split};
use crate::evaluate::evaluate;
use crate::model_file::{self, InputSpec, ModelInfo};
use crate::nn::{Activation, Dropout, Init, Network};
use crate::optim::Method;
use crate::report::{Console, Progress};
use crate::schedule::{Decay, Schedule};
use crate::train::{EpochRecord, Observer, Outcome, Splits, TrainConfig, TrainState, train};
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
    /// Hold out this many training images (chosen by --seed) for validation: per-epoch validation
    /// accuracy, and the model kept is the one of the best validation epoch
    #[arg(long, default_value = "0")]
    pub val: usize,
    /// Stop after this many epochs without a better validation accuracy (needs --val)
    #[arg(long, value_parser = positive_usize)]
    pub patience: Option<usize>,
    /// Append one CSV row per epoch to this file (epoch, lr, losses and accuracies, seconds)
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Continue the training saved in this model file, exactly where it stopped (its settings come
    /// from the file)
    #[arg(long, conflicts_with_all = RESUME_CONFLICTS)]
    pub resume: Option<PathBuf>,
    /// Where to save the model and its checkpoint, after every epoch [default: model.bin, or the
    /// --resume file]
    #[arg(long)]
    pub out: Option<PathBuf>,
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

/// The flags that set up a run, which a resumed run takes from its file instead.
const RESUME_CONFLICTS: [&str; 30] = [
    "hidden",
    "activation",
    "loss",
    "output_activation",
    "optimizer",
    "lr",
    "momentum",
    "beta1",
    "beta2",
    "eps",
    "weight_decay",
    "schedule",
    "lr_step",
    "lr_gamma",
    "lr_min",
    "warmup",
    "batch_size",
    "epochs",
    "l2",
    "init",
    "init_std",
    "dropout",
    "input_dropout",
    "augment",
    "scaling",
    "seed",
    "val",
    "steps",
    "dataset",
    "patience",
];

/// Default standard deviation of `--init normal`: the textbook two-layer net's N(0, 0.01²).
const DEFAULT_INIT_STD: f64 = 0.01;

impl TrainArgs {
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
}

/// Set by the first Ctrl-C: training stops after the current batch and saves a checkpoint.
static STOP_REQUESTED: AtomicBool = AtomicBool::new(false);

/// The first Ctrl-C asks training to stop after its batch; a second one exits at once (the last
/// checkpoint, written atomically, stays whole).
fn install_interrupt_handler(console: Console) -> anyhow::Result<()> {
    let installed = ctrlc::set_handler(move || {
        if STOP_REQUESTED.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(exit::INTERRUPTED));
        }
        console.note("Ctrl-C: finishing this batch and saving a checkpoint (press again to quit at once)");
    });
    match installed {
        Ok(()) | Err(ctrlc::Error::MultipleHandlers) => Ok(()),
        Err(e) => Err(e).context("cannot install the Ctrl-C handler"),
    }
}

/// A run ready to train: its data, settings, state and what the model file records.
struct Run {
    config: TrainConfig,
    state: TrainState<f32>,
    info: ModelInfo,
    train: Dataset,
    validation: Option<Dataset>,
    test: Dataset,
    out: PathBuf,
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let console = Console::new(args.json, args.quiet);
    let out = args
        .out
        .clone()
        .or_else(|| args.resume.clone())
        .unwrap_or_else(|| PathBuf::from("model.bin"));
    output::check_writable("--out", &out)?;
    let plot = match &args.plot {
        Some(path) => Some((path.as_path(), output::picture("--plot", path, true)?)),
        None => None,
    };
    let history_file = args.history.as_deref().map(HistoryCsv::open).transpose()?;

    let started = Instant::now();
    let mut run = match &args.resume {
        Some(path) => resume(&args, path, out)?,
        None => start(&args, out)?,
    };
    let load_seconds = started.elapsed().as_secs_f64();
    describe(&console, &run);
    install_interrupt_handler(console)?;

    let mut saver = EpochSaver {
        console,
        progress: None,
        run_config: run.config,
        out: &run.out,
        plot,
        history_file,
        info: &run.info,
    };
    let splits = Splits {
        train: &run.train,
        validation: run.validation.as_ref(),
        test: &run.test,
    };
    let outcome = train(&mut run.state, splits, &run.config, &mut saver)?;
    if outcome == Outcome::Interrupted {
        model_file::save_checkpoint(&run.out, &run.config, &run.state, &run.info)?;
        return Err(exit::Interrupted {
            checkpoint: run.out.clone(),
            resume_command: resume_command(&args, &run.out),
        }
        .into());
    }
    finish(&console, &run, outcome, load_seconds, started.elapsed().as_secs_f64())
}

/// A new run from the flags.
fn start(args: &TrainArgs, out: PathBuf) -> anyhow::Result<Run> {
    let loss = args.loss.with_output(args.output_activation)?;
    let init = args.init()?;
    if args.patience.is_some() && args.val == 0 {
        usage_bail!("--patience needs validation data: give --val N to hold out N training images");
    }
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
        patience: args.patience,
    };
    let dataset = args.data.dataset_or(KnownDataset::Mnist);
    let data_dir = args.data.dir(dataset);
    args.data.fetch_missing(
        dataset,
        &[Split::Train, Split::Test],
        &Console::new(args.json, args.quiet),
    )?;
    let (mut train_set, mut validation, mut test_set) = load_data(&data_dir, args.val, args.seed)?;
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
        ScalingName::Standard => Scaling::standard_for(train_set.images()).with_context(|| {
            format!(
                "--scaling standard: every training pixel in {} has the same value",
                data_dir.path.display()
            )
        })?,
    };
    for set in [Some(&mut train_set), validation.as_mut(), Some(&mut test_set)]
        .into_iter()
        .flatten()
    {
        set.scaling = scaling;
    }

    let mut sizes = vec![train_set.features()];
    sizes.extend(&args.hidden);
    sizes.push(CLASSES);
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let network = Network::<f32>::new(&sizes, args.activation, loss, init, &mut rng);
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
        "val": args.val,
        "patience": args.patience,
        "seed": args.seed,
        "dataset": dataset.name(),
        "data_dir": data_dir.path.display().to_string(),
    });
    Ok(Run {
        state: TrainState::new(network, config.optimizer, rng, train_set.len()),
        config,
        info: ModelInfo {
            dataset,
            input: InputSpec {
                rows: train_set.rows,
                cols: train_set.cols,
                scaling,
            },
            training: training.as_object().cloned().unwrap_or_default(),
        },
        train: train_set,
        validation,
        test: test_set,
        out,
    })
}

/// The run saved in `path`, with the data it was trained on.
fn resume(args: &TrainArgs, path: &Path, out: PathBuf) -> anyhow::Result<Run> {
    let (model, checkpoint) = model_file::load_checkpoint(path)?;
    let Some(checkpoint) = checkpoint else {
        usage_bail!(
            "--resume {}: the file holds a model but no training state to continue from; \
             resume from the --out file of an unfinished `mlp train`",
            path.display()
        );
    };
    let training = &model.info.training;
    let setting = |key: &str| {
        training
            .get(key)
            .and_then(serde_json::Value::as_u64)
            .with_context(|| format!("--resume {}: its training settings have no `{key}`", path.display()))
    };
    let (val, seed) = (setting("val")? as usize, setting("seed")?);
    let data_dir = match (&args.data.data_dir, training.get("data_dir").and_then(|d| d.as_str())) {
        (None, Some(saved)) => chosen_dir(
            PathBuf::from(saved),
            model.info.dataset,
            "the directory the run was trained on",
        ),
        _ => args.data.dir(model.info.dataset),
    };
    let (mut train_set, mut validation, mut test_set) = load_data(&data_dir, val, seed)?;
    let input = &model.info.input;
    if (train_set.rows, train_set.cols) != (input.rows, input.cols) {
        return Err(DataError::Incompatible(format!(
            "--resume {}: trained on {}x{} images but those in {} are {}x{}",
            path.display(),
            input.rows,
            input.cols,
            data_dir.path.display(),
            train_set.rows,
            train_set.cols
        ))
        .into());
    }
    if train_set.len() != checkpoint.state.order.len() {
        return Err(DataError::Incompatible(format!(
            "--resume {}: trained on {} images but {} has {} (after holding out {val})",
            path.display(),
            checkpoint.state.order.len(),
            data_dir.path.display(),
            train_set.len()
        ))
        .into());
    }
    for set in [Some(&mut train_set), validation.as_mut(), Some(&mut test_set)]
        .into_iter()
        .flatten()
    {
        set.scaling = input.scaling;
    }
    Ok(Run {
        config: checkpoint.config,
        state: checkpoint.state,
        info: model.info,
        train: train_set,
        validation,
        test: test_set,
        out,
    })
}

/// The training set (less `val` images held out by `seed`), the held-out images, and the test set.
fn load_data(data_dir: &DataDir, val: usize, seed: u64) -> anyhow::Result<(Dataset, Option<Dataset>, Dataset)> {
    // The two splits side by side: decompressing the files is most of the loading time.
    let (train_set, test_set) = rayon::join(
        || load_split(data_dir, Split::Train),
        || load_split(data_dir, Split::Test),
    );
    let (train_set, test_set) = (train_set?, test_set?);
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
    if val == 0 {
        return Ok((train_set, None, test_set));
    }
    if val >= train_set.len() {
        usage_bail!(
            "--val {val} leaves no training images: the training set has {}",
            train_set.len()
        );
    }
    let (train_set, validation) = train_set.hold_out(val, seed);
    Ok((train_set, Some(validation), test_set))
}

fn describe(console: &Console, run: &Run) {
    let network = &run.state.network;
    let sizes = network
        .sizes()
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("-");
    let config = &run.config;
    let mut text = format!(
        "training {sizes} ({} parameters) on {}, inputs {}, {} hidden, {} loss, {}, {}, batch {}, {} epochs",
        network.parameter_count(),
        run.info.dataset.title(),
        run.info.input.scaling,
        network.activation,
        network.loss,
        config.optimizer,
        config.schedule,
        config.batch_size,
        config.epochs,
    );
    if config.l2 > 0.0 {
        text += &format!(", l2 {}", config.l2);
    }
    if config.dropout != Dropout::OFF {
        text += &format!(", dropout {} (input {})", config.dropout.hidden, config.dropout.input);
    }
    if !config.augment.is_off() {
        text += &format!(", augment {}", config.augment);
    }
    if let Some(v) = &run.validation {
        text += &format!(", {} training and {} validation images", run.train.len(), v.len());
    }
    if let Some(p) = config.patience {
        text += &format!(", patience {p}");
    }
    console.line(&text);
    if run.state.epoch > 0 || run.state.batches_done > 0 {
        console.line(&format!(
            "resuming after epoch {} and {} batches of the next",
            run.state.epoch, run.state.batches_done
        ));
    }
}

/// The test accuracy of the model kept, and the closing report.
fn finish(console: &Console, run: &Run, outcome: Outcome, load_seconds: f64, seconds: f64) -> anyhow::Result<()> {
    let kept = run.state.kept();
    let on_test = evaluate(kept, &run.test);
    let (how, epochs) = match outcome {
        Outcome::EarlyStopped => ("stopped early", run.state.epoch),
        _ => ("finished", run.state.epoch),
    };
    let which = match &run.state.best {
        Some(best) => format!(
            "the model of epoch {} (best validation accuracy {})",
            best.epoch, best.accuracy
        ),
        None => format!("the model after epoch {epochs}"),
    };
    let history = &run.state.history.epochs;
    let train_seconds: f64 = history.iter().map(|e| e.train_seconds).sum();
    let eval_seconds: f64 = history.iter().map(|e| e.eval_seconds).sum();
    let steps: usize = history.iter().map(|e| e.steps).sum();
    console.line(&format!(
        "{how} after {epochs} epochs ({steps} updates), {seconds:.1} s (loading {load_seconds:.2} s, training \
         {train_seconds:.1} s, evaluation {eval_seconds:.1} s); kept {which}: test accuracy {}; saved to {}",
        on_test.accuracy(),
        run.out.display()
    ));
    console.json(&json!({
        "model": run.out.display().to_string(),
        "layer_sizes": kept.sizes(),
        "config": run.info.training,
        "history": run.state.history.epochs,
        "outcome": if outcome == Outcome::EarlyStopped { "early-stopped" } else { "finished" },
        "kept_epoch": run.state.best.as_ref().map_or(run.state.epoch, |b| b.epoch),
        "final_test_accuracy": on_test.accuracy().fraction(),
        "final_test_loss": on_test.loss,
        "seconds": seconds,
        "load_seconds": load_seconds,
        "train_seconds": train_seconds,
        "eval_seconds": eval_seconds,
    }));
    Ok(())
}

/// The command that continues this run.
fn resume_command(args: &TrainArgs, out: &Path) -> String {
    let mut command = format!("mlp train --resume {}", shell_word(&out.display().to_string()));
    if let Some(dir) = &args.data.data_dir {
        command += &format!(" --data-dir {}", shell_word(&dir.display().to_string()));
    }
    if let Some(history) = &args.history {
        command += &format!(" --history {}", shell_word(&history.display().to_string()));
    }
    command
}

/// `text` quoted for a POSIX shell when it needs to be.
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// `--history`: a CSV file that gains one row per finished epoch, flushed at once.
struct HistoryCsv {
    path: PathBuf,
    file: File,
}

/// The history CSV's columns; accuracies are fractions, empty where there is no validation set.
const HISTORY_HEADER: &str = "epoch,lr,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,seconds";

impl HistoryCsv {
    /// Opens `path` for appending, writing the header when the file is new or empty. Before any
    /// training, so a path that cannot be written is a usage error.
    fn open(path: &Path) -> anyhow::Result<Self> {
        if !path.is_file() {
            output::check_writable("--history", path)?;
        }
        let mut file =
            OpenOptions::new().create(true).append(true).open(path).map_err(|e| {
                exit::UsageError(format!("--history {}: cannot open for appending: {e}", path.display()))
            })?;
        let empty = file.metadata().map(|m| m.len() == 0).unwrap_or(false);
        if empty {
            writeln!(file, "{HISTORY_HEADER}").with_context(|| format!("--history {}", path.display()))?;
        }
        Ok(Self {
            path: path.to_owned(),
            file,
        })
    }

    fn append(&mut self, r: &EpochRecord) -> anyhow::Result<()> {
        let optional = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
        writeln!(
            self.file,
            "{},{},{},{},{},{},{},{},{:.3}",
            r.epoch,
            r.lr,
            r.train_loss,
            r.train_accuracy.fraction(),
            optional(r.val_loss),
            optional(r.val_accuracy.map(|a| a.fraction())),
            r.test_loss,
            r.test_accuracy.fraction(),
            r.seconds
        )
        .and_then(|()| self.file.flush())
        .with_context(|| format!("--history {}: cannot append", self.path.display()))
    }
}

/// Shows progress, saves the checkpoint after every epoch and appends the history.
struct EpochSaver<'a> {
    console: Console,
    progress: Option<Progress>,
    run_config: TrainConfig,
    out: &'a Path,
    /// Where to draw the learning curves, and in which format.
    plot: Option<(&'a Path, Format)>,
    history_file: Option<HistoryCsv>,
    info: &'a ModelInfo,
}

impl Observer<f32> for EpochSaver<'_> {
    fn epoch_started(&mut self, epoch: usize, batches: usize, done: usize) {
        self.progress = Some(self.console.progress(
            (batches - done) as u64,
            format!("epoch {epoch}/{}", self.run_config.epochs),
        ));
    }

    fn batch_done(&mut self, loss: f64) {
        if let Some(progress) = &mut self.progress {
            progress.step(loss);
        }
    }

    fn should_stop(&self) -> bool {
        STOP_REQUESTED.load(Ordering::SeqCst)
    }

    fn epoch_done(&mut self, state: &TrainState<f32>) -> anyhow::Result<()> {
        if let Some(progress) = self.progress.take() {
            progress.finish();
        }
        let record = state.history.epochs.last().expect("an epoch was recorded");
        model_file::save_checkpoint(self.out, &self.run_config, state, self.info)?;
        if let Some(history) = &mut self.history_file {
            history.append(record)?;
        }
        if let Some((path, format)) = self.plot {
            let (picture, _) = Curves::from_history(&state.history).render(format)?;
            viz::save(path, &picture)?;
        }
        let validation = record
            .val_accuracy
            .map_or_else(String::new, |a| format!("  val acc {a}"));
        let best = match &state.best {
            Some(b) if b.epoch == record.epoch => " *",
            _ => "",
        };
        self.console.line(&format!(
            "epoch {:>3}/{}  lr {:.3e}  train loss {:.4}  train acc {}{validation}  test acc {}  {:.1} s{best}",
            record.epoch,
            self.run_config.epochs,
            record.lr,
            record.train_loss,
            record.train_accuracy,
            record.test_accuracy,
            record.seconds
        ));
        Ok(())
    }
}
