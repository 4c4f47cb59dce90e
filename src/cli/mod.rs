//! The command line: the `mlp` parser with its subcommands, and `run`, which hands each to its
//! module. Each subcommand's module holds its `Args` struct, their validation into the library's
//! configs, and its run; what several share (argument types and value parsers, the data and
//! download flags, output paths, exit statuses) sits in `args`, `data`, `fetch`, `output` and
//! `exit`, and no subcommand imports another. Nothing below this module knows about flags.

mod args;
mod data;
mod download;
mod eval;
pub mod exit;
mod export;
mod fetch;
mod fit;
mod gradcheck;
mod info;
mod output;
mod plot;
mod predict;
mod serve;
mod show;
mod train;
mod weights;

use clap::{Parser, Subcommand};

use crate::parallel;

pub use data::{DataArgs, data_dir, files_dir};
pub use download::DownloadCommandArgs;
pub use eval::EvalArgs;
pub use export::ExportArgs;
pub use fetch::DownloadArgs;
pub use fit::FitArgs;
pub use gradcheck::GradcheckArgs;
pub use info::InfoArgs;
pub use plot::PlotArgs;
pub use predict::PredictArgs;
pub use serve::ServeArgs;
pub use show::ShowArgs;
pub use train::TrainArgs;
pub use weights::WeightsArgs;

#[derive(Debug, Parser)]
#[command(
    name = "mlp",
    version,
    about = "Train, evaluate and gradient-check multilayer perceptrons on MNIST",
    long_about = "Train, evaluate and gradient-check multilayer perceptrons on MNIST.\n\n\
        Backpropagation is written by hand in matrix form; the data are a set known by name (MNIST, \
        Fashion-MNIST, Kuzushiji-MNIST, Kuzushiji-49 or one of the six EMNIST sets) in --data-dir, \
        $MLP_DATA_DIR or ./data, downloaded there from the data set's mirrors when missing; or IDX \
        files, npz or CSV files of one's own, of any number of classes, grey or colour (--data PATH). A \
        trained model exports to ONNX and to a PyTorch state dict (mlp export).\n\n\
        Exit status: 0 success, 1 other failure, 2 usage error, 3 data error (missing, corrupt or \
        undownloadable data set or model file), 4 training diverged, 130 interrupted.",
    after_help = "Examples:\n  mlp train --hidden 100 --lr 0.5\n  mlp eval model.bin\n  mlp gradcheck\n  \
        mlp download --dataset fashion-mnist\n  mlp train --dataset emnist-letters --hidden 256\n  \
        mlp export model.bin --onnx model.onnx --torch model.safetensors"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The process's command line parsed (exiting with clap's message and status 2 on a usage
    /// error), with what only the raw matches know: which of `train`'s setting flags were given.
    pub fn from_env() -> Self {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Self::command().get_matches();
        let mut cli = Self::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
        if let (Command::Train(args), Some(("train", train_matches))) = (&mut cli.command, matches.subcommand()) {
            args.restated = train::given_setting_flags(train_matches);
        }
        cli
    }
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
    /// Download a data set's files from its mirrors and verify their checksums
    #[command(allow_negative_numbers = true, visible_alias = "fetch")]
    Download(DownloadCommandArgs),
    /// Describe a model file: format and checksum, layers, training settings and the run's state
    Info(InfoArgs),
    /// Serve a draw-a-digit page and a prediction API for a model over HTTP
    Serve(ServeArgs),
    /// Export a model as an ONNX graph or a PyTorch state dict (safetensors), or both
    Export(ExportArgs),
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
        Command::Info(args) => info::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Export(args) => export::run(args),
    }
}
