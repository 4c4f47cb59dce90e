//! What `mlp train` does as the loop goes: a progress bar per epoch, then the epoch's line, the
//! checkpoint saved, a row appended to the history CSV and the curves redrawn. An epoch measured
//! beside the next one's training has its line printed above that epoch's bar.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;

use super::super::exit::{self, UsageError};
use super::super::output;
use crate::history::{Curves, HistoryFile};
use crate::model_file::{self, ModelInfo};
use crate::report::{Console, Progress};
use crate::train::{Observer, TrainConfig, TrainState};
use crate::viz::{self, Format};

/// Set by the first Ctrl-C: training stops after the current batch and saves a checkpoint.
static STOP_REQUESTED: AtomicBool = AtomicBool::new(false);

/// The first Ctrl-C asks training to stop after its batch; a second one exits at once (the last
/// checkpoint, written atomically, stays whole).
pub fn install_interrupt_handler(console: Console) -> anyhow::Result<()> {
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

/// `--history FILE` opened for appending, before any training, so that a path that cannot be
/// written is a usage error.
pub fn open_history(path: &Path) -> anyhow::Result<HistoryFile> {
    if !path.is_file() {
        output::check_writable("--history", path)?;
    }
    HistoryFile::open(path)
        .map_err(|e| UsageError(format!("--history {}: cannot open for appending: {e}", path.display())).into())
}

/// Where `--plot` draws the learning curves after each epoch.
#[derive(Clone, Debug, PartialEq)]
pub enum PlotTarget {
    /// A picture file, in the format of its extension.
    File(PathBuf, Format),
    /// The terminal (`--plot -`), under the epoch lines; nothing when the output is not one.
    Terminal,
}

/// Shows progress, saves the checkpoint after every epoch and appends the history.
pub struct EpochSaver {
    pub console: Console,
    /// The bar of the epoch training, and that epoch.
    pub progress: Option<(usize, Progress)>,
    pub config: TrainConfig,
    pub info: ModelInfo,
    pub out: PathBuf,
    /// Where to draw the learning curves.
    pub plot: Option<PlotTarget>,
    /// Lines the curves took when last drawn on the terminal, to redraw them in place.
    pub drawn_lines: usize,
    pub history: Option<HistoryFile>,
    /// `--measure-in-line`: each epoch is measured before the next one trains.
    pub measure_in_line: bool,
    /// Epochs whose measurement ended while a later epoch trained: their evaluation seconds
    /// overlap training's.
    pub measured_beside: usize,
}

impl EpochSaver {
    /// Takes the progress bar off the terminal, if one is shown.
    pub fn clear_progress(&mut self) {
        if let Some((_, progress)) = self.progress.take() {
            progress.finish();
        }
    }
}

impl Observer<f32> for EpochSaver {
    fn epoch_started(&mut self, epoch: usize, batches: usize, done: usize) {
        self.clear_progress();
        let bar = self
            .console
            .progress((batches - done) as u64, format!("epoch {epoch}/{}", self.config.epochs));
        self.progress = Some((epoch, bar));
    }

    fn batch_done(&mut self, loss: f64) {
        if let Some((_, progress)) = &mut self.progress {
            progress.step(loss);
        }
    }

    fn should_stop(&self) -> bool {
        STOP_REQUESTED.load(Ordering::SeqCst)
    }

    fn measure_beside(&self) -> bool {
        !self.measure_in_line
    }

    fn epoch_done(&mut self, state: &TrainState<f32>) -> anyhow::Result<()> {
        let record = state.history.epochs.last().expect("an epoch was recorded");
        match &self.progress {
            Some((epoch, _)) if *epoch == record.epoch => self.clear_progress(),
            Some((epoch, _)) if *epoch > record.epoch => self.measured_beside += 1,
            _ => {}
        }
        model_file::save_checkpoint(&self.out, &self.config, state, &self.info)?;
        if let Some(history) = &mut self.history {
            history
                .append(record)
                .with_context(|| format!("--history {}: cannot append", history.path().display()))?;
        }
        if let Some(PlotTarget::File(path, format)) = &self.plot {
            let (picture, _) = Curves::from_history(&state.history).render(*format)?;
            viz::save(path, &picture)?;
        }
        // The splits measured: the training set (unless --train-eval 0), validation, test.
        let mut measured = String::new();
        if let (Some(loss), Some(accuracy)) = (record.train_loss, record.train_accuracy) {
            measured += &format!("  train loss {loss:.4}  train acc {accuracy}");
        }
        if let Some(accuracy) = record.val_accuracy {
            measured += &format!("  val acc {accuracy}");
        }
        if let Some(accuracy) = record.test_accuracy {
            measured += &format!("  test acc {accuracy}");
        }
        let best = match &state.best {
            Some(b) if b.epoch == record.epoch => " *",
            _ => "",
        };
        let terminal = match self.plot {
            Some(PlotTarget::Terminal) => self.console.terminal_style(),
            _ => None,
        };
        let line = format!(
            "epoch {:>3}/{}  lr {:.3e}{measured}  {:.1} s{best}",
            record.epoch, self.config.epochs, record.lr, record.seconds
        );
        let (console, drawn_lines) = (self.console, &mut self.drawn_lines);
        let mut print = || {
            if terminal.is_some() {
                console.erase_lines(std::mem::take(drawn_lines));
            }
            console.line(&line);
            if let Some(style) = terminal {
                let text = Curves::from_history(&state.history).as_text(style);
                console.line(text.trim_end());
                *drawn_lines = text.lines().count();
            }
        };
        // A later epoch's bar, when this epoch was measured beside it, is redrawn under the lines.
        match &self.progress {
            Some((_, bar)) => bar.suspend(print),
            None => print(),
        }
        Ok(())
    }
}
