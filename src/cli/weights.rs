//! `mlp weights MODEL`: the first layer's weights, one picture per hidden unit.

use std::path::PathBuf;

use clap::Args;
use ndarray::s;

use super::args::{positive_usize, scale_factor};
use super::exit::usage_bail;
use super::output;
use crate::model_file;
use crate::report::Console;
use crate::viz::{self, grid, weights::weight_tiles};

#[derive(Debug, Args)]
pub struct WeightsArgs {
    /// The model file written by `mlp train`
    pub model: PathBuf,
    /// Show only the first N hidden units
    #[arg(long, value_parser = positive_usize)]
    pub units: Option<usize>,
    /// Pictures per row [default: about the square root of the number of units]
    #[arg(long, value_parser = positive_usize)]
    pub cols: Option<usize>,
    /// Screen pixels per weight (1 to 32)
    #[arg(long, value_parser = scale_factor, default_value = "3")]
    pub scale: u32,
    /// The PNG to write
    #[arg(long, default_value = "weights.png")]
    pub out: PathBuf,
}

pub fn run(args: WeightsArgs) -> anyhow::Result<()> {
    output::picture("--out", &args.out, false)?;
    let model = model_file::load(&args.model)?;
    let input = &model.info.input;
    let (rows, cols) = (input.rows, input.cols);
    let first = &model.network.layers[0];
    let available = first.outputs();
    let units = args.units.unwrap_or(available);
    if units > available {
        usage_bail!(
            "--units {units}: the first layer of {} has {available} units",
            args.model.display()
        );
    }
    let tiles = weight_tiles(first.weight.slice(s![.., ..units]), rows, cols, input.channels);
    let per_row = args.cols.unwrap_or_else(|| (units as f64).sqrt().ceil() as usize);
    let (picture, _) = grid::draw_grid(&tiles, per_row as u32, args.scale);
    viz::save_png(&args.out, &picture)?;
    Console::new(false, false).line(&format!(
        "wrote {} ({}x{} pixels): the weights into {units} of {available} first-layer units, \
         each {rows}x{cols} and scaled to its own largest |w| ({})",
        args.out.display(),
        picture.width(),
        picture.height(),
        if input.channels == 3 {
            "a pixel's red, green and blue are its three weights: mid-grey zero, brighter positive"
        } else {
            "blue negative, white zero, red positive"
        }
    ));
    Ok(())
}
