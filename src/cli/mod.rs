//! The command line: clap types, one `Args` struct per subcommand, validation of flag values, and
//! the glue that runs each subcommand. Nothing below this module knows about flags.

mod data;
mod download;
mod eval;
pub mod exit;
mod fit;
mod gradcheck;
mod output;
mod plot;
mod predict;
mod show;
mod train;
mod weights;

use clap::builder::PossibleValue;
use clap::{Parser, Subcommand, ValueEnum};

use crate::data::catalog::KnownDataset;
use crate::nn::{Activation, Loss};
use crate::parallel;

pub use data::DataArgs;
pub use download::{DownloadArgs, DownloadCommandArgs};
pub use eval::EvalArgs;
pub use fit::FitArgs;
pub use gradcheck::GradcheckArgs;
pub use plot::PlotArgs;
pub use predict::PredictArgs;
pub use show::ShowArgs;
pub use train::TrainArgs;
pub use weights::WeightsArgs;

#[derive(Debug, Parser)]
#[command(
    name = "mlp",
    version,
    about = "Train, evaluate and gradient-check multilayer perceptrons on MNIST",
    long_about = "Train, evaluate and gradient-check multilayer perceptrons on MNIST.\n\n\
        Backpropagation is written by hand in matrix form; the data are the four IDX files of MNIST \
        or Fashion-MNIST (gzip or raw) in --data-dir, $MLP_DATA_DIR or ./data, downloaded there from \
        the data set's mirrors when missing.\n\n\
        Exit status: 0 success, 1 other failure, 2 usage error, 3 data error (missing, corrupt or \
        undownloadable data set or model file), 4 training diverged, 130 interrupted.",
    after_help = "Examples:\n  mlp train --hidden 100 --lr 0.5\n  mlp eval model.bin\n  mlp gradcheck\n  \
        mlp download --dataset fashion-mnist"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// `allow_negative_numbers`: so that `--lr -1` reaches the value check instead of being taken for a flag.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a network with mini-batch SGD and save it after every epoch
    #[command(allow_negative_numbers = true)]
    Train(Box<TrainArgs>),
    /// Evaluate a saved model: accuracy, loss, confusion matrix, per-class precision and recall
    #[command(allow_negative_numbers = true)]
    Eval(EvalArgs),
    /// Compare backprop's gradients with central differences in f64
    #[command(allow_negative_numbers = true)]
    Gradcheck(GradcheckArgs),
    /// Draw a grid of data set digits to a PNG
    #[command(allow_negative_numbers = true)]
    Show(ShowArgs),
    /// Draw a model's first-layer weights, one picture per hidden unit, to a PNG
    #[command(allow_negative_numbers = true)]
    Weights(WeightsArgs),
    /// Draw learning curves from a history CSV to a PNG or SVG
    Plot(PlotArgs),
    /// Recognise digits in pictures (PNG, JPEG, PGM) or IDX files with a trained model
    #[command(allow_negative_numbers = true)]
    Predict(PredictArgs),
    /// Fit a network to a function of one variable or learn a logic table (or, and, xor)
    #[command(allow_negative_numbers = true)]
    Fit(FitArgs),
    /// Download a data set's four files from its mirrors and verify their checksums
    #[command(allow_negative_numbers = true)]
    Download(DownloadCommandArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train(args) => parallel::with_threads(args.threads, move || train::run(*args))?,
        Command::Eval(args) => parallel::with_threads(args.threads, move || eval::run(args))?,
        Command::Gradcheck(args) => gradcheck::run(args),
        Command::Show(args) => show::run(args),
        Command::Weights(args) => weights::run(args),
        Command::Plot(args) => plot::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Fit(args) => fit::run(args),
        Command::Download(args) => download::run(args),
    }
}

impl ValueEnum for Activation {
    fn value_variants<'a>() -> &'a [Self] {
        &Activation::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}

impl ValueEnum for KnownDataset {
    fn value_variants<'a>() -> &'a [Self] {
        &KnownDataset::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}

/// The `--loss` names; mse's output activation comes from `--output-activation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LossName {
    /// softmax outputs with cross-entropy
    #[value(name = "cross-entropy", alias = "ce")]
    CrossEntropy,
    /// a sigmoid per class with binary cross-entropy
    Bce,
    /// mean squared error (half the squared error) on --output-activation outputs
    Mse,
}

impl LossName {
    /// The loss named by `--loss` with `--output-activation` (which only mse takes; sigmoid by default).
    fn with_output(self, output: Option<Activation>) -> anyhow::Result<Loss> {
        match (self, output) {
            (Self::Mse, output) => Ok(Loss::MeanSquaredError(output.unwrap_or(Activation::Sigmoid))),
            (_, Some(_)) => exit::usage_bail!(
                "--output-activation applies only to --loss mse (cross-entropy implies softmax, bce implies sigmoid)"
            ),
            (Self::CrossEntropy, None) => Ok(Loss::CrossEntropy),
            (Self::Bce, None) => Ok(Loss::BinaryCrossEntropy),
        }
    }
}

/// A `--lr`-style value: a finite number greater than zero.
fn positive_f64(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(_) => Err("must be a finite number greater than 0".to_owned()),
        Err(_) => Err(format!("`{text}` is not a number")),
    }
}

/// An `--l2`-style value: a finite number, zero or more.
fn non_negative_f64(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        Ok(_) => Err("must be a finite number of 0 or more".to_owned()),
        Err(_) => Err(format!("`{text}` is not a number")),
    }
}

/// A `--momentum` or `--dropout` value: at least 0 and below 1.
fn unit_interval(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..1.0).contains(&v) => Ok(v),
        Ok(_) => Err("must be at least 0 and less than 1".to_owned()),
        Err(_) => Err(format!("`{text}` is not a number")),
    }
}

/// A count such as `--epochs` or a layer width: a whole number of at least 1.
fn positive_usize(text: &str) -> Result<usize, String> {
    if text.trim().is_empty() {
        return Err("a number is missing (nothing given, or nothing between two commas)".to_owned());
    }
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(v) => Ok(v),
        Err(_) => Err(format!("`{text}` is not a whole number")),
    }
}

/// A `--scale` value: screen pixels per image pixel, 1 to 32.
fn scale_factor(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(v) if (1..=32).contains(&v) => Ok(v),
        Ok(_) => Err("must be from 1 to 32".to_owned()),
        Err(_) => Err(format!("`{text}` is not a whole number")),
    }
}

/// A `--seed`: any whole number from 0 to 2^64 - 1.
fn seed(text: &str) -> Result<u64, String> {
    text.trim()
        .parse::<u64>()
        .map_err(|_| format!("`{text}` is not a whole number from 0 to {}", u64::MAX))
}
