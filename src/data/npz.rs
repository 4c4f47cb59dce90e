//! Images in an `.npz` file: NumPy's zip of `.npy` arrays (`np.savez`, stored, or
//! `np.savez_compressed`, deflated), read with the `zip` crate and `ndarray-npy`.
//!
//! ```text
//! Keras (keras.datasets.mnist's mnist.npz):  x_train  y_train  x_test  y_test
//! MedMNIST (pathmnist.npz, ...):             train_images  train_labels  [val_images  val_labels]
//!                                            test_images  test_labels
//! images only (for predict):                 images, x_test or test_images, or the file's only array
//! one array a file (Kuzushiji-49):            arr_0, images in one file and labels in another
//! ```
//!
//! Images: shape (N, H, W) or (N, H, W, 1) grey, (N, H, W, 3) RGB (channels last, the order of
//! `image_table`), or (N, L) flat rows whose image size is given or found from L
//! (`ImageShape::from_row_length`). Any integer dtype (`u1` ... `i8`, either byte order) whose
//! values are all 0-255; floats (`f4`, `f8`) too, but only when every value is a whole number 0-255,
//! so an array already scaled to [0, 1] is refused rather than read wrong. Labels: shape (N,) or
//! (N, 1), any integer dtype (or floats holding whole numbers), 0 to 4,294,967,295. Fortran-ordered
//! arrays are read in their logical order.
//!
//! Nothing is sized from a claim the file's bytes do not back: an entry is read into room for at
//! most what its compressed bytes can inflate to (deflate expands at most 1032:1), its `.npy` header
//! must fit in the entry, and the header's shape must need exactly the bytes that follow it before
//! the array is decoded.

use std::fmt::Display;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use ndarray::{Array2, ArrayD};
use ndarray_npy::npy::header::Header;
use ndarray_npy::{ReadNpyExt, ReadableElement};

use super::image_table::{ImageShape, ImageTable};

/// Which names a labelled npz file uses for its arrays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NpzLayout {
    /// `x_train`, `y_train`, `x_test`, `y_test`.
    Keras,
    /// `train_images`, `train_labels`, `val_images`, `val_labels` (optional), `test_images`, `test_labels`.
    MedMnist,
}

/// The labelled splits of an npz file; all have the same image shape.
#[derive(Clone, Debug, PartialEq)]
pub struct NpzSplits {
    pub layout: NpzLayout,
    pub train: ImageTable,
    pub val: Option<ImageTable>,
    pub test: ImageTable,
}

