//! `mlp fit`: networks on small made-up problems, a function of one variable (from an expression or
//! a CSV of points) or a logic table, trained with the same step as `mlp train`.

use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args, ValueEnum};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::args::{LossName, OptimizerFlags, OptimizerName, positive_f64, positive_usize};
use super::exit::{UsageError, usage_bail};
use super::output;
use crate::data::augment::Augment;
use crate::data::table::NumericTable;
use crate::fit::toy::Toy;
use crate::fit::{Problem, Regression, expr, fit, fit_chart, mean_loss};
use crate::nn::{Activation, Dropout, Init, Loss, Network};
use crate::report::Console;
use crate::schedule::{Decay, Schedule};
use crate::train::TrainConfig;
use crate::viz::{self, Format};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("problem").required(true).args(["expr", "csv", "toy"])))]
pub struct FitArgs {
    /// A function of x to fit, such as "x^2 + 2*x - 3", sampled over --range every --step
    #[arg(long)]
    pub expr: Option<String>,
    /// The x range of --expr, FROM:TO
    #[arg(long, value_parser = range, allow_hyphen_values = true, default_value = "-1:1")]
    pub range: (f64, f64),
    /// Spacing of the x values of --expr
    #[arg(long, value_parser = positive_f64, default_value = "0.05")]
    pub step: f64,
    /// Points to fit from a CSV: x in the first column, y in the second (a header row is optional)
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// A logic table to learn from 3 inputs (x1, x2 and a bias column of ones)
    #[arg(long, value_enum)]
    pub toy: Option<ToyName>,
    /// Hidden layer widths, such as 100,100,100, or `none` for no hidden layer
    /// [default: 50,50 for functions, 4 for logic tables]
    #[arg(long, value_parser = layer_widths)]
    pub hidden: Option<Widths>,
    /// Activation of the hidden layers [default: tanh for functions, sigmoid for logic tables]
    #[arg(long, value_enum)]
    pub activation: Option<Activation>,
    /// mse: half the squared error, on linear outputs for functions and sigmoid outputs for logic
    /// tables; bce: binary cross-entropy on a sigmoid output (logic tables only)
    #[arg(long, value_enum, default_value = "mse")]
    pub loss: LossName,
    /// Update rule, with the usual hyperparameters [default: adam for functions, sgd for logic tables]
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerName>,
    /// Learning rate [default: 0.01 with adam for functions, 2 with sgd for logic tables; 0.1 otherwise]
    #[arg(long, value_parser = positive_f64)]
    pub lr: Option<f64>,
    /// Mini-batch size, at most the number of points [default: 32 for functions (all the points when
    /// fewer), 4 (the whole table) for logic tables]
    #[arg(long, value_parser = positive_usize)]
    pub batch_size: Option<usize>,
    /// Passes over the points [default: as many as make 5000 updates]
    #[arg(long, value_parser = positive_usize)]
    pub epochs: Option<usize>,
    /// Print the loss every this many epochs [default: a tenth of the epochs]
    #[arg(long, value_parser = positive_usize)]
    pub print_every: Option<usize>,
    /// Seed of the random generator (initial weights and shuffling)
    #[arg(long, default_value = "1")]
    pub seed: u64,
    /// Draw the points and the network's curve to this .png or .svg (functions only)
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print nothing but errors (and the JSON with --json)
    #[arg(long)]
    pub quiet: bool,
    /// Print one JSON object on stdout; human text goes to stderr
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ToyName {
    Or,
    And,
    Xor,
}

/// Hidden layer widths; empty for none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Widths(pub Vec<usize>);

/// A `--hidden` value: `none`, or widths separated by commas.
fn layer_widths(text: &str) -> Result<Widths, String> {
    if text.trim() == "none" {
        return Ok(Widths(Vec::new()));
    }
    text.split(',')
        .map(positive_usize)
        .collect::<Result<_, _>>()
        .map(Widths)
}

/// A `--range` value: FROM:TO, two finite numbers with FROM < TO.
fn range(text: &str) -> Result<(f64, f64), String> {
    let Some((from, to)) = text.split_once(':') else {
        return Err(format!("`{text}` is not FROM:TO, such as -7:5"));
    };
    let number = |s: &str| match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("`{s}` in `{text}` is not a finite number")),
    };
    let (from, to) = (number(from)?, number(to)?);
    if from >= to {
        return Err(format!("FROM must be below TO in `{text}`"));
    }
    Ok((from, to))
}

