//! `mlp plot HISTORY.csv`: learning curves from a history CSV, as PNG or SVG, or drawn as text on
//! the terminal (`--terminal`).

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;
use console::Term;

use super::output;
use crate::history::Curves;
use crate::report::{self, Console};
use crate::viz;

#[derive(Debug, Args)]
pub struct PlotArgs {
    /// A CSV with a header: epoch, and columns such as train_acc, val_acc, test_acc, train_loss, test_loss
    pub history: PathBuf,
    /// The picture to write; .png or .svg
    #[arg(long, default_value = "curves.png")]
    pub out: PathBuf,
    /// Draw the curves as text on the standard output instead (braille dots; in colour on a
    /// terminal unless NO_COLOR is set), for a terminal over SSH
    #[arg(long, conflicts_with = "out")]
    pub terminal: bool,
}

pub fn run(args: PlotArgs) -> anyhow::Result<()> {
    if args.terminal {
        let curves = Curves::from_csv(&args.history)?;
        let text = curves.as_text(report::text_style(&Term::stdout()));
        let _ = write!(io::stdout(), "{text}");
        return Ok(());
    }
    let format = output::picture("--out", &args.out, true)?;
    let curves = Curves::from_csv(&args.history)?;
    let (picture, _) = curves.render(format)?;
    viz::save(&args.out, &picture)?;
    let splits: Vec<&str> = curves.splits.iter().map(|s| s.split).collect();
    Console::new(false, false).line(&format!(
        "wrote {}: {} epochs of {}",
        args.out.display(),
        curves.epochs.len(),
        splits.join(", ")
    ));
    Ok(())
}
