//! `mlp eval MODEL`: accuracy, mean loss, the confusion matrix and per-class precision and recall.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, ValueEnum};
use serde_json::json;

use super::positive_usize;
use crate::data::dataset::{DataDir, Split, load_split};
use crate::evaluate::evaluate;
use crate::metrics::ConfusionMatrix;
use crate::model_file;
use crate::report::Console;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The model file written by `mlp train`
    pub model: PathBuf,
    /// Directory with the MNIST files [default: $MLP_DATA_DIR, else ./data]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SplitName {
    Train,
    Test,
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let console = Console::new(args.json, false);
    let model = model_file::load(&args.model)?;
    let split = match args.split {
        SplitName::Train => Split::Train,
        SplitName::Test => Split::Test,
    };
    let mut data = load_split(&DataDir::resolve(args.data_dir.as_deref()), split)?;
    data.scaling = model.info.input.scaling;
    let input = &model.info.input;
    if (data.rows, data.cols) != (input.rows, input.cols) {
        bail!(
            "{} was trained on {}x{} images but the {} images are {}x{}",
            args.model.display(),
            input.rows,
            input.cols,
            split.name(),
            data.rows,
            data.cols
        );
    }

    let evaluation = evaluate(&model.network, &data);
    let confusion = &evaluation.confusion;
    console.line(&format!(
        "{} on the {} set ({} samples)",
        args.model.display(),
        split.name(),
        data.len()
    ));
    console.line(&format!("accuracy {}", evaluation.accuracy()));
    console.line(&format!("mean loss {:.4}", evaluation.loss));
    console.line("");
    console.line(&confusion_table(confusion));
    console.line("");
    console.line(&per_class_table(confusion));

    let per_class: Vec<_> = (0..confusion.classes())
        .map(|c| {
            json!({
                "class": c,
                "support": confusion.counts[c].iter().sum::<u64>(),
                "precision": confusion.precision(c),
                "recall": confusion.recall(c),
            })
        })
        .collect();
    console.json(&json!({
        "model": args.model.display().to_string(),
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

fn per_class_table(confusion: &ConfusionMatrix) -> String {
    let percent = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{:.2}%", 100.0 * v));
    let mut text = format!("{:>6} {:>8} {:>10} {:>10}", "class", "support", "precision", "recall");
    for c in 0..confusion.classes() {
        let support: u64 = confusion.counts[c].iter().sum();
        text += &format!(
            "\n{c:>6} {support:>8} {:>10} {:>10}",
            percent(confusion.precision(c)),
            percent(confusion.recall(c))
        );
    }
    text
}
