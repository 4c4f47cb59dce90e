//! `mlp predict MODEL IMAGE...`: the top classes of each picture, IDX, CSV or npz image, and
//! optionally the images as the network saw them, or a Kaggle submission file of the top classes.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde_json::json;

use super::args::{positive_usize, scale_factor};
use super::exit::usage_bail;
use super::output;
use crate::atomic_file::write_atomically;
use crate::model_file;
use crate::predict::{Input, Ranked, outputs_are_probabilities, prediction_json, read_inputs, top_classes};
use crate::report::Console;
use crate::viz::{self, grid};

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The model file written by `mlp train`
    pub model: PathBuf,
    /// Pictures (PNG, JPEG, PGM; any size, colour or grey), or batches of images of the model's
    /// size: IDX files, .csv files of pixel rows (no label column, header optional: Kaggle's
    /// test.csv), .npz files (the array images, x_test or test_images, or the only one)
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    /// How many classes to list per image
    #[arg(long, value_parser = positive_usize, default_value = "3")]
    pub top: usize,
    /// Write the images as the network saw them (after preprocessing) to this PNG, captioned with
    /// the top class
    #[arg(long)]
    pub show: Option<PathBuf>,
    /// Screen pixels per image pixel in --show (1 gives the images at their own size)
    #[arg(long, value_parser = scale_factor, default_value = "4")]
    pub show_scale: u32,
    /// Write the top class of every image to this CSV in Kaggle's submission format: ImageId (from
    /// 1, in the order of the images) and Label (the class number), instead of a line per image
    #[arg(long)]
    pub csv_out: Option<PathBuf>,
    /// Print one JSON object on stdout; human text goes to stderr
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: PredictArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.show {
        output::picture("--show", path, false)?;
    }
    if let Some(path) = &args.csv_out {
        output::check_writable("--csv-out", path)?;
    }
    let console = Console::new(args.json, false);
    let model = model_file::load(&args.model)?;
    let size = model.info.input.size();
    let classes = &model.info.classes;
    if args.top > classes.len() {
        usage_bail!(
            "--top {}: {} has {} classes",
            args.top,
            args.model.display(),
            classes.len()
        );
    }
    let mut inputs: Vec<Input> = Vec::new();
    for path in &args.images {
        inputs.extend(read_inputs(path, size)?);
    }
    let ranked = top_classes(&model.network, model.info.input.scaling, &inputs, args.top);
    let probabilities = outputs_are_probabilities(&model.network);
    // Numbered classes name themselves; Fashion-MNIST's are shown as "0 T-shirt/top".
    let label = |class: usize| classes.label(class);
    let shown = |r: &Ranked| {
        if probabilities {
            format!("{} {:6.2}%", label(r.class), 100.0 * r.output)
        } else {
            format!("{} ({:.4})", label(r.class), r.output)
        }
    };

    if let Some(path) = &args.csv_out {
        let mut submission = String::from("ImageId,Label\n");
        for (id, top) in ranked.iter().enumerate() {
            submission += &format!("{},{}\n", id + 1, top[0].class);
        }
        write_atomically(path, submission.as_bytes())
            .with_context(|| format!("--csv-out {}: cannot write", path.display()))?;
        console.line(&format!(
            "wrote the top class of {} image(s) to {} (ImageId,Label)",
            inputs.len(),
            path.display()
        ));
    }
    let width = inputs.iter().map(|i| i.name.len()).max().unwrap_or(0);
    let each = if args.csv_out.is_some() { 0 } else { inputs.len() };
    for (input, top) in inputs.iter().zip(&ranked).take(each) {
        let classes: Vec<String> = top.iter().map(shown).collect();
        let note = if input.inverted == Some(true) {
            "  (dark ink on light paper: inverted)"
        } else {
            ""
        };
        console.line(&format!("{:<width$}  {}{note}", input.name, classes.join("   ")));
    }
    if let Some(path) = &args.show {
        let tiles: Vec<grid::Tile> = inputs
            .iter()
            .zip(&ranked)
            .map(|(input, top)| {
                let caption = Some(format!("→{}", top[0].class));
                grid::image_tile(&input.pixels, size.cols as u32, size.channels, caption)
            })
            .collect();
        let (picture, _) = grid::draw_grid(&tiles, tiles.len().min(10) as u32, args.show_scale);
        viz::save_png(path, &picture)?;
        console.line(&format!(
            "wrote the {} image(s) as the network saw them ({size}, before scaling) to {}",
            inputs.len(),
            path.display()
        ));
    }

    let predictions: Vec<_> = inputs
        .iter()
        .zip(&ranked)
        .map(|(input, top)| prediction_json(input, top, classes, probabilities))
        .collect();
    console.json(&json!({
        "model": args.model.display().to_string(),
        "predictions": predictions,
    }));
    Ok(())
}