/// An npz file that could not be read: the file, and the array when one is at fault.
#[derive(Debug, thiserror::Error)]
pub enum NpzError {
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: not an npz file (NumPy's zip of .npy arrays): {source}", path.display())]
    NotZip {
        path: PathBuf,
        source: zip::result::ZipError,
    },
    #[error("{}, array `{array}`: {problem}", path.display())]
    Array {
        path: PathBuf,
        array: String,
        problem: String,
    },
    /// Arrays that are missing or do not fit together; `arrays` lists what the file has.
    #[error("{}: {problem} (the file has: {arrays})", path.display())]
    Arrays {
        path: PathBuf,
        problem: String,
        arrays: String,
    },
}

/// The factor by which deflate can expand at most (a 258-byte match in 2 bits, RFC 1951).
const MAX_INFLATION: u64 = 1032;

/// Reads a Keras- or MedMNIST-layout npz file; `size` is (rows, cols) for flat image rows.
pub fn read_npz_splits(path: &Path, size: Option<(usize, usize)>) -> Result<NpzSplits, NpzError> {
    let (file, length) = open(path)?;
    parse_npz_splits(file, length, path, size)
}

/// Reads the images to predict from an npz file (see the module doc for which array), unlabelled.
pub fn read_npz_images(path: &Path, size: Option<(usize, usize)>) -> Result<ImageTable, NpzError> {
    let (file, length) = open(path)?;
    parse_npz_images(file, length, path, size)
}

/// Reads the array `name` of an npz file as images, unlabelled.
pub fn read_npz_array_images(path: &Path, name: &str) -> Result<ImageTable, NpzError> {
    let (file, length) = open(path)?;
    let mut npz = Npz::new(file, length, path)?;
    npz.require(name)?;
    let (pixels, shape) = npz.images(name, None)?;
    Ok(ImageTable {
        pixels,
        shape,
        labels: None,
    })
}

/// Reads the array `name` of an npz file as labels.
pub fn read_npz_array_labels(path: &Path, name: &str) -> Result<Vec<u32>, NpzError> {
    let (file, length) = open(path)?;
    let mut npz = Npz::new(file, length, path)?;
    npz.require(name)?;
    npz.labels(name)
}

/// `read_npz_splits` on `length` bytes from `reader`; `path` names them in errors.
pub fn parse_npz_splits<R: Read + Seek>(
    reader: R,
    length: u64,
    path: &Path,
    size: Option<(usize, usize)>,
) -> Result<NpzSplits, NpzError> {
    let mut npz = Npz::new(reader, length, path)?;
    let (layout, [train, test], val) = if npz.has("x_train") {
        (NpzLayout::Keras, [("x_train", "y_train"), ("x_test", "y_test")], None)
    } else if npz.has("train_images") {
        let val = (npz.has("val_images") || npz.has("val_labels")).then_some(("val_images", "val_labels"));
        let splits = [("train_images", "train_labels"), ("test_images", "test_labels")];
        (NpzLayout::MedMnist, splits, val)
    } else {
        return Err(npz.arrays_error(
            "neither Keras's arrays (x_train, y_train, x_test, y_test) nor MedMNIST's (train_images, \
             train_labels, test_images, test_labels) are there"
                .to_owned(),
        ));
    };
    let train = npz.split(train, size)?;
    let val = val.map(|names| npz.split(names, size)).transpose()?;
    let test = npz.split(test, size)?;
    for (other, names) in [
        (Some(&test), layout_names(layout).1),
        (val.as_ref(), layout_names(layout).2),
    ] {
        if let Some(other) = other.filter(|o| o.shape != train.shape) {
            let (t, o) = (show_shape(train.shape), show_shape(other.shape));
            let problem = format!("`{}` holds {t} images but `{names}` holds {o}", layout_names(layout).0);
            return Err(npz.arrays_error(problem));
        }
    }
    Ok(NpzSplits {
        layout,
        train,
        val,
        test,
    })
}

/// `read_npz_images` on `length` bytes from `reader`; `path` names them in errors.
pub fn parse_npz_images<R: Read + Seek>(
    reader: R,
    length: u64,
    path: &Path,
    size: Option<(usize, usize)>,
) -> Result<ImageTable, NpzError> {
    let mut npz = Npz::new(reader, length, path)?;
    let name = match ["images", "x_test", "test_images"].into_iter().find(|n| npz.has(n)) {
        Some(name) => name.to_owned(),
        None if npz.names.len() == 1 => npz.names[0].clone(),
        None => {
            return Err(npz.arrays_error(
                "no array is named images, x_test or test_images, and there is not just one to take".to_owned(),
            ));
        }
    };
    let (pixels, shape) = npz.images(&name, size)?;
    Ok(ImageTable {
        pixels,
        shape,
        labels: None,
    })
}

/// The image arrays of train, test and validation in a layout, for messages.
fn layout_names(layout: NpzLayout) -> (&'static str, &'static str, &'static str) {
    match layout {
        NpzLayout::Keras => ("x_train", "x_test", "x_val"),
        NpzLayout::MedMnist => ("train_images", "test_images", "val_images"),
    }
}

fn show_shape(shape: ImageShape) -> String {
    match shape.channels {
        1 => format!("{}x{}", shape.rows, shape.cols),
        c => format!("{}x{}x{c}", shape.rows, shape.cols),
    }
}

fn open(path: &Path) -> Result<(BufReader<File>, u64), NpzError> {
    let io_error = |source| NpzError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let length = file.metadata().map_err(io_error)?.len();
    Ok((BufReader::new(file), length))
}

/// An open npz archive, its array names (entries without `.npy`) in archive order.
struct Npz<'a, R: Read + Seek> {
    archive: zip::ZipArchive<R>,
    length: u64,
    path: &'a Path,
    names: Vec<String>,
}

