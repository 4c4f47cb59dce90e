//! `mlp eval MODEL`: accuracy, mean loss, the confusion matrix and per-class precision and recall.

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use super::args::{SplitName, positive_usize};
use super::data::DataArgs;
use super::output;
use crate::data::catalog::KnownDataset;
use crate::data::dataset::Dataset;
use crate::evaluate::evaluate;
use crate::metrics::ConfusionMatrix;
use crate::model_file;
use crate::report::Console;
use crate::viz::{self, grid, heatmap};

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The model file written by `mlp train`
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Which split to evaluate on
    #[arg(long, value_enum, default_value = "test")]
    pub split: SplitName,
    /// Worker threads for the matrix products and evaluation [default: all cores]. The same seed
    /// and thread count give bit-identical results
    #[arg(long, value_parser = positive_usize)]
    pub threads: Option<usize>,
    /// Print one JSON object on stdout; human text goes to stderr
    #[arg(long)]
    pub json: bool,
    /// Draw the misclassified digits, each captioned true→predicted, to this PNG
    #[arg(long)]
    pub errors: Option<PathBuf>,
    /// At most this many digits in --errors, the first in data set order
    #[arg(long, value_parser = positive_usize, default_value = "100")]
    pub max_errors: usize,
    /// Draw the confusion matrix as a heat map to this PNG
    #[arg(long)]
    pub confusion: Option<PathBuf>,
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let console = Console::new(args.json, false);
    for (flag, path) in [("--errors", &args.errors), ("--confusion", &args.confusion)] {
        if let Some(path) = path {
            output::picture(flag, path, false)?;
        }
    }
    let model = model_file::load(&args.model)?;
    let split = args.split.split();
    let dataset = model.info.dataset;
    let data = args
        .data
        .load_for_model(&args.model, &model, split, "evaluated", &console)?;

    let evaluation = evaluate(&model.network, &data);
    let confusion = &evaluation.confusion;
    console.line(&format!(
        "{} on the {} {} set ({} samples)",
        args.model.display(),
        dataset.title(),
        split.name(),
        data.len()
    ));
    console.line(&format!("accuracy {}", evaluation.accuracy()));
    console.line(&format!("mean loss {:.4}", evaluation.loss));
    console.line("");
    console.line(&confusion_table(confusion));
    console.line("");
    console.line(&per_class_table(confusion, dataset));

    if let Some(path) = &args.errors {
        console.line("");
        console.line(&draw_errors(path, &data, &evaluation.predictions, args.max_errors)?);
    }
    if let Some(path) = &args.confusion {
        let (picture, _) = heatmap::confusion_heatmap(&confusion.counts);
        viz::save_png(path, &picture)?;
        console.line(&format!("wrote the confusion heat map to {}", path.display()));
    }

    let names = dataset.class_names();
    let per_class: Vec<_> = (0..confusion.classes())
        .map(|c| {
            json!({
                "class": c,
                "name": names.get(c),
                "support": confusion.counts[c].iter().sum::<u64>(),
                "precision": confusion.precision(c),
                "recall": confusion.recall(c),
            })
        })
        .collect();
    console.json(&json!({
        "model": args.model.display().to_string(),
        "dataset": dataset.name(),
        "split": split.name(),
        "samples": data.len(),
        "accuracy": evaluation.accuracy().fraction(),
        "correct": evaluation.accuracy().correct,
        "loss": evaluation.loss,
        "confusion_matrix": confusion.counts,
        "per_class": per_class,
    }));
    Ok(())
}

/// Draws up to `max` misclassified samples of `data` to `path`; returns what it did, for the console.
fn draw_errors(path: &Path, data: &Dataset, predictions: &[usize], max: usize) -> anyhow::Result<String> {
    let wrong: Vec<usize> = (0..data.len())
        .filter(|&i| predictions[i] != usize::from(data.labels[i]))
        .collect();
    if wrong.is_empty() {
        return Ok(format!(
            "no misclassified digits, so {} was not written",
            path.display()
        ));
    }
    let tiles: Vec<grid::Tile> = wrong
        .iter()
        .take(max)
        .map(|&i| {
            let pixels = data.images().row(i);
            let caption = format!("{}→{}", data.labels[i], predictions[i]);
            grid::grey_tile(
                pixels.as_slice().expect("image rows are contiguous"),
                data.cols as u32,
                Some(caption),
            )
        })
        .collect();
    let (picture, _) = grid::draw_grid(&tiles, ERRORS_PER_ROW, ERRORS_SCALE);
    viz::save_png(path, &picture)?;
    Ok(format!(
        "wrote {} of {} misclassified digits to {} (captions: true→predicted)",
        tiles.len(),
        wrong.len(),
        path.display()
    ))
}

/// Layout of the --errors grid.
const ERRORS_PER_ROW: u32 = 10;
const ERRORS_SCALE: u32 = 3;

/// Rows are true classes, columns predicted classes.
fn confusion_table(confusion: &ConfusionMatrix) -> String {
    let classes = confusion.classes();
    let mut text = format!("confusion matrix (rows: true class, columns: predicted)\n{:>6}", "");
    for p in 0..classes {
        text += &format!("{p:>6}");
    }
    for (t, row) in confusion.counts.iter().enumerate() {
        text += &format!("\n{t:>6}");
        for count in row {
            text += &format!("{count:>6}");
        }
    }
    text
}

/// Precision and recall per class, with the class names when the data set has names beyond digits.
fn per_class_table(confusion: &ConfusionMatrix, dataset: KnownDataset) -> String {
    let percent = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{:.2}%", 100.0 * v));
    let names = dataset.class_names();
    let name_width = if dataset.has_named_classes() {
        names.iter().map(|n| n.len() + 1).max().unwrap_or(0)
    } else {
        0
    };
    let mut text = format!(
        "{:>6} {:<name_width$}{:>8} {:>10} {:>10}",
        "class", "", "support", "precision", "recall"
    );
    for c in 0..confusion.classes() {
        let support: u64 = confusion.counts[c].iter().sum();
        let name = if name_width > 0 {
            names.get(c).copied().unwrap_or("")
        } else {
            ""
        };
        text += &format!(
            "\n{c:>6} {name:<name_width$}{support:>8} {:>10} {:>10}",
            percent(confusion.precision(c)),
            percent(confusion.recall(c))
        );
    }
    text
}
