//! Kuzushiji-49 as CODH publishes it: for each split an images file and a labels file,
//! `k49-{train,test}-imgs.npz` holding (N, 28, 28) u8 and `k49-{train,test}-labels.npz` holding
//! (N,) class numbers 0-48, each file one array `arr_0` (NumPy's `np.savez` name for an unnamed
//! array).

use std::path::PathBuf;

use super::classes::Classes;
use super::dataset::{DataDir, DataError, Dataset, class_numbers, missing_files};
use super::npz::{read_npz_array_images, read_npz_array_labels};
use super::split::Split;

/// The one array in each file.
const ARRAY: &str = "arr_0";

/// The images and labels files of `split` in `dir`, or which of them are missing.
pub fn files(dir: &DataDir, split: Split) -> Result<[PathBuf; 2], DataError> {
    let part = split.name();
    let names = [format!("k49-{part}-imgs.npz"), format!("k49-{part}-labels.npz")];
    let absent: Vec<String> = names.iter().filter(|n| !dir.path.join(n).is_file()).cloned().collect();
    if !absent.is_empty() {
        return Err(missing_files(dir, split, &absent));
    }
    Ok(names.map(|n| dir.path.join(n)))
}

/// One split from `dir`, of `classes` (a label beyond them is an error).
pub fn load(dir: &DataDir, split: Split, classes: &Classes) -> Result<Dataset, DataError> {
    let [images_path, labels_path] = files(dir, split)?;
    let images = read_npz_array_images(&images_path, ARRAY)?;
    let labels = read_npz_array_labels(&labels_path, ARRAY)?;
    let labels = class_numbers(labels.into_iter().map(i64::from), &labels_path)?;
    // The reader builds its tables in standard layout from offset 0: the raw vector is the pixels.
    let pixels = images.pixels.into_raw_vec_and_offset().0;
    Dataset::labelled(
        pixels,
        images.shape.into(),
        labels,
        Some(classes),
        [&images_path, &labels_path],
    )
}
