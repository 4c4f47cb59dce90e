//! Tiny files in the layouts of the sets known by name, under their published names: an
//! EMNIST-layout `gzip.zip` (images stored transposed, letters labelled from 1), KMNIST's gzip'd IDX
//! files, K49's npz files of one array `arr_0`. Each image is `banded_image` upright: its class is
//! a bright band of rows, which a transposed image shows as a band of columns.

use std::io::Write;
use std::path::Path;

use md5::{Digest, Md5};
use ndarray::{Array1, Array3};
use sha2::Sha256;
use zip::write::SimpleFileOptions;

use super::{banded_image, gzip, idx_bytes};

/// The images' side, as the real sets'.
pub const SIDE: usize = 28;

/// The upright image `i` of `class` in a set of `classes`.
pub fn upright(i: usize, class: usize, classes: usize) -> Vec<u8> {
    banded_image(i, class as u32, classes, (SIDE, SIDE, 1))
}

/// A square grey image with rows and columns swapped.
pub fn transposed(image: &[u8]) -> Vec<u8> {
    (0..SIDE * SIDE).map(|k| image[(k % SIDE) * SIDE + k / SIDE]).collect()
}

/// The classes of `n` samples: 0, 1, ..., classes - 1, 0, 1, ...
pub fn classes_of(n: usize, classes: usize) -> Vec<usize> {
    (0..n).map(|i| i % classes).collect()
}

/// Raw IDX images (n, 28, 28) of `classes_of(n, classes)`, upright or transposed, and their
/// labels, `first_label` + class.
fn idx_split(n: usize, classes: usize, first_label: usize, transpose: bool) -> (Vec<u8>, Vec<u8>) {
    let labels = classes_of(n, classes);
    let pixels: Vec<u8> = labels
        .iter()
        .enumerate()
        .flat_map(|(i, &k)| {
            let image = upright(i, k, classes);
            if transpose { transposed(&image) } else { image }
        })
        .collect();
    let label_bytes: Vec<u8> = labels.iter().map(|&k| (first_label + k) as u8).collect();
    (
        idx_bytes(0x08, &[n as u32, SIDE as u32, SIDE as u32], &pixels),
        idx_bytes(0x08, &[n as u32], &label_bytes),
    )
}

/// Writes an EMNIST-layout archive to `path` holding each of `sets`, (name, classes, first label),
/// with `train` and `test` images, stored transposed and gzip'd as NIST's are.
pub fn write_emnist_archive(path: &Path, sets: &[(&str, usize, usize)], train: usize, test: usize) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for &(name, classes, first_label) in sets {
        for (part, n) in [("train", train), ("test", test)] {
            let (images, labels) = idx_split(n, classes, first_label, true);
            for (kind, bytes) in [("images-idx3", images), ("labels-idx1", labels)] {
                zip.start_file(format!("gzip/emnist-{name}-{part}-{kind}-ubyte.gz"), options)
                    .unwrap();
                zip.write_all(&gzip(&bytes)).unwrap();
            }
        }
    }
    zip.finish().unwrap();
}

/// Writes KMNIST's four gzip'd IDX files into `dir` under their published names, ten classes.
pub fn write_kmnist(dir: &Path, train: usize, test: usize) {
    for (prefix, n) in [("train", train), ("t10k", test)] {
        let (images, labels) = idx_split(n, 10, 0, false);
        std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte.gz")), gzip(&images)).unwrap();
        std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte.gz")), gzip(&labels)).unwrap();
    }
}

/// Writes K49's four npz files into `dir`, each one array `arr_0` as `np.savez_compressed` does:
/// (n, 28, 28) u8 images and (n,) u8 labels of 49 classes.
pub fn write_k49(dir: &Path, train: usize, test: usize) {
    for (part, n) in [("train", train), ("test", test)] {
        let labels = classes_of(n, 49);
        let pixels: Vec<u8> = labels
            .iter()
            .enumerate()
            .flat_map(|(i, &k)| upright(i, k, 49))
            .collect();
        let images = Array3::from_shape_vec((n, SIDE, SIDE), pixels).unwrap();
        let labels = Array1::from_iter(labels.iter().map(|&k| k as u8));
        super::formats::write_npz(&dir.join(format!("k49-{part}-imgs.npz")), true, |npz| {
            npz.add_array("arr_0", &images)
        });
        super::formats::write_npz(&dir.join(format!("k49-{part}-labels.npz")), true, |npz| {
            npz.add_array("arr_0", &labels)
        });
    }
}

/// The length, MD5 and SHA-256 (lower-case hex) of a file, as a catalog pins them.
pub fn digests(path: &Path) -> (u64, String, String) {
    let bytes = std::fs::read(path).unwrap();
    let hex = |digest: &[u8]| digest.iter().map(|b| format!("{b:02x}")).collect();
    (
        bytes.len() as u64,
        hex(&Md5::digest(&bytes)),
        hex(&Sha256::digest(&bytes)),
    )
}
