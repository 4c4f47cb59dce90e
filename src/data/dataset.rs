//! MNIST-like data sets on top of `idx`: finding the four files, pairing images with labels,
//! giving the labels their classes, scaling pixels and cutting mini-batches.
//!
//! Images stay as `u8` in memory (60,000 x 784 bytes = 47 MB for MNIST) and are scaled by the set's
//! `Scaling` (`x = pixel / 255` unless told otherwise) only when a batch is gathered, into a buffer
//! the caller reuses. An image is rows x cols pixels of one channel (grey) or three (RGB), flattened
//! row by row with the channels of a pixel side by side (channel last): the network's input k is
//! channel k % channels of pixel k / channels.
//!
//! Image files are IDX arrays of u8, (samples, rows, cols) or (samples, rows, cols, channels) with 1
//! or 3 channels; label files are IDX arrays (samples) of any integer type, each label a class
//! number in 0..=65535. A set known by name has its catalog's classes, and a label beyond them is
//! an error; a set read from files has as many classes as its largest label + 1.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ndarray::{Array2, ArrayViewMut2, Axis, Zip};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::catalog::DatasetId;
use super::classes::{Classes, Label};
use super::csv_images::CsvImagesError;
use super::idx::{IdxArray, IdxData, IdxError, read_idx_file};
use super::image_table::ImageShape;
use super::nonzero::NonzeroPixels;
use super::npz::NpzError;
use super::scaling::Scaling;
use super::split::Split;
use crate::float::Float;
use crate::kernels::SparseInput;

/// The generator stream (of the run's seed) that chooses validation samples, apart from the stream
/// that initializes and trains.
const HOLD_OUT_STREAM: u64 = 1;

/// The size of a data set's images: rows x cols pixels of `channels` values (1 grey, 3 RGB).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageSize {
    pub rows: usize,
    pub cols: usize,
    pub channels: usize,
}

impl ImageSize {
    /// rows x cols grey pixels.
    pub fn grey(rows: usize, cols: usize) -> Self {
        Self {
            rows,
            cols,
            channels: 1,
        }
    }

    /// Values per image: rows · cols · channels.
    pub fn values(self) -> usize {
        self.rows * self.cols * self.channels
    }
}

impl From<ImageShape> for ImageSize {
    /// The shape of a CSV or npz reader's image table.
    fn from(shape: ImageShape) -> Self {
        let ImageShape { rows, cols, channels } = shape;
        Self { rows, cols, channels }
    }
}

impl std::fmt::Display for ImageSize {
    /// `28x28`, or `32x32x3` for colour.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}", self.rows, self.cols)?;
        if self.channels != 1 {
            write!(f, "x{}", self.channels)?;
        }
        Ok(())
    }
}

/// A labelled image set: `images` is (samples, rows * cols * channels) of raw pixels, `labels` is
/// (samples), each one of `classes`.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Private, so that `nonzero` cannot fall out of step with it.
    images: Array2<u8>,
    /// Private, so that every label stays one of `classes`.
    labels: Vec<Label>,
    classes: Classes,
    pub rows: usize,
    pub cols: usize,
    /// 1 (grey) or 3 (RGB), the last axis of an image.
    pub channels: usize,
    /// How `gather` turns pixels into inputs; `Unit` as loaded. Set it to the model's before
    /// evaluating a model.
    pub scaling: Scaling,
    /// The images' nonzero pixels, for `gather_sparse`; found at its first call (`None` inside when
    /// the images are not mostly zeros).
    nonzero: OnceLock<Option<NonzeroPixels>>,
}

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error(transparent)]
    Idx(#[from] IdxError),
    #[error(transparent)]
    Npz(#[from] NpzError),
    #[error(transparent)]
    Csv(#[from] CsvImagesError),
    #[error("{}: a CSV file holds one split; its test split is a file of its own (--test-data FILE)", path.display())]
    NoTestSet { path: PathBuf },
    #[error(
        "{title} {split} files not found in {dir} ({source_of_dir})\n  looked for: {looked_for}\n  {hint}",
        title = dataset.title()
    )]
    Missing {
        /// Boxed, to keep the error small.
        dataset: Box<DatasetId>,
        split: &'static str,
        dir: String,
        source_of_dir: String,
        looked_for: String,
        /// How to get the files, from the `DataDir`.
        hint: String,
    },
    #[error("{}: expected {expected}, found {found}", path.display())]
    Shape {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("{} and {}: {images} images but {labels} labels", images_path.display(), labels_path.display())]
    CountMismatch {
        images_path: PathBuf,
        labels_path: PathBuf,
        images: usize,
        labels: usize,
    },
    /// Files that are fine on their own but do not fit together: splits of different image sizes, or
    /// a model trained on images of another size.
    #[error("{0}")]
    Incompatible(String),
    #[error("{}: label {label} of sample {index} is outside the class range 0..={max}", path.display(), max = classes - 1)]
    LabelOutOfRange {
        path: PathBuf,
        index: usize,
        label: Label,
        classes: usize,
    },
    #[error("{}: label {value} of sample {index} is not a class number (0 to {})", path.display(), Label::MAX)]
    NotAClass { path: PathBuf, index: usize, value: i64 },
}