/// Most points an --expr may make, to keep a typo in --step from filling the memory.
const MAX_POINTS: f64 = 1e6;
/// Updates the default number of epochs adds up to: enough for the functions and tables tried.
const DEFAULT_UPDATES: usize = 5000;
/// Points on the network's curve in --plot.
const CURVE_POINTS: usize = 400;

/// What is being fitted.
enum Task {
    Function { regression: Regression, what: String },
    Table(Toy),
}

pub fn run(args: FitArgs) -> anyhow::Result<()> {
    let plot = match &args.plot {
        Some(path) => Some((path.as_path(), output::picture("--plot", path, true)?)),
        None => None,
    };
    let task = task(&args)?;
    let is_table = matches!(task, Task::Table(_));
    if is_table && plot.is_some() {
        usage_bail!("--plot draws the fit of a function (--expr or --csv); --toy prints its table instead");
    }
    let loss = match (args.loss, is_table) {
        (LossName::Mse, false) => Loss::MeanSquaredError(Activation::Identity),
        (LossName::Mse, true) => Loss::MeanSquaredError(Activation::Sigmoid),
        (LossName::Bce, true) => Loss::BinaryCrossEntropy,
        (LossName::Bce, false) => usage_bail!("--loss bce needs targets of 0 and 1: use it with --toy"),
        (LossName::CrossEntropy, _) => {
            usage_bail!(
                "--loss cross-entropy needs two or more classes and fit has one output: use mse (or bce with --toy)"
            )
        }
    };
    let hidden = args
        .hidden
        .clone()
        .map_or_else(|| if is_table { vec![4] } else { vec![50, 50] }, |w| w.0);
    let activation = args.activation.unwrap_or(if is_table {
        Activation::Sigmoid
    } else {
        Activation::Tanh
    });
    let optimizer_name = args.optimizer.unwrap_or(if is_table {
        OptimizerName::Sgd
    } else {
        OptimizerName::Adam
    });
    let lr = args.lr.unwrap_or(match (optimizer_name, is_table) {
        (OptimizerName::Adam, false) => 0.01,
        (OptimizerName::Sgd, true) => 2.0,
        _ => 0.1,
    });
    let problem = match &task {
        Task::Function { regression, .. } => regression.problem(),
        Task::Table(toy) => toy.problem(),
    };
    let points = problem.x.nrows();
    let batch_size = match args.batch_size {
        Some(size) if size > points => {
            usage_bail!("--batch-size {size} is larger than the data ({points} points)")
        }
        Some(size) => size,
        None => points.min(if is_table { 4 } else { 32 }),
    };
    let batches_per_epoch = points.div_ceil(batch_size);
    let epochs = args.epochs.unwrap_or(DEFAULT_UPDATES.div_ceil(batches_per_epoch));
    let config = TrainConfig {
        epochs,
        batch_size,
        optimizer: optimizer_name.method(OptimizerFlags::default())?,
        schedule: Schedule {
            lr,
            decay: Decay::Cosine { min_lr: 0.0 },
            warmup_epochs: 0.0,
        },
        steps: None,
        l2: 0.0,
        dropout: Dropout::OFF,
        augment: Augment::default(),
        train_eval: None,
        patience: None,
        label_smoothing: 0.0,
        ema: None,
    };

    let mut sizes = vec![problem.x.ncols()];
    sizes.extend(&hidden);
    sizes.push(1);
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let mut network = Network::<f32>::new(&sizes, activation, loss, Init::default_for(activation), &mut rng);
    let console = Console::new(args.json, args.quiet);
    let sizes_text = sizes.iter().map(usize::to_string).collect::<Vec<_>>().join("-");
    let what = match &task {
        Task::Function { what, regression } => format!("{what} ({} points)", regression.points.len()),
        Task::Table(toy) => format!("the {} table", toy.name()),
    };
    console.line(&format!(
        "fitting {what} with {sizes_text} {activation}, {loss} loss, {} lr {lr}, batch {}, {epochs} epochs, seed {}",
        config.optimizer.name(),
        config.batch_size,
        args.seed
    ));

    let every = args.print_every.unwrap_or((epochs / 10).max(1));
    let mut history = Vec::new();
    fit(&mut network, &problem, &config, &mut rng, |epoch, network| {
        if epoch % every == 0 || epoch == epochs {
            let loss = mean_loss(network, &problem);
            let line = match &task {
                Task::Function { regression, .. } => {
                    format!("  rmse {:.6} (in y)", regression.rmse(network))
                }
                Task::Table(_) => String::new(),
            };
            console.line(&format!("epoch {epoch:>6}/{epochs}  loss {loss:.6}{line}"));
            history.push(json!({"epoch": epoch, "loss": loss}));
        }
    })?;

    let summary = match &task {
        Task::Function { regression, .. } => report_function(&console, regression, &network, plot)?,
        Task::Table(toy) => report_table(&console, *toy, &problem, &network),
    };
    console.json(&json!({
        "problem": what,
        "layer_sizes": sizes,
        "activation": activation.name(),
        "loss": loss.to_string(),
        "optimizer": config.optimizer.name(),
        "lr": lr,
        "batch_size": config.batch_size,
        "epochs": epochs,
        "seed": args.seed,
        "history": history,
        "final_loss": mean_loss(&network, &problem),
        "result": summary,
    }));
    Ok(())
}

