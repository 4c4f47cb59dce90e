//! Terminal output: the per-epoch and per-download progress bars and the human-readable lines.
//!
//! Progress bars go to stderr and is hidden when stderr is not a terminal or with `--quiet`.
//! Human lines go to stdout, or to stderr when stdout carries JSON; text pictures (learning curves
//! in the terminal) go with them, redrawn in place.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use console::Term;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::viz::terminal::TextStyle;

/// Where human-readable text goes, chosen once from `--json` and `--quiet`.
#[derive(Clone, Copy, Debug)]
pub struct Console {
    json: bool,
    quiet: bool,
}

impl Console {
    pub fn new(json: bool, quiet: bool) -> Self {
        Self { json, quiet }
    }

    /// Prints a human-readable line (stdout, or stderr when stdout carries JSON); nothing with --quiet.
    pub fn line(&self, text: &str) {
        if self.quiet {
            return;
        }
        // A closed pipe (e.g. `mlp train | head`) must not abort a training run.
        let _ = if self.json {
            writeln!(io::stderr(), "{text}")
        } else {
            writeln!(io::stdout(), "{text}")
        };
    }

    /// Prints a notice on stderr (even with --json, whose stdout stays one JSON object); nothing with
    /// --quiet.
    pub fn note(&self, text: &str) {
        if !self.quiet {
            let _ = writeln!(io::stderr(), "{text}");
        }
    }

    /// The style of text pictures on the terminal human lines reach (its width, colour unless
    /// `NO_COLOR` is set), or `None` when they reach no terminal (a pipe, a file, --quiet).
    pub fn terminal_style(&self) -> Option<TextStyle> {
        let term = if self.json { Term::stderr() } else { Term::stdout() };
        (!self.quiet && term.is_term()).then(|| text_style(&term))
    }

    /// Moves up over the last `lines` lines printed and clears them, so that a picture is redrawn
    /// in place on a terminal.
    pub fn erase_lines(&self, lines: usize) {
        if self.quiet || lines == 0 {
            return;
        }
        let erase = format!("\x1b[{lines}F\x1b[J");
        let _ = if self.json {
            write!(io::stderr(), "{erase}")
        } else {
            write!(io::stdout(), "{erase}")
        };
    }

    /// Prints `value` as one line of JSON on stdout when --json was given.
    pub fn json(&self, value: &serde_json::Value) {
        if self.json {
            let _ = writeln!(io::stdout(), "{value}");
        }
    }

    /// A progress bar of `len` steps on stderr, hidden when it would not be seen.
    pub fn progress(&self, len: u64, prefix: String) -> Progress {
        let template = "{prefix} [{bar:30.cyan/blue}] {pos}/{len} {msg} {elapsed}<{eta}";
        Progress {
            bar: self.bar(Some(len), prefix, template),
            running_loss: 0.0,
            steps: 0,
        }
    }

    /// A progress bar counting the bytes of a transfer of `len` bytes (unknown when `None`), on
    /// stderr, hidden when it would not be seen.
    pub fn bytes_progress(&self, len: Option<u64>, prefix: String) -> ProgressBar {
        let template = if len.is_some() {
            "{prefix} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec} {eta}"
        } else {
            "{prefix} {bytes} {bytes_per_sec}"
        };
        self.bar(len, prefix, template)
    }

    fn bar(&self, len: Option<u64>, prefix: String, template: &str) -> ProgressBar {
        if self.quiet || !io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar.set_prefix(prefix);
        bar
    }
}

/// The text style for `term`: its width (80 columns when unknown) and colour when it is a terminal
/// and `NO_COLOR` is unset (no-color.org).
pub fn text_style(term: &Term) -> TextStyle {
    let columns = term.size_checked().map_or(80, |(_, columns)| usize::from(columns));
    let colour = term.is_term() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    TextStyle { columns, colour }
}

/// One epoch's progress bar, showing the running mean of the mini-batch losses.
pub struct Progress {
    bar: ProgressBar,
    running_loss: f64,
    steps: u64,
}

/// How often (in steps) the loss shown on the bar is refreshed; formatting it every step is waste.
const MESSAGE_EVERY: u64 = 25;

impl Progress {
    pub fn step(&mut self, loss: f64) {
        self.running_loss += loss;
        self.steps += 1;
        self.bar.inc(1);
        if self.steps.is_multiple_of(MESSAGE_EVERY) && !self.bar.is_hidden() {
            self.bar
                .set_message(format!("loss {:.4}", self.running_loss / self.steps as f64));
        }
    }

    /// Runs `f` with the bar off the terminal, and draws it again under whatever `f` printed.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}
