//! MNIST-like data sets on top of `idx`: finding the four files, pairing images with labels,
//! scaling pixels and cutting mini-batches.
//!
//! Images stay as `u8` in memory (60,000 x 784 bytes = 47 MB for MNIST) and are scaled by the set's
//! `Scaling` (`x = pixel / 255` unless told otherwise) only when a batch is gathered, into a buffer
//! the caller reuses.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ndarray::{Array2, ArrayViewMut2, Axis, Zip};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::catalog::KnownDataset;
use super::idx::{IdxArray, IdxData, IdxError, read_idx_file};
use super::nonzero::NonzeroPixels;
use super::scaling::Scaling;
use super::split::{CLASSES, Split};
use crate::float::Float;
use crate::kernels::SparseInput;

/// The generator stream (of the run's seed) that chooses validation samples, apart from the stream
/// that initializes and trains.
const HOLD_OUT_STREAM: u64 = 1;

/// A labelled image set: `images` is (samples, rows * cols) of raw pixels, `labels` is (samples).
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Private, so that `nonzero` cannot fall out of step with it.
    images: Array2<u8>,
    pub labels: Vec<u8>,
    pub rows: usize,
    pub cols: usize,
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
    #[error(
        "{title} {split} files not found in {dir} ({source_of_dir})\n  looked for: {looked_for}\n  {hint}",
        title = dataset.title()
    )]
    Missing {
        dataset: KnownDataset,
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
    #[error("{}: label {label} of sample {index} is outside the class range 0..={max}", path.display(), max = CLASSES - 1)]
    LabelOutOfRange { path: PathBuf, index: usize, label: u8 },
}

/// The directory of one data set's files and which data set is expected there, with what messages
/// say about it: how the directory was chosen and how to get the files when they are missing, both
/// worded by whoever chose the directory (the command line names its flags there).
#[derive(Clone, Debug)]
pub struct DataDir {
    pub path: PathBuf,
    pub dataset: KnownDataset,
    pub chosen_by: &'static str,
    /// The last line of `DataError::Missing`.
    pub hint: String,
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
            Err(DataError::Missing {
                dataset: dir.dataset,
                split: split.name(),
                dir: dir.path.display().to_string(),
                source_of_dir: dir.chosen_by.to_owned(),
                looked_for: missing.join(", "),
                hint: dir.hint.clone(),
            })
        }
    }
}

/// The dimensions and elements of `array` if it holds u8 values in `ndims` dimensions.
fn expect_u8(array: IdxArray, ndims: usize, path: &Path, expected: &str) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    match array {
        IdxArray {
            dims,
            data: IdxData::U8(values),
        } if dims.len() == ndims => Ok((dims, values)),
        other => Err(DataError::Shape {
            path: path.to_owned(),
            expected: expected.to_owned(),
            found: format!("{} elements of dimensions {:?}", other.data.element_type(), other.dims),
        }),
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

/// Loads one split from `dir`.
pub fn load_split(dir: &DataDir, split: Split) -> Result<Dataset, DataError> {
    let files = locate(dir, split)?;
    Dataset::from_files(&files.images, &files.labels)
}

impl Dataset {
    /// Reads and pairs an image file (u8, samples x rows x cols) with a label file (u8, samples).
    pub fn from_files(images_path: &Path, labels_path: &Path) -> Result<Self, DataError> {
        let images = read_idx_file(images_path)?;
        let labels = read_idx_file(labels_path)?;
        Self::from_arrays(images, labels, images_path, labels_path)
    }

    fn from_arrays(
        images: IdxArray,
        labels: IdxArray,
        images_path: &Path,
        labels_path: &Path,
    ) -> Result<Self, DataError> {
        let (image_dims, pixels) = expect_u8(
            images,
            3,
            images_path,
            "u8 images of 3 dimensions (samples, rows, cols)",
        )?;
        let (_, labels) = expect_u8(labels, 1, labels_path, "u8 labels of 1 dimension (samples)")?;
        let [samples, rows, cols] = image_dims[..] else {
            unreachable!("expect_u8 checked 3 dimensions")
        };
        if samples != labels.len() {
            return Err(DataError::CountMismatch {
                images_path: images_path.to_owned(),
                labels_path: labels_path.to_owned(),
                images: samples,
                labels: labels.len(),
            });
        }
        if let Some(index) = labels.iter().position(|&l| usize::from(l) >= CLASSES) {
            return Err(DataError::LabelOutOfRange {
                path: labels_path.to_owned(),
                index,
                label: labels[index],
            });
        }
        let images = Array2::from_shape_vec((samples, rows * cols), pixels)
            .expect("the IDX reader checked that the payload matches the dimensions");
        Ok(Self::new(images, labels, rows, cols))
    }

    /// A set of `images` (samples, rows * cols) of raw pixels with their `labels`, scaled `Unit`.
    ///
    /// # Panics
    /// When the shapes disagree or a label is not a class; files go through `from_files`, which
    /// says what is wrong with them instead.
    pub fn new(images: Array2<u8>, labels: Vec<u8>, rows: usize, cols: usize) -> Self {
        assert_eq!(images.nrows(), labels.len(), "a data set needs one label per image");
        assert_eq!(
            images.ncols(),
            rows * cols,
            "a data set's images are rows x cols pixels"
        );
        assert!(
            labels.iter().all(|&l| usize::from(l) < CLASSES),
            "a data set's labels are classes below {CLASSES}"
        );
        Self {
            // Rows of pixels are read as slices.
            images: if images.is_standard_layout() {
                images
            } else {
                images.as_standard_layout().into_owned()
            },
            labels,
            rows,
            cols,
            scaling: Scaling::Unit,
            nonzero: OnceLock::new(),
        }
    }

    /// (samples, rows * cols): the raw pixels.
    pub fn images(&self) -> &Array2<u8> {
        &self.images
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// The samples `indices`, in that order, as a data set of their own.
    pub fn select(&self, indices: &[usize]) -> Self {
        let labels = indices.iter().map(|&i| self.labels[i]).collect();
        let mut selected = Self::new(self.images.select(Axis(0), indices), labels, self.rows, self.cols);
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

    /// Pixels per image (the network's input width).
    pub fn features(&self) -> usize {
        self.images.ncols()
    }

    /// Scales the samples `indices` into `x` (batch, features) by `self.scaling`, and writes their
    /// one-hot labels into `targets` (batch, CLASSES). Both views must have `indices.len()` rows.
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

    /// The labels of the samples `indices` as rows of `targets` (batch, CLASSES).
    fn one_hot<F: Float>(&self, indices: &[usize], mut targets: ArrayViewMut2<F>) {
        for (&i, mut t_row) in indices.iter().zip(targets.rows_mut()) {
            t_row.fill(F::zero());
            t_row[usize::from(self.labels[i])] = F::one();
        }
    }
}
