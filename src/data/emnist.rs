//! An EMNIST set read from NIST's archive (`gzip.zip`, which serves all six): a split's two IDX
//! members (`gzip/emnist-letters-train-images-idx3-ubyte.gz`, ...) read straight from the zip,
//! each image turned upright and the labels made to count from 0.
//!
//! The archive stores every image transposed, so pixel (r, c) of the upright image is pixel (c, r)
//! of the stored one: transposing again (rows x cols stored, cols x rows upright) undoes it, which
//! torchvision and TensorFlow Datasets leave to their users. The letters set labels a as 1 ... z
//! as 26; mlp's classes count from 0, so label l is class l − 1.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::catalog::{EmnistSplit, KnownDataset};
use super::classes::{Classes, Label};
use super::dataset::{DataDir, DataError, Dataset, ImageSize, image_array, label_array, missing_files};
use super::idx::{IdxArray, IdxError, MAX_INFLATION, parse_idx};
use super::split::Split;

/// The archive's path in `dir`, or the error that it is missing.
pub fn archive(dir: &DataDir, set: EmnistSplit, split: Split) -> Result<PathBuf, DataError> {
    let name = KnownDataset::Emnist(set).files()[0].name;
    let path = dir.path.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(missing_files(dir, split, &[name.to_owned()]))
    }
}

/// `split` of `set` from the archive in `dir`, upright, of `classes` (a label beyond them is an
/// error).
pub fn load(dir: &DataDir, set: EmnistSplit, split: Split, classes: &Classes) -> Result<Dataset, DataError> {
    let archive_path = archive(dir, set, split)?;
    let mut archive = open(&archive_path)?;
    // Each member is named in errors as a path inside the archive.
    let mut read = |member: &str| -> Result<(IdxArray, PathBuf), DataError> {
        let path = archive_path.join(member);
        let bytes = member_bytes(&mut archive, &archive_path, member)?;
        let array = parse_idx(&bytes).map_err(|source| IdxError::Format {
            path: path.clone(),
            source,
        })?;
        Ok((array, path))
    };
    let [images_member, labels_member] = set.members(split);
    let (images, images_path) = read(&images_member)?;
    let (labels, labels_path) = read(&labels_member)?;
    let (stored, mut pixels) = image_array(images, &images_path)?;
    let size = upright(stored, &mut pixels);
    let labels = from_zero(label_array(labels, &labels_path)?, set.first_label(), &labels_path)?;
    Dataset::labelled(pixels, size, labels, Some(classes), [&images_path, &labels_path])
}

/// Turns images stored transposed (samples of `stored`) upright in place, one image at a time
/// through a copy of it; returns the upright size.
pub fn upright(stored: ImageSize, pixels: &mut [u8]) -> ImageSize {
    let ImageSize { rows, cols, channels } = stored;
    let mut image = vec![0u8; stored.values()];
    for out in pixels.chunks_exact_mut(stored.values()) {
        image.copy_from_slice(out);
        // Upright row r, column c is stored row c, column r.
        for r in 0..cols {
            for c in 0..rows {
                let (to, from) = ((r * rows + c) * channels, (c * cols + r) * channels);
                out[to..to + channels].copy_from_slice(&image[from..from + channels]);
            }
        }
    }
    ImageSize {
        rows: cols,
        cols: rows,
        channels,
    }
}

/// Labels that count from `first` (read from `path`) as class numbers from 0.
fn from_zero(labels: Vec<Label>, first: Label, path: &Path) -> Result<Vec<Label>, DataError> {
    match labels.iter().position(|&l| l < first) {
        Some(index) => Err(DataError::Incompatible(format!(
            "{}: label {} of sample {index} is below {first}, where this set's labels start",
            path.display(),
            labels[index]
        ))),
        None => Ok(labels.into_iter().map(|l| l - first).collect()),
    }
}

fn open(path: &Path) -> Result<zip::ZipArchive<BufReader<File>>, DataError> {
    let file = File::open(path).map_err(|source| IdxError::Io {
        path: path.to_owned(),
        source,
    })?;
    zip::ZipArchive::new(BufReader::new(file)).map_err(|e| archive_error(path, format!("not a zip archive ({e})")))
}

/// The bytes of the archive member `name`, as stored there (a gzip stream).
fn member_bytes(archive: &mut zip::ZipArchive<BufReader<File>>, path: &Path, name: &str) -> Result<Vec<u8>, DataError> {
    let mut member = archive
        .by_name(name)
        .map_err(|e| archive_error(path, format!("no member {name} ({e}): not NIST's EMNIST archive?")))?;
    // Room for what the member says it holds, but no more than its zip entry can inflate to.
    let room = member
        .size()
        .min(member.compressed_size().saturating_mul(MAX_INFLATION));
    let mut bytes = Vec::new();
    let _ = bytes.try_reserve_exact(room as usize);
    member
        .read_to_end(&mut bytes)
        .map_err(|e| archive_error(path, format!("member {name} is corrupt ({e})")))?;
    Ok(bytes)
}

fn archive_error(path: &Path, problem: String) -> DataError {
    DataError::Incompatible(format!("{}: {problem}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposed_images_come_out_upright_channels_together() {
        // Two stored 2x3 grey images; upright they are 3x2.
        let mut pixels = [1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16];
        assert_eq!(upright(ImageSize::grey(2, 3), &mut pixels), ImageSize::grey(3, 2));
        assert_eq!(pixels, [1, 4, 2, 5, 3, 6, 11, 14, 12, 15, 13, 16]);
        // A 1x2 colour image: each pixel's three values move together.
        let colour = ImageSize {
            rows: 1,
            cols: 2,
            channels: 3,
        };
        let mut pixels = [1, 2, 3, 4, 5, 6];
        let size = upright(colour, &mut pixels);
        assert_eq!((size.rows, size.cols), (2, 1));
        assert_eq!(pixels, [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn letters_count_from_one_and_a_zero_is_refused() {
        let path = Path::new("labels");
        assert_eq!(from_zero(vec![1, 26, 3], 1, path).unwrap(), [0, 25, 2]);
        assert_eq!(from_zero(vec![0, 9], 0, path).unwrap(), [0, 9]);
        let error = from_zero(vec![4, 0], 1, path).unwrap_err().to_string();
        assert_eq!(
            error,
            "labels: label 0 of sample 1 is below 1, where this set's labels start"
        );
    }
}
