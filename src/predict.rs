//! A trained model on new inputs: pictures (PNG, JPEG, PGM) made MNIST-style, or raw IDX batches
//! already in the model's format; each scaled as the model was trained, and its top classes.
//!
//! A CSV file of pixel rows (Kaggle's `test.csv`: no label column, header optional) and an npz
//! file of images (`npz::read_npz_images`) are batches like IDX ones, of the model's image size.
//!
//! An IDX batch is u8 images of the model's size, (samples, rows, cols) or one (rows, cols), used
//! as they are: it is how MNIST itself is stored, so those need no preprocessing. A colour model
//! (3 channels) takes IDX images of (samples, rows, cols, 3) or (rows, cols, 3), and pictures in
//! colour resized to its rows x cols as they are: the MNIST-style steps (inverting, cropping to the
//! ink, centring) are for digits, not photographs.

use std::fs;
use std::path::{Path, PathBuf};

use image::ImageFormat;
use ndarray::Array2;
use serde_json::{Value, json};

use crate::data::classes::Classes;
use crate::data::csv_images::{CsvColumns, CsvImagesError, read_csv_images};
use crate::data::dataset::ImageSize;
use crate::data::idx::{IdxData, parse_idx};
use crate::data::image_table::ImageTable;
use crate::data::npz::{NpzError, read_npz_images};
use crate::data::preprocess::{PictureError, colour_resized, decode_picture, mnist_style};
use crate::data::scaling::Scaling;
use crate::data::source::SourceKind;
use crate::nn::Network;
use crate::nn::loss::OutputActivation;

/// One image for the network.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    /// The file, with `[i]` for the i-th image of an IDX batch.
    pub name: String,
    /// rows * cols * channels values, 0 to 255, ink bright (channel last).
    pub pixels: Vec<u8>,
    /// For grey pictures, whether dark ink on light paper was inverted; `None` for IDX images and
    /// colour pictures, which are used as they are.
    pub inverted: Option<bool>,
}