/// The problem the flags describe.
fn task(args: &FitArgs) -> anyhow::Result<Task> {
    if let Some(toy) = args.toy {
        return Ok(Task::Table(match toy {
            ToyName::Or => Toy::Or,
            ToyName::And => Toy::And,
            ToyName::Xor => Toy::Xor,
        }));
    }
    if let Some(path) = &args.csv {
        let regression = Regression::from_table(&NumericTable::read(path)?)?;
        return Ok(Task::Function {
            regression,
            what: path.display().to_string(),
        });
    }
    let text = args.expr.as_deref().expect("clap requires --expr, --csv or --toy");
    let (from, to) = args.range;
    if (to - from) / args.step > MAX_POINTS {
        usage_bail!(
            "--range {from}:{to} with --step {} makes more than {MAX_POINTS} points",
            args.step
        );
    }
    let points = expr::sample(text, args.range, args.step).map_err(|e| UsageError(format!("--expr {e}")))?;
    Ok(Task::Function {
        regression: Regression::new(points),
        what: format!("y = {text} on [{from}, {to}]"),
    })
}

/// Prints the fit's error and draws it when asked; returns the JSON result.
fn report_function(
    console: &Console,
    regression: &Regression,
    network: &Network<f32>,
    plot: Option<(&Path, Format)>,
) -> anyhow::Result<serde_json::Value> {
    let rmse = regression.rmse(network);
    let (low, high) = regression
        .points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    console.line(&format!(
        "rmse {rmse:.6} over the points, whose y spans {low} to {high}"
    ));
    let curve = regression.curve(network, CURVE_POINTS);
    if let Some((path, format)) = plot {
        let (bytes, _) = fit_chart(&regression.points, &curve, format)?;
        viz::save(path, &bytes)?;
        console.line(&format!("drew the points and the fit to {}", path.display()));
    }
    Ok(json!({"rmse": rmse, "y_min": low, "y_max": high, "curve": curve}))
}

/// Prints each row's target and prediction; returns the JSON result.
fn report_table(console: &Console, toy: Toy, problem: &Problem, network: &Network<f32>) -> serde_json::Value {
    let x = problem.x.mapv(|v| v as f32);
    let predicted = network.predict(x.view());
    console.line(&format!(
        "{:>3} {:>3} {:>5} {:>7} {:>11}",
        "x1",
        "x2",
        "bias",
        toy.name(),
        "prediction"
    ));
    let mut rows = Vec::new();
    let mut right = 0;
    for (i, inputs) in problem.x.rows().into_iter().enumerate() {
        let (target, prediction) = (problem.t[[i, 0]], f64::from(predicted[[i, 0]]));
        right += usize::from((prediction > 0.5) == (target > 0.5));
        console.line(&format!(
            "{:>3} {:>3} {:>5} {:>7} {:>11.4}",
            inputs[0], inputs[1], inputs[2], target, prediction
        ));
        rows.push(json!({"inputs": inputs.to_vec(), "target": target, "prediction": prediction}));
    }
    console.line(&format!(
        "{right} of 4 rows right (prediction on the target's side of 0.5)"
    ));
    json!({"rows": rows, "right": right})
}