impl<'a, R: Read + Seek> Npz<'a, R> {
    fn new(reader: R, length: u64, path: &'a Path) -> Result<Self, NpzError> {
        let archive = zip::ZipArchive::new(reader).map_err(|source| match source {
            zip::result::ZipError::Io(source) => NpzError::Io {
                path: path.to_owned(),
                source,
            },
            source => NpzError::NotZip {
                path: path.to_owned(),
                source,
            },
        })?;
        let names = archive
            .file_names()
            .map(|n| n.strip_suffix(".npy").unwrap_or(n).to_owned())
            .collect();
        Ok(Self {
            archive,
            length,
            path,
            names,
        })
    }

    fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// Ok when the array `name` is there, else the error that lists the arrays that are.
    fn require(&self, name: &str) -> Result<(), NpzError> {
        if self.has(name) {
            Ok(())
        } else {
            Err(self.arrays_error(format!("no array `{name}`")))
        }
    }

    fn arrays_error(&self, problem: String) -> NpzError {
        NpzError::Arrays {
            path: self.path.to_owned(),
            problem,
            arrays: if self.names.is_empty() {
                "no arrays".to_owned()
            } else {
                self.names.join(", ")
            },
        }
    }

    fn array_error(&self, array: &str, problem: String) -> NpzError {
        NpzError::Array {
            path: self.path.to_owned(),
            array: array.to_owned(),
            problem,
        }
    }

    /// A labelled split from its image and label arrays, which must both be there and agree in count.
    fn split(&mut self, (images, labels): (&str, &str), size: Option<(usize, usize)>) -> Result<ImageTable, NpzError> {
        for name in [images, labels] {
            self.require(name)?;
        }
        let (pixels, shape) = self.images(images, size)?;
        let label_values = self.labels(labels)?;
        if label_values.len() != pixels.nrows() {
            let problem = format!(
                "`{images}` holds {} images but `{labels}` {} labels",
                pixels.nrows(),
                label_values.len()
            );
            return Err(self.arrays_error(problem));
        }
        Ok(ImageTable {
            pixels,
            shape,
            labels: Some(label_values),
        })
    }

    /// The array `name` as images: (samples, values) pixels and their shape.
    fn images(&mut self, name: &str, size: Option<(usize, usize)>) -> Result<(Array2<u8>, ImageShape), NpzError> {
        let npy = self.read(name)?;
        let dims = npy.header.shape.clone();
        let fail = |problem: String| self.array_error(name, problem);
        let shape = match *dims.as_slice() {
            [_, len] => ImageShape::from_row_length(len, size).map_err(fail)?,
            [_, rows, cols] => ImageShape {
                rows,
                cols,
                channels: 1,
            },
            [_, rows, cols, channels @ (1 | 3)] => ImageShape { rows, cols, channels },
            _ => {
                return Err(fail(format!(
                    "shape {dims:?} is not images: expected (N, H, W), (N, H, W, 1), (N, H, W, 3) or (N, H*W)"
                )));
            }
        };
        if dims.len() > 2
            && let Some((rows, cols)) = size.filter(|&s| s != (shape.rows, shape.cols))
        {
            return Err(fail(format!(
                "images of {}x{}, not the {rows}x{cols} the image size says",
                shape.rows, shape.cols
            )));
        }
        if dims[0] == 0 || shape.values() == 0 {
            return Err(fail(format!("shape {dims:?} holds no pixels")));
        }
        let pixels = match npy.into_u8_data() {
            Ok(pixels) => pixels,
            Err(npy) => npy.whole_values(|v| u8::try_from(v).ok()).map_err(|(value, index)| {
                fail(format!(
                    "value {value} at flat index {index} is not a pixel (a whole number 0-255)"
                ))
            })?,
        };
        let pixels = Array2::from_shape_vec((dims[0], shape.values()), pixels).expect("the shape needed these bytes");
        Ok((pixels, shape))
    }

