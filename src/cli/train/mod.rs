//! `mlp train`: the flags filled into a run's specification (`args`), the run started or resumed
//! by the library (`crate::run`), and what the command shows and saves as it goes (`saver`).

mod args;
mod restate;
mod saver;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::anyhow;
use serde_json::json;

pub use args::TrainArgs;
pub use restate::given_setting_flags;

use super::data::chosen_dir;
use super::exit::{self, UsageError};
use super::output;
use crate::data::catalog::{DatasetId, KnownDataset};
use crate::data::split::Split;
use crate::evaluate::evaluate;
use crate::metrics::Accuracy;
use crate::nn::Dropout;
use crate::report::Console;
use crate::run::{self, Run, RunError};
use crate::train::Outcome;
use saver::{EpochSaver, PlotTarget};

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let console = Console::new(args.json, args.quiet);
    let out = args
        .out
        .clone()
        .or_else(|| args.resume.clone())
        .unwrap_or_else(|| PathBuf::from("model.bin"));
    output::check_writable("--out", &out)?;
    let plot = match &args.plot {
        Some(path) if path.as_os_str() == "-" => Some(PlotTarget::Terminal),
        Some(path) => Some(PlotTarget::File(path.clone(), output::picture("--plot", path, true)?)),
        None => None,
    };
    let history = args.history.as_deref().map(saver::open_history).transpose()?;

    let started = Instant::now();
    let mut run = start_or_resume(&args, &console).map_err(in_flag_terms)?;
    let load_seconds = started.elapsed().as_secs_f64();
    let resumed_at =
        (run.state.epoch > 0 || run.state.batches_done > 0).then_some((run.state.epoch, run.state.batches_done));
    describe(&console, &run);
    saver::install_interrupt_handler(console)?;

    let mut saver = EpochSaver {
        console,
        progress: None,
        config: *run.config(),
        info: run.info(),
        out: out.clone(),
        plot,
        drawn_lines: 0,
        history,
        measure_in_line: args.measure_in_line,
        measured_beside: 0,
    };
    let outcome = run.train(&mut saver);
    // An epoch stopped early, by Ctrl-C or by early stopping at the epoch before it, leaves its bar.
    saver.clear_progress();
    let outcome = outcome?;
    if outcome == Outcome::Interrupted {
        run.save(&out)?;
        return Err(exit::Interrupted {
            checkpoint: out.clone(),
            resume_command: resume_command(&args, &out),
        }
        .into());
    }
    let seconds = (load_seconds, started.elapsed().as_secs_f64());
    finish(
        &console,
        &run,
        &out,
        outcome,
        (resumed_at, saver.measured_beside),
        seconds,
    );
    Ok(())
}

/// The run the flags ask for: resumed from `--resume`, else started from the settings, on the data
/// set's files (downloaded first when they are missing and downloading is allowed).
fn start_or_resume(args: &TrainArgs, console: &Console) -> anyhow::Result<Run> {
    if let Some(path) = &args.resume {
        // The run's data set, where the flags say it moved to, else where it was read.
        let data_dir = |dataset: &DatasetId, recorded: &Path| match (&args.data.data_dir, &args.data.data) {
            (Some(path), _) | (_, Some(path)) => chosen_dir(path.clone(), dataset, "from --data-dir or --data"),
            (None, None) => chosen_dir(recorded.to_owned(), dataset, "the directory the run was trained on"),
        };
        let mut run = run::resume(path, data_dir)?;
        if let Some(dataset) = args.data.dataset
            && run.spec.dataset.known() != Some(dataset)
        {
            exit::usage_bail!(
                "--dataset {dataset}: the run in {} was trained on {}; leave the flag out or give the file's value",
                path.display(),
                run.spec.dataset.title()
            );
        }
        restate::check_restated(&args.restated, &run.spec, path)?;
        if let Some(length) = args.length.length() {
            run.train_on_to(length)?;
        }
        return Ok(run);
    }
    let dir = args.data.chosen(KnownDataset::Mnist)?;
    let spec = args.spec.spec(dir.dataset.clone(), args.length.length())?;
    args.data.fetch_missing(&dir, &[Split::Train, Split::Test], console)?;
    let run = run::start(spec, &dir)?;
    if let Some(warning) = empty_classes_warning(&run) {
        console.note(&warning);
    }
    Ok(run)
}

/// The warning line for classes without a training image, if there are any.
fn empty_classes_warning(run: &Run) -> Option<String> {
    let empty = run.empty_classes();
    let names = run.data.train.classes();
    let listed: Vec<String> = empty.iter().map(|&k| names.label(k)).collect();
    match listed[..] {
        [] => None,
        [ref one] => Some(format!(
            "warning: class {one} has no training image; the network has an output for it all the same"
        )),
        _ => Some(format!(
            "warning: {} classes have no training image: {}; the network has an output for each all the same",
            listed.len(),
            listed.join(", ")
        )),
    }
}

