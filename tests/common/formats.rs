//! Real MNIST as arrays, as CSV text, and npz files written from Rust (ndarray-npy), for the tests
//! of the CSV and npz readers and of `--data FILE`.

use std::io::Write;
use std::path::Path;

use mlp::data::idx::{IdxData, read_idx_file};
use ndarray::{Array2, Array3};
use ndarray_npy::{NpzWriter, WriteNpzError};
use zip::write::SimpleFileOptions;

/// One split of real MNIST in `dir` (`train` or `t10k`): (samples, 784) pixels and the labels.
pub fn mnist_split(dir: &Path, prefix: &str) -> (Array2<u8>, Vec<u8>) {
    let images = read_idx_file(&dir.join(format!("{prefix}-images-idx3-ubyte.gz"))).unwrap();
    let labels = read_idx_file(&dir.join(format!("{prefix}-labels-idx1-ubyte.gz"))).unwrap();
    let (IdxData::U8(pixels), IdxData::U8(labels)) = (images.data, labels.data) else {
        panic!("MNIST is u8")
    };
    (Array2::from_shape_vec((labels.len(), 784), pixels).unwrap(), labels)
}

/// Writes an npz to `path` (deflated or stored, as `np.savez_compressed` and `np.savez` do) with
/// the arrays `add` puts in.
pub fn write_npz(
    path: &Path,
    compressed: bool,
    add: impl FnOnce(&mut NpzWriter<std::fs::File>) -> Result<(), WriteNpzError>,
) {
    let method = if compressed {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let options = SimpleFileOptions::default().compression_method(method).large_file(true);
    let mut npz = NpzWriter::new_with_options(std::fs::File::create(path).unwrap(), options);
    add(&mut npz).unwrap();
    npz.finish().unwrap();
}

/// (samples, 784) pixels as (samples, 28, 28) images.
pub fn images3(pixels: &Array2<u8>) -> Array3<u8> {
    pixels.clone().into_shape_with_order((pixels.nrows(), 28, 28)).unwrap()
}

/// The CSV text of `pixels` with `labels` in the first column, with Kaggle's header or none.
pub fn mnist_csv(pixels: &Array2<u8>, labels: &[u8], header: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(pixels.len() * 4);
    if header {
        out.extend_from_slice(b"label");
        for k in 0..pixels.ncols() {
            write!(out, ",pixel{k}").unwrap();
        }
        out.push(b'\n');
    }
    for (row, &label) in pixels.rows().into_iter().zip(labels) {
        write!(out, "{label}").unwrap();
        for &p in row {
            write!(out, ",{p}").unwrap();
        }
        out.push(b'\n');
    }
    out
}
