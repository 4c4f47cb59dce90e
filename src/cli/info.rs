//! `mlp info MODEL`: what a model file holds (`summary::ModelSummary`), as text or, with `--json`,
//! as the summary itself. A file whose checksum does not verify is still described, and then the
//! command fails with the data status.

use std::path::PathBuf;

use clap::Args;

use crate::data::classes::Classes;
use crate::model_file::ModelFileError;
use crate::report::Console;
use crate::run::{RunSpec, Validation};
use crate::summary::{ModelSummary, RunState, RunStatus, TrainingSummary};

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The model file written by `mlp train`
    pub model: PathBuf,
    /// Print the summary as one JSON object on stdout; human text goes to stderr
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: InfoArgs) -> anyhow::Result<()> {
    let console = Console::new(args.json, false);
    let summary = ModelSummary::read(&args.model)?;
    console.line(&render(&summary));
    console.json(&serde_json::to_value(&summary).expect("a summary is plain data"));
    match summary.checksum.problem() {
        Some(source) => Err(ModelFileError::Format {
            path: args.model,
            source,
        }
        .into()),
        None => Ok(()),
    }
}

/// The summary as lines for a reader.
fn render(summary: &ModelSummary) -> String {
    let checksum = &summary.checksum;
    let mut text = format!(
        "{}: mlp model, format version {}, checksum ({}) {}\n",
        summary.file.display(),
        summary.format_version,
        checksum.key,
        if checksum.verifies() {
            "verifies"
        } else {
            "does NOT verify"
        }
    );
    let dataset = &summary.dataset;
    let classes = Classes::named(dataset.classes.clone());
    text += &format!(
        "data set: {} ({}), {} classes: {}\n",
        dataset.title,
        dataset.name,
        classes.len(),
        classes.listing()
    );
    let input = &summary.input;
    let colour = if input.channels == 3 {
        " of 3 channels (RGB)"
    } else {
        ""
    };
    text += &format!(
        "input: {}x{} pixels{colour}, x = {} ({} scaling)\n\n",
        input.rows,
        input.cols,
        input.scaling,
        input.scaling.name()
    );
    text += &format!(
        "{:>5} {:>7} {:>7}  {:<12} {:>10}\n",
        "layer", "inputs", "outputs", "activation", "parameters"
    );
    for (i, layer) in summary.layers.iter().enumerate() {
        text += &format!(
            "{:>5} {:>7} {:>7}  {:<12} {:>10}\n",
            i + 1,
            layer.inputs,
            layer.outputs,
            layer.activation,
            layer.parameters
        );
    }
    text += &format!("{:<36}{:>10}\n", "total", summary.parameters);
    text += &format!("loss: {} on {} outputs\n\n", summary.loss, summary.output_activation);
    text += &training(&summary.training);
    text += "\n";
    text += &state(&summary.state, &summary.file.display().to_string());
    text
}

fn training(training: &TrainingSummary) -> String {
    match (&training.spec, &training.not_a_run) {
        (Some(spec), _) => spec_lines(spec),
        (None, reason) => {
            let mut text = format!(
                "training settings: not an mlp run's ({}); as recorded:\n",
                reason.as_deref().unwrap_or("unreadable")
            );
            for (key, value) in &training.recorded {
                text += &format!("  {key} = {value}\n");
            }
            text
        }
    }
}

fn spec_lines(spec: &RunSpec) -> String {
    let train = &spec.train;
    let length = match train.steps {
        Some(steps) => format!("{steps} steps ({} epochs)", train.epochs),
        None => format!("{} epochs", train.epochs),
    };
    let dropout = if train.dropout.input == 0.0 && train.dropout.hidden == 0.0 {
        "none".to_owned()
    } else {
        format!("hidden {}, input {}", train.dropout.hidden, train.dropout.input)
    };
    let hidden: Vec<String> = spec.hidden.iter().map(usize::to_string).collect();
    let lines = [
        format!(
            "hidden {} ({}), init {}, loss {}",
            hidden.join(","),
            spec.activation,
            spec.init,
            spec.loss
        ),
        format!("optimizer {}", train.optimizer),
        format!("schedule {}", train.schedule),
        format!("batch size {}, {length}", train.batch_size),
        [
            Some(format!("l2 {}", train.l2)),
            (train.label_smoothing > 0.0).then(|| format!("label smoothing {}", train.label_smoothing)),
            train
                .ema
                .map(|decay| format!("moving average of the weights (ema {decay})")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", "),
        format!("dropout {dropout}"),
        format!("augmentation {}", train.augment),
        format!(
            "validation {}, patience {}",
            match spec.val {
                Validation::Held(n) => format!("images {n}"),
                Validation::FileSplit => "split of the data file".to_owned(),
            },
            train.patience.map_or_else(|| "none".to_owned(), |p| p.to_string())
        ),
        format!("seed {}, data from {}", spec.seed, spec.data_dir.display()),
    ];
    let mut text = "training settings (an mlp run):\n".to_owned();
    for line in lines {
        text += &format!("  {line}\n");
    }
    text
}

fn state(state: &RunState, file: &str) -> String {
    let progress = state.progress();
    let mut text = match state.status {
        RunStatus::Finished => format!("run: finished, {progress}\n"),
        RunStatus::StoppedEarly => format!("run: stopped early (patience), {progress}\n"),
        RunStatus::InProgress => {
            format!("run: a checkpoint in mid-run, {progress}; continue with: mlp train --resume {file}\n")
        }
        RunStatus::NoCheckpoint => format!("run: no training state in the file, {progress}\n"),
    };
    if let (Some(epoch), Some(accuracy)) = (state.best_epoch, state.best_validation_accuracy) {
        text += &format!("best epoch on validation: {epoch}, validation accuracy {accuracy}\n");
    }
    if let (Some(epoch), Some(accuracy)) = (state.kept_epoch, state.test_accuracy) {
        let which = if state.status == RunStatus::InProgress {
            "so far"
        } else {
            "final"
        };
        text += &format!("test accuracy ({which}, the model of epoch {epoch}): {accuracy}\n");
    }
    text.pop();
    text
}