/// Where one data set's files are (a directory of IDX files, or an npz or CSV file: `source`) and
/// which data set is expected there, with what messages
/// say about it: how the directory was chosen and how to get the files when they are missing, both
/// worded by whoever chose the directory (the command line names its flags there).
#[derive(Clone, Debug)]
pub struct DataDir {
    pub path: PathBuf,
    pub dataset: DatasetId,
    pub chosen_by: &'static str,
    /// The last line of `DataError::Missing`.
    pub hint: String,
    /// For a CSV file (`path`): the CSV file of the test split, if there is one.
    pub test_file: Option<PathBuf>,
    /// (rows, cols) of each image in a CSV or flat npz file; `None`: square.
    pub image_size: Option<(usize, usize)>,
}

/// The image and label files of one split.
#[derive(Clone, Debug)]
pub struct SplitFiles {
    pub images: PathBuf,
    pub labels: PathBuf,
}

/// Finds a split's two files in `dir`, under any of the usual spellings, compressed or not.
pub fn locate(dir: &DataDir, split: Split) -> Result<SplitFiles, DataError> {
    let (images_stem, labels_stem) = split.stems();
    let images = candidates(images_stem, 3);
    let labels = candidates(labels_stem, 1);
    let find = |names: &[String]| names.iter().map(|n| dir.path.join(n)).find(|p| p.is_file());
    match (find(&images), find(&labels)) {
        (Some(images), Some(labels)) => Ok(SplitFiles { images, labels }),
        (found_images, found_labels) => {
            let mut missing = Vec::new();
            if found_images.is_none() {
                missing.extend(images);
            }
            if found_labels.is_none() {
                missing.extend(labels);
            }
            Err(missing_files(dir, split, &missing))
        }
    }
}

/// The error for `split`'s files `looked_for` missing from `dir`.
pub(super) fn missing_files(dir: &DataDir, split: Split, looked_for: &[String]) -> DataError {
    DataError::Missing {
        dataset: Box::new(dir.dataset.clone()),
        split: split.name(),
        dir: dir.path.display().to_string(),
        source_of_dir: dir.chosen_by.to_owned(),
        looked_for: looked_for.join(", "),
        hint: dir.hint.clone(),
    }
}

/// `train-images-idx3-ubyte`, `train-images.idx3-ubyte`, each with and without `.gz`.
fn candidates(stem: &str, ndims: usize) -> Vec<String> {
    spellings(&format!("{stem}-idx{ndims}-ubyte"))
}

/// The names under which the published file `name` (such as `train-images-idx3-ubyte`) is found:
/// compressed first, then raw; as published, then with a dot before `idx`.
pub fn spellings(name: &str) -> Vec<String> {
    let dotted = name.replacen("-idx", ".idx", 1);
    [name, dotted.as_str()]
        .iter()
        .flat_map(|base| [format!("{base}.gz"), (*base).to_owned()])
        .collect()
}

/// Loads one split from `dir`, with the classes of its data set: a known set's catalog classes (a
/// label beyond them is an error), or for files as many as the split's largest label + 1.
pub fn load_split(dir: &DataDir, split: Split) -> Result<Dataset, DataError> {
    let files = locate(dir, split)?;
    let known = dir.dataset.known().map(|k| k.classes());
    Dataset::from_files(&files.images, &files.labels, known.as_ref())
}

/// Loads one split from `dir` as samples of `classes` (a model's): a label beyond them is an error.
pub fn load_split_as(dir: &DataDir, split: Split, classes: &Classes) -> Result<Dataset, DataError> {
    let files = locate(dir, split)?;
    Dataset::from_files(&files.images, &files.labels, Some(classes))
}