    /// The array `name` as labels: shape (N,) or (N, 1) of whole numbers 0 to `u32::MAX`.
    fn labels(&mut self, name: &str) -> Result<Vec<u32>, NpzError> {
        let npy = self.read(name)?;
        let dims = &npy.header.shape;
        if !matches!(dims.as_slice(), [_] | [_, 1]) {
            return Err(self.array_error(name, format!("shape {dims:?} is not labels: expected (N,) or (N, 1)")));
        }
        npy.whole_values(|v| u32::try_from(v).ok()).map_err(|(value, index)| {
            self.array_error(
                name,
                format!(
                    "value {value} at index {index} is not a label (a whole number 0-{})",
                    u32::MAX
                ),
            )
        })
    }

    /// The entry of array `name`, its header checked against its bytes.
    fn read(&mut self, name: &str) -> Result<Npy, NpzError> {
        let bytes = self.entry_bytes(name).map_err(|e| match e {
            EntryError::Io(source) => NpzError::Io {
                path: self.path.to_owned(),
                source,
            },
            EntryError::Zip(problem) => self.array_error(name, problem),
        })?;
        Npy::parse(bytes).map_err(|problem| self.array_error(name, problem))
    }

    fn entry_bytes(&mut self, name: &str) -> Result<Vec<u8>, EntryError> {
        let entry_name = if self.archive.index_for_name(&format!("{name}.npy")).is_some() {
            format!("{name}.npy")
        } else {
            name.to_owned()
        };
        let length = self.length;
        let mut entry = self.archive.by_name(&entry_name).map_err(EntryError::from)?;
        let room = entry
            .size()
            .min(entry.compressed_size().min(length).saturating_mul(MAX_INFLATION));
        let mut bytes = Vec::new();
        let _ = bytes.try_reserve_exact(room as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| EntryError::Zip(format!("corrupt zip entry: {e}")))?;
        Ok(bytes)
    }
}

enum EntryError {
    Io(io::Error),
    Zip(String),
}

impl From<zip::result::ZipError> for EntryError {
    fn from(e: zip::result::ZipError) -> Self {
        match e {
            zip::result::ZipError::Io(e) => Self::Io(e),
            e => Self::Zip(format!("cannot read its zip entry: {e}")),
        }
    }
}

/// The element types read, from the `.npy` type descriptor (`<u1`, `>i4`, `<f8`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Element {
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
    F32,
    F64,
}

impl Element {
    fn from_descriptor(descr: &str) -> Option<Self> {
        let code = descr.strip_prefix(['<', '>', '|']).unwrap_or(descr);
        Some(match code {
            "u1" => Self::U8,
            "u2" => Self::U16,
            "u4" => Self::U32,
            "u8" => Self::U64,
            "i1" => Self::I8,
            "i2" => Self::I16,
            "i4" => Self::I32,
            "i8" => Self::I64,
            "f4" => Self::F32,
            "f8" => Self::F64,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Self::U8 | Self::I8 => 1,
            Self::U16 | Self::I16 => 2,
            Self::U32 | Self::I32 | Self::F32 => 4,
            Self::U64 | Self::I64 | Self::F64 => 8,
        }
    }
}

/// One `.npy` array whose header has been checked: its element type, and bytes that hold exactly
/// the data its shape needs.
struct Npy {
    header: Header,
    element: Element,
    bytes: Vec<u8>,
    data_start: usize,
}

impl Npy {
    /// Checks the header's length, type and shape against `bytes` before anything is decoded.
    fn parse(bytes: Vec<u8>) -> Result<Self, String> {
        const MAGIC: &[u8] = b"\x93NUMPY";
        if !bytes.starts_with(MAGIC) || bytes.len() < 10 {
            return Err("not a .npy array (no \\x93NUMPY magic)".to_owned());
        }
        let (length_bytes, header_len) = match bytes[6] {
            1 => (2, usize::from(u16::from_le_bytes([bytes[8], bytes[9]]))),
            2 | 3 if bytes.len() >= 12 => (
                4,
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            ),
            major => {
                return Err(format!(
                    ".npy format version {major}.{} is not 1, 2 or 3, or is cut short",
                    bytes[7]
                ));
            }
        };
        let data_start = (8 + length_bytes as u64 + header_len as u64) as usize;
        if data_start > bytes.len() {
            return Err(format!(
                "its .npy header claims {header_len} bytes but the entry has {} in all",
                bytes.len()
            ));
        }
        let header = Header::from_reader(&mut &bytes[..data_start]).map_err(|e| format!("bad .npy header: {e}"))?;
        let element = match header.type_descriptor.as_string() {
            Some(descr) => Element::from_descriptor(descr)
                .ok_or_else(|| format!("dtype `{descr}` is not an integer or float type (u1-u8, i1-i8, f4, f8)"))?,
            None => {
                let descr = &header.type_descriptor;
                return Err(format!(
                    "dtype {descr} is structured; expected a plain integer or float type"
                ));
            }
        };
        let needed = header
            .shape
            .iter()
            .try_fold(element.size() as u64, |acc, &d| acc.checked_mul(d as u64));
        let found = (bytes.len() - data_start) as u64;
        if needed != Some(found) {
            let needed = needed.map_or_else(|| "more than 2^64".to_owned(), |n| n.to_string());
            return Err(format!(
                "shape {:?} of {:?} needs {needed} bytes of data, but the entry holds {found}",
                header.shape, element
            ));
        }
        Ok(Self {
            header,
            element,
            bytes,
            data_start,
        })
    }