/// A run's error in the words of the flags that set what went wrong.
fn in_flag_terms(error: anyhow::Error) -> anyhow::Error {
    let Some(run_error) = error.downcast_ref::<RunError>() else {
        return error;
    };
    let usage = |message: String| UsageError(message).into();
    match run_error {
        RunError::BatchTooLarge { batch_size, samples } => usage(format!(
            "--batch-size {batch_size} is larger than the training set ({samples} samples)"
        )),
        RunError::HoldOutTooLarge { val, samples } => usage(format!(
            "--val {val} leaves no training images: the training set has {samples}"
        )),
        RunError::PatienceWithoutValidation => {
            usage("--patience needs validation data: give --val N to hold out N training images".to_owned())
        }
        RunError::NoValidationSplit { path } => usage(format!(
            "--val without a number validates on the data file's own split, but {} has none \
             (MedMNIST's npz files have val_images and val_labels): give --val N to hold out N training images",
            path.display()
        )),
        RunError::ConstantPixels { dir } => anyhow!(
            "--scaling standard: every training pixel in {} has the same value",
            dir.display()
        ),
        RunError::NoCheckpoint { path } => usage(format!(
            "--resume {}: the file holds a model but no training state to continue from; \
             resume from the --out file of an unfinished `mlp train`",
            path.display()
        )),
        RunError::ShorterThanDone { unit, done, asked } => {
            let flag = if *unit == "epochs" { "--epochs" } else { "--steps" };
            usage(format!(
                "{flag} {asked}: the resumed run has done {done} {unit} already; give more to train it on"
            ))
        }
        RunError::OtherUnit { counted, .. } => {
            let flag = if *counted == "epochs" { "--epochs" } else { "--steps" };
            usage(format!(
                "the resumed run counts its length in {counted}: train it on with {flag} N"
            ))
        }
        RunError::NoSpec { path, problem } => anyhow!(
            "--resume {}: its training settings are not those of an mlp run: {problem}",
            path.display()
        ),
    }
}

fn describe(console: &Console, run: &Run) {
    let network = &run.state.network;
    let sizes = network
        .sizes()
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("-");
    let config = run.config();
    let mut text = format!(
        "training {sizes} ({} parameters) on {}, inputs {}, {} hidden, {} loss, {}, {}, batch {}, {} epochs",
        network.parameter_count(),
        run.spec.dataset.title(),
        run.input.scaling,
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
    if config.label_smoothing > 0.0 {
        text += &format!(", label smoothing {}", config.label_smoothing);
    }
    if let Some(decay) = config.ema {
        text += &format!(", moving average of the weights (ema {decay})");
    }
    if let Some(v) = &run.data.validation {
        text += &format!(", {} training and {} validation images", run.data.train.len(), v.len());
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
/// `resumed_at`: the epochs and batches a resumed run had done; `measured_beside`: this run's epochs
/// measured while the next one trained; `(load_seconds, seconds)`.
fn finish(
    console: &Console,
    run: &Run,
    out: &Path,
    outcome: Outcome,
    (resumed_at, measured_beside): (Option<(usize, usize)>, usize),
    (load_seconds, seconds): (f64, f64),
) {
    let kept = run.state.kept();
    let kept_epoch = run.state.best.as_ref().map_or(run.state.epoch, |b| b.epoch);
    let on_test = kept_on_test(run, kept_epoch);
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
    let went_on = match resumed_at {
        Some((epoch, 0)) => format!(", going on from epoch {epoch}"),
        Some((epoch, batches)) => format!(", going on from batch {batches} of epoch {}", epoch + 1),
        None => String::new(),
    };
    let history = &run.state.history.epochs;
    let train_seconds: f64 = history.iter().map(|e| e.train_seconds).sum();
    let eval_seconds: f64 = history.iter().map(|e| e.eval_seconds).sum();
    let steps: usize = history.iter().map(|e| e.steps).sum();
    // Epochs measured beside training overlap it, so the sum can pass the run's wall time.
    let beside = match measured_beside {
        0 => String::new(),
        n => {
            let this_run = run.state.epoch - resumed_at.map_or(0, |(epoch, _)| epoch);
            format!(", {n} of {this_run} epochs measured while the next one trained")
        }
    };
    let tested = match on_test {
        Some((accuracy, _)) => format!("test accuracy {accuracy}"),
        None => "no test set (give one with --test-data FILE)".to_owned(),
    };
    console.line(&format!(
        "{how} after {epochs} epochs ({steps} updates{went_on}), {seconds:.1} s (loading {load_seconds:.2} s, training \
         {train_seconds:.1} s, evaluation {eval_seconds:.1} s{beside}); kept {which}: {tested}; saved to {}",
        out.display()
    ));
    console.json(&json!({
        "model": out.display().to_string(),
        "layer_sizes": kept.sizes(),
        "classes": run.data.train.classes(),
        "empty_classes": run.empty_classes(),
        "config": run.spec,
        "history": run.state.history.epochs,
        "outcome": if outcome == Outcome::EarlyStopped { "early-stopped" } else { "finished" },
        "kept_epoch": kept_epoch,
        "final_test_accuracy": on_test.map(|(accuracy, _)| accuracy.fraction()),
        "final_test_loss": on_test.map(|(_, loss)| loss),
        "seconds": seconds,
        "load_seconds": load_seconds,
        "train_seconds": train_seconds,
        "eval_seconds": eval_seconds,
        "epochs_measured_beside": measured_beside,
    }));
}

/// The test accuracy and loss of the model kept, the network after `kept_epoch`: its epoch's
/// record when the run has it (the same network on the same images), else measured now; `None`
/// without a test set.
fn kept_on_test(run: &Run, kept_epoch: usize) -> Option<(Accuracy, f64)> {
    let test = run.data.test.as_ref()?;
    let recorded = run.state.history.epochs.iter().find(|r| r.epoch == kept_epoch);
    if let Some(record) = recorded
        && let (Some(accuracy), Some(loss)) = (record.test_accuracy, record.test_loss)
    {
        return Some((accuracy, loss));
    }
    let on_test = evaluate(run.state.kept(), test);
    Some((on_test.accuracy(), on_test.loss))
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