impl Dataset {
    /// Reads and pairs an image file (u8, (samples, rows, cols) or (samples, rows, cols, channels))
    /// with a label file (integers, (samples)). The labels are of `classes` when given (a label
    /// beyond them is an error), else of as many classes as the largest label + 1.
    pub fn from_files(images_path: &Path, labels_path: &Path, classes: Option<&Classes>) -> Result<Self, DataError> {
        let images = read_idx_file(images_path)?;
        let labels = read_idx_file(labels_path)?;
        let (size, pixels) = image_array(images, images_path)?;
        let labels = label_array(labels, labels_path)?;
        Self::labelled(pixels, size, labels, classes, [images_path, labels_path])
    }

    /// Pairs `pixels` (samples x size.values() values, read from `paths[0]`) with `labels` (read
    /// from `paths[1]`), which must be as many. The labels are of `classes` when given (a label
    /// beyond them is an error), else of as many classes as the largest label + 1.
    pub(super) fn labelled(
        pixels: Vec<u8>,
        size: ImageSize,
        labels: Vec<Label>,
        classes: Option<&Classes>,
        [images_path, labels_path]: [&Path; 2],
    ) -> Result<Self, DataError> {
        let samples = pixels.len() / size.values().max(1);
        if samples != labels.len() {
            return Err(DataError::CountMismatch {
                images_path: images_path.to_owned(),
                labels_path: labels_path.to_owned(),
                images: samples,
                labels: labels.len(),
            });
        }
        let classes = match classes {
            Some(classes) => {
                if let Some((index, label)) = classes.first_outside(&labels) {
                    return Err(DataError::LabelOutOfRange {
                        path: labels_path.to_owned(),
                        index,
                        label,
                        classes: classes.len(),
                    });
                }
                classes.clone()
            }
            None => Classes::counted(&labels),
        };
        let images = Array2::from_shape_vec((samples, size.values()), pixels)
            .expect("the readers checked that the pixels fill whole images");
        Ok(Self::new(images, labels, size, classes))
    }

    /// A set of `images` (samples, size.values()) of raw pixels with their `labels`, each one of
    /// `classes`, scaled `Unit`.
    ///
    /// # Panics
    /// When the shapes disagree or a label is not a class; files go through `from_files`, which
    /// says what is wrong with them instead.
    pub fn new(images: Array2<u8>, labels: Vec<Label>, size: ImageSize, classes: Classes) -> Self {
        assert_eq!(images.nrows(), labels.len(), "a data set needs one label per image");
        assert_eq!(
            images.ncols(),
            size.values(),
            "a data set's images are rows x cols x channels values"
        );
        assert!(
            classes.first_outside(&labels).is_none(),
            "a data set's labels are classes below {}",
            classes.len()
        );
        Self {
            // Rows of pixels are read as slices.
            images: if images.is_standard_layout() {
                images
            } else {
                images.as_standard_layout().into_owned()
            },
            labels,
            classes,
            rows: size.rows,
            cols: size.cols,
            channels: size.channels,
            scaling: Scaling::Unit,
            nonzero: OnceLock::new(),
        }
    }

    pub fn size(&self) -> ImageSize {
        ImageSize {
            rows: self.rows,
            cols: self.cols,
            channels: self.channels,
        }
    }

    /// The label of every sample, in order.
    pub fn labels(&self) -> &[Label] {
        &self.labels
    }

    pub fn classes(&self) -> &Classes {
        &self.classes
    }

    /// The same samples as samples of `classes`, which must hold every label: a set read from
    /// files takes the classes of all its splits together.
    ///
    /// # Panics
    /// When a label is not one of `classes`.
    pub fn set_classes(&mut self, classes: Classes) {
        assert!(
            classes.first_outside(&self.labels).is_none(),
            "a data set's labels are classes below {}",
            classes.len()
        );
        self.classes = classes;
    }

    /// The classes without a sample here, in order.
    pub fn empty_classes(&self) -> Vec<usize> {
        self.classes.without_samples(&self.labels)
    }

