//! `mlp show`: a grid of data set digits as a PNG, scaled up so they are legible.

use std::path::PathBuf;

use clap::Args;
use rand::SeedableRng;
use rand::seq::index;
use rand_chacha::ChaCha8Rng;

use super::args::{SplitName, positive_usize, scale_factor, seed};
use super::data::DataArgs;
use super::exit::usage_bail;
use super::output;
use crate::data::catalog::KnownDataset;
use crate::data::source;
use crate::report::Console;
use crate::viz::{self, grid};

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Which split to take digits from
    #[arg(long, value_enum, default_value = "train")]
    pub split: SplitName,
    /// Rows of digits
    #[arg(long, value_parser = positive_usize, default_value = "10")]
    pub rows: usize,
    /// Digits per row
    #[arg(long, value_parser = positive_usize, default_value = "10")]
    pub cols: usize,
    /// Index of the first digit; the others follow in order
    #[arg(long, default_value = "0", conflicts_with = "random")]
    pub start: usize,
    /// Pick the digits at random (no repeats) with --seed instead
    #[arg(long)]
    pub random: bool,
    /// Seed for --random
    #[arg(long, value_parser = seed, default_value = "1")]
    pub seed: u64,
    /// Write each digit's label under it
    #[arg(long)]
    pub labels: bool,
    /// Screen pixels per image pixel (1 to 32)
    #[arg(long, value_parser = scale_factor, default_value = "3")]
    pub scale: u32,
    /// The PNG to write
    #[arg(long, default_value = "digits.png")]
    pub out: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
}

pub fn run(args: ShowArgs) -> anyhow::Result<()> {
    output::picture("--out", &args.out, false)?;
    let split = args.split.split();
    let console = Console::new(false, false);
    let dir = args.data.chosen(KnownDataset::Mnist)?;
    args.data.fetch_missing(&dir, &[split], &console)?;
    let data = source::load(&dir, split, None)?;
    let count = args.rows * args.cols;
    if count > data.len() {
        usage_bail!(
            "--rows {} x --cols {} asks for {count} digits but the {} set has {}",
            args.rows,
            args.cols,
            split.name(),
            data.len()
        );
    }
    let indices: Vec<usize> = if args.random {
        index::sample(&mut ChaCha8Rng::seed_from_u64(args.seed), data.len(), count).into_vec()
    } else {
        if args.start + count > data.len() {
            usage_bail!(
                "--start {} with {count} digits runs past the end of the {} set ({} digits); use --start {} or less",
                args.start,
                split.name(),
                data.len(),
                data.len() - count
            );
        }
        (args.start..args.start + count).collect()
    };

    let tiles: Vec<grid::Tile> = indices
        .iter()
        .map(|&i| {
            let caption = args.labels.then(|| data.labels()[i].to_string());
            grid::image_tile(
                data.images().row(i).as_slice().expect("image rows are contiguous"),
                data.cols as u32,
                data.channels,
                caption,
            )
        })
        .collect();
    let (picture, _) = grid::draw_grid(&tiles, args.cols as u32, args.scale);
    viz::save_png(&args.out, &picture)?;

    let chosen = if args.random {
        format!("chosen at random with seed {}", args.seed)
    } else {
        format!("samples {} to {}", args.start, args.start + count - 1)
    };
    console.line(&format!(
        "wrote {} ({}x{} pixels): {count} {} digits, {chosen}; labels:",
        args.out.display(),
        picture.width(),
        picture.height(),
        split.name()
    ));
    let classes = data.classes();
    let width = classes.len().saturating_sub(1).to_string().len();
    for row in indices.chunks(args.cols) {
        let labels: Vec<String> = row.iter().map(|&i| format!("{:>width$}", data.labels()[i])).collect();
        console.line(&format!("  {}", labels.join(" ")));
    }
    if !classes.are_numbered() {
        console.line(&format!("classes: {}", classes.listing()));
    }
    Ok(())
}