    /// The data bytes themselves when the array is u8 in C order, which are pixels as they stand
    /// (every u8 is 0-255): no pass over them, no second buffer. Otherwise the array back.
    fn into_u8_data(mut self) -> Result<Vec<u8>, Self> {
        if self.element == Element::U8 && !self.header.layout.is_fortran() {
            self.bytes.drain(..self.data_start);
            Ok(self.bytes)
        } else {
            Err(self)
        }
    }

    /// Every element in logical (row-major) order, each a whole number that `fit` takes; else the
    /// first that is not, and its flat index.
    fn whole_values<T>(&self, fit: impl Fn(i128) -> Option<T>) -> Result<Vec<T>, (String, usize)> {
        let data = &self.bytes[..];
        match self.element {
            Element::U8 if !self.header.layout.is_fortran() => {
                let values = &data[self.data_start..];
                values
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| fit(i128::from(v)).ok_or((v.to_string(), i)))
                    .collect()
            }
            Element::U8 => convert::<u8, T>(data, fit, i128::from),
            Element::U16 => convert::<u16, T>(data, fit, i128::from),
            Element::U32 => convert::<u32, T>(data, fit, i128::from),
            Element::U64 => convert::<u64, T>(data, fit, i128::from),
            Element::I8 => convert::<i8, T>(data, fit, i128::from),
            Element::I16 => convert::<i16, T>(data, fit, i128::from),
            Element::I32 => convert::<i32, T>(data, fit, i128::from),
            Element::I64 => convert::<i64, T>(data, fit, i128::from),
            Element::F32 => convert::<f32, T>(data, fit, |v| whole_float(f64::from(v))),
            Element::F64 => convert::<f64, T>(data, fit, whole_float),
        }
    }
}

/// A float's value when it is a whole number well inside i128, else one no caller accepts.
fn whole_float(v: f64) -> i128 {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e30 {
        v as i128
    } else {
        i128::MIN
    }
}

/// Decodes a checked `.npy` entry as `E` (ndarray-npy reads either byte order and Fortran order)
/// and converts each element in logical order.
fn convert<E, T>(
    npy_bytes: &[u8],
    fit: impl Fn(i128) -> Option<T>,
    value: impl Fn(E) -> i128,
) -> Result<Vec<T>, (String, usize)>
where
    E: ReadableElement + Copy + Display,
{
    let array = ArrayD::<E>::read_npy(npy_bytes).map_err(|e| (format!("unreadable ({e})"), 0))?;
    array
        .iter()
        .enumerate()
        .map(|(i, &v)| fit(value(v)).ok_or((v.to_string(), i)))
        .collect()
}