    /// (samples, rows * cols * channels): the raw pixels.
    pub fn images(&self) -> &Array2<u8> {
        &self.images
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// The samples `indices`, in that order, as a data set of their own.
    pub fn select(&self, indices: &[usize]) -> Self {
        let labels = indices.iter().map(|&i| self.labels[i]).collect();
        let mut selected = Self::new(
            self.images.select(Axis(0), indices),
            labels,
            self.size(),
            self.classes.clone(),
        );
        selected.scaling = self.scaling;
        selected
    }

    /// Splits off `n` samples for validation, chosen by `seed`: returns (the rest, in their order;
    /// the `n` held out). The choice uses its own stream of the generator, so it depends on `seed`
    /// and the set's size only.
    pub fn hold_out(&self, n: usize, seed: u64) -> (Self, Self) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(HOLD_OUT_STREAM);
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut rng);
        let (held, kept) = order.split_at_mut(n.min(self.len()));
        kept.sort_unstable();
        held.sort_unstable();
        (self.select(kept), self.select(held))
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Values per image, rows · cols · channels (the network's input width).
    pub fn features(&self) -> usize {
        self.images.ncols()
    }

    /// Scales the samples `indices` into `x` (batch, features) by `self.scaling`, and writes their
    /// one-hot labels into `targets` (batch, classes). Both views must have `indices.len()` rows.
    pub fn gather<F: Float>(&self, indices: &[usize], mut x: ArrayViewMut2<F>, targets: ArrayViewMut2<F>) {
        let scaled: [F; 256] = self.scaling.table();
        for (&i, mut x_row) in indices.iter().zip(x.rows_mut()) {
            Zip::from(&mut x_row)
                .and(self.images.row(i))
                .for_each(|xv, &p| *xv = scaled[usize::from(p)]);
        }
        self.one_hot(indices, targets);
    }

    /// `gather` into sparse rows (see `nonzero`), when the images are mostly zeros and the scaling
    /// keeps 0 at 0 (`Unit`); returns whether it did. When it did not, x and targets are untouched.
    pub fn gather_sparse<F: Float>(
        &self,
        indices: &[usize],
        x: &mut SparseInput<F>,
        targets: ArrayViewMut2<F>,
    ) -> bool {
        let scaled: [F; 256] = self.scaling.table();
        if scaled[0] != F::zero() {
            return false;
        }
        let nonzero = self.nonzero.get_or_init(|| NonzeroPixels::of(self.images.view()));
        let Some(nonzero) = nonzero else {
            return false;
        };
        nonzero.gather(indices, &scaled, x);
        self.one_hot(indices, targets);
        true
    }

    /// The labels of the samples `indices` as rows of `targets` (batch, classes).
    fn one_hot<F: Float>(&self, indices: &[usize], mut targets: ArrayViewMut2<F>) {
        for (&i, mut t_row) in indices.iter().zip(targets.rows_mut()) {
            t_row.fill(F::zero());
            t_row[usize::from(self.labels[i])] = F::one();
        }
    }
}

/// The image size and pixels (samples x size.values()) of an image file's array (read from `path`).
pub(super) fn image_array(array: IdxArray, path: &Path) -> Result<(ImageSize, Vec<u8>), DataError> {
    let size = match array.dims[..] {
        [_, rows, cols] => Some(ImageSize::grey(rows, cols)),
        [_, rows, cols, channels @ (1 | 3)] => Some(ImageSize { rows, cols, channels }),
        _ => None,
    };
    match (size, array.data) {
        (Some(size), IdxData::U8(pixels)) => Ok((size, pixels)),
        (_, data) => Err(DataError::Shape {
            path: path.to_owned(),
            expected: "u8 images of 3 dimensions (samples, rows, cols), or of 4 with 1 or 3 channels last \
                       (samples, rows, cols, channels)"
                .to_owned(),
            found: format!("{} elements of dimensions {:?}", data.element_type(), array.dims),
        }),
    }
}

/// The labels of a label file's array (read from `path`): integers of any IDX type, each a class
/// number.
pub(super) fn label_array(array: IdxArray, path: &Path) -> Result<Vec<Label>, DataError> {
    let not_labels = |data: &IdxData| DataError::Shape {
        path: path.to_owned(),
        expected: "integer labels of 1 dimension (samples)".to_owned(),
        found: format!("{} elements of dimensions {:?}", data.element_type(), array.dims),
    };
    if array.dims.len() != 1 {
        return Err(not_labels(&array.data));
    }
    let convert = |values: Vec<i64>| class_numbers(values, path);
    match array.data {
        IdxData::U8(values) => Ok(values.into_iter().map(Label::from).collect()),
        IdxData::I8(values) => convert(values.into_iter().map(i64::from).collect()),
        IdxData::I16(values) => convert(values.into_iter().map(i64::from).collect()),
        IdxData::I32(values) => convert(values.into_iter().map(i64::from).collect()),
        data @ (IdxData::F32(_) | IdxData::F64(_)) => Err(not_labels(&data)),
    }
}

/// `values` (read from `path`) as labels, each a class number 0 to 65,535.
pub(super) fn class_numbers(values: impl IntoIterator<Item = i64>, path: &Path) -> Result<Vec<Label>, DataError> {
    values
        .into_iter()
        .enumerate()
        .map(|(index, value)| {
            Label::try_from(value).map_err(|_| DataError::NotAClass {
                path: path.to_owned(),
                index,
                value,
            })
        })
        .collect()
}