/// Why an input file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{name}: {problem}")]
    Unusable { name: String, problem: String },
    #[error(transparent)]
    Picture(#[from] PictureError),
    #[error(transparent)]
    Csv(#[from] CsvImagesError),
    #[error(transparent)]
    Npz(#[from] NpzError),
}

/// A class and the network's output for it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ranked {
    pub class: usize,
    pub output: f64,
}

/// The images in the file `path` for a network taking images of `size`: one for a picture
/// (found by its content: PNG, JPEG or PGM), every one of an IDX batch (gzip or raw).
pub fn read_inputs(path: &Path, size: ImageSize) -> Result<Vec<Input>, InputError> {
    let ImageSize { rows, cols, channels } = size;
    match SourceKind::of(path) {
        SourceKind::Csv => {
            let table = read_csv_images(path, CsvColumns::PixelsOnly, Some((rows, cols)))?;
            return table_inputs(table, path, size);
        }
        SourceKind::Npz => return table_inputs(read_npz_images(path, Some((rows, cols)))?, path, size),
        SourceKind::IdxDir => {} // a picture or an IDX file
    }
    let bytes = fs::read(path).map_err(|source| InputError::Read {
        path: path.to_owned(),
        source,
    })?;
    let name = path.display().to_string();
    let unusable = |problem: String| InputError::Unusable {
        name: name.clone(),
        problem,
    };
    if image::guess_format(&bytes).is_ok() {
        return Ok(vec![picture_input(&bytes, path, size)?]);
    }
    let array =
        parse_idx(&bytes).map_err(|e| unusable(format!("neither a PNG, JPEG or PGM picture nor an IDX file ({e})")))?;
    let (count, shape) = match (&array.dims[..], channels) {
        (&[n, r, c], 1) | (&[n, r, c, 3], 3) => (n, (r, c)),
        (&[r, c], 1) | (&[r, c, 3], 3) => (1, (r, c)),
        _ => {
            let dims = &array.dims;
            let expected = if channels == 3 {
                "colour images (samples, rows, cols, 3)"
            } else {
                "images (samples, rows, cols)"
            };
            return Err(unusable(format!("IDX of dimensions {dims:?}; expected {expected}")));
        }
    };
    let IdxData::U8(pixels) = array.data else {
        let kind = array.data.element_type();
        return Err(unusable(format!("IDX of {kind} elements; expected u8 pixels")));
    };
    if shape != (rows, cols) {
        return Err(unusable(format!(
            "IDX images of {}x{} but the model takes {rows}x{cols}; \
             save them as PNG to have them resized MNIST-style",
            shape.0, shape.1
        )));
    }
    Ok(batch(
        &name,
        pixels.chunks(size.values()).take(count).map(<[u8]>::to_vec),
    ))
}

/// The images of a batch file `name`, each named by its place in it: `name[i]`.
fn batch(name: &str, images: impl Iterator<Item = Vec<u8>>) -> Vec<Input> {
    images
        .enumerate()
        .map(|(i, pixels)| Input {
            name: format!("{name}[{i}]"),
            pixels,
            inverted: None,
        })
        .collect()
}

/// The picture in `bytes` (PNG, JPEG or PGM, found by its content; read from `path`, which names
/// it in errors) made ready for a network taking images of `size`: MNIST-style for grey images,
/// only resized for colour ones.
pub fn picture_input(bytes: &[u8], path: &Path, size: ImageSize) -> Result<Input, InputError> {
    let ImageSize { rows, cols, channels } = size;
    let name = path.display().to_string();
    match image::guess_format(bytes) {
        Ok(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Pnm) => {}
        Ok(format) => {
            return Err(InputError::Unusable {
                name,
                problem: format!("a {format:?} picture; mlp reads PNG, JPEG and PGM"),
            });
        }
        Err(_) => {
            return Err(InputError::Unusable {
                name,
                problem: "not a PNG, JPEG or PGM picture".to_owned(),
            });
        }
    }
    if channels == 3 {
        return Ok(Input {
            name,
            pixels: colour_resized(bytes, rows, cols, path)?,
            inverted: None,
        });
    }
    let prepared = mnist_style(&decode_picture(bytes, path)?, rows, cols, path)?;
    Ok(Input {
        name,
        pixels: prepared.pixels,
        inverted: Some(prepared.inverted),
    })
}

/// Whether `network`'s outputs are probabilities (softmax, or a sigmoid per class).
pub fn outputs_are_probabilities(network: &Network<f32>) -> bool {
    match network.loss.output_activation() {
        OutputActivation::Softmax => true,
        OutputActivation::Elementwise(f) => f == crate::nn::Activation::Sigmoid,
    }
}

/// The images of a CSV or npz `table` read from `path`, which must be of the model's `size`.
fn table_inputs(table: ImageTable, path: &Path, size: ImageSize) -> Result<Vec<Input>, InputError> {
    let found = ImageSize::from(table.shape);
    let name = path.display().to_string();
    if found != size {
        return Err(InputError::Unusable {
            name,
            problem: format!("images of {found} but the model takes {size}"),
        });
    }
    Ok(batch(
        &name,
        table.pixels.rows().into_iter().map(|image| image.to_vec()),
    ))
}

/// The `k` classes with the largest outputs for each input, largest first; inputs are scaled by
/// `scaling` as in training.
pub fn top_classes(network: &Network<f32>, scaling: Scaling, inputs: &[Input], k: usize) -> Vec<Vec<Ranked>> {
    let table: [f32; 256] = scaling.table();
    let mut x = Array2::<f32>::zeros((inputs.len(), network.inputs()));
    for (mut row, input) in x.rows_mut().into_iter().zip(inputs) {
        for (v, &p) in row.iter_mut().zip(&input.pixels) {
            *v = table[usize::from(p)];
        }
    }
    let outputs = network.predict(x.view());
    outputs
        .rows()
        .into_iter()
        .map(|row| {
            let mut ranked: Vec<Ranked> = row
                .iter()
                .enumerate()
                .map(|(class, &v)| Ranked {
                    class,
                    output: f64::from(v),
                })
                .collect();
            ranked.sort_by(|a, b| b.output.total_cmp(&a.output).then(a.class.cmp(&b.class)));
            ranked.truncate(k);
            ranked
        })
        .collect()
}

/// One input's entry in `mlp predict --json`'s `predictions`:
/// `{"input", "inverted", "top": [{"class", "name", "probability"}]}`, with `output` for
/// `probability` when the outputs are not probabilities. `class_names[k]` names class k (`null`
/// past its end).
pub fn prediction_json(input: &Input, top: &[Ranked], classes: &Classes, probabilities: bool) -> Value {
    let key = if probabilities { "probability" } else { "output" };
    let top: Vec<Value> = top
        .iter()
        .map(|r| json!({"class": r.class, "name": classes.name(r.class), key: r.output}))
        .collect();
    json!({"input": input.name, "inverted": input.inverted, "top": top})
}
