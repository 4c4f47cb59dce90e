//! Pictures of what the network sees and learns: digit grids, weight images, a confusion heat map and
//! line charts, written as PNG (charts also as SVG).
//!
//! Images are `image::RgbImage` (rows of RGB bytes) built pixel by pixel; charts are drawn with
//! plotters. All text goes through `text`, which renders a TrueType font compiled into the binary, so
//! a picture comes out the same on every machine, whether or not it has fonts installed.

pub mod chart;
pub mod colormap;
pub mod curves;
pub mod grid;
pub mod heatmap;
pub mod terminal;
pub mod text;
pub mod weights;

use std::io::Cursor;
use std::path::Path;

use anyhow::{Context, bail};
use image::{ImageFormat, RgbImage};

use crate::atomic_file::write_atomically;

/// The file formats pictures are written in, chosen by the output file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Png,
    /// Vector charts; the text names the font family and is drawn by the viewer.
    Svg,
}

impl Format {
    /// The format for `path` from its extension: `.png`, or `.svg` where `svg_allowed`.
    /// `flag` names the option in the error.
    pub fn of_path(flag: &str, path: &Path, svg_allowed: bool) -> anyhow::Result<Self> {
        let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("png") => Ok(Self::Png),
            Some("svg") if svg_allowed => Ok(Self::Svg),
            _ if svg_allowed => bail!(
                "{flag} {}: name the file .png or .svg; the extension chooses the format",
                path.display()
            ),
            _ => bail!(
                "{flag} {}: this picture is written as PNG; name the file .png",
                path.display()
            ),
        }
    }
}

/// `image` encoded as PNG.
pub fn png_bytes(image: &RgbImage) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, ImageFormat::Png)
        .expect("encoding an RGB image as PNG into memory cannot fail");
    bytes.into_inner()
}

/// Writes `image` to `path` as PNG, whole or not at all.
pub fn save_png(path: &Path, image: &RgbImage) -> anyhow::Result<()> {
    save(path, &png_bytes(image))
}

/// Writes `bytes` to `path`, whole or not at all.
pub fn save(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomically(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
