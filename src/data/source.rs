//! Where a data set's splits are read from, told apart by the path: a known set in files of its
//! publisher's own layout (`layout`: K49, EMNIST), a directory of IDX files under MNIST's names
//! (`dataset::locate`), one `.npz` file holding its splits in Keras's or MedMNIST's layout (`npz`),
//! or a `.csv` file of labelled images (`csv_images`) with the test split in a second CSV file
//! when one is given (`DataDir::test_file`). Extensions are matched in any case.
//!
//! ```text
//! IDX directory: train and test            npz: train, test, and MedMNIST's val when present
//! CSV: train, and test from --test-data    (no test file: no test set)
//! ```

use std::path::Path;

use super::classes::Classes;
use super::csv_images::{CsvColumns, read_csv_images};
use super::dataset::{DataDir, DataError, Dataset, class_numbers, load_split, load_split_as};
use super::image_table::ImageTable;
use super::layout;
use super::npz::read_npz_splits;
use super::split::Split;

/// The splits a data set's files hold.
#[derive(Clone, Debug)]
pub struct Splits {
    pub train: Dataset,
    /// The file's own validation split (MedMNIST's npz), when it has one.
    pub val: Option<Dataset>,
    /// `None` for a CSV file without a test file beside it.
    pub test: Option<Dataset>,
}

/// The kinds of files a data set is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    IdxDir,
    Npz,
    Csv,
}

impl SourceKind {
    /// The kind of `path`: by its extension, a directory (of IDX files) otherwise.
    pub fn of(path: &Path) -> Self {
        match path.extension() {
            Some(e) if e.eq_ignore_ascii_case("npz") => Self::Npz,
            Some(e) if e.eq_ignore_ascii_case("csv") => Self::Csv,
            _ => Self::IdxDir,
        }
    }
}

/// Every split of the data set in `dir`, of `classes` when given (a model's or a resumed run's: a
/// label beyond them is an error), else each of its own (a known set's, or as many as the split's
/// largest label + 1). Files that hold two splits are read once; separate files side by side.
pub fn load_splits(dir: &DataDir, classes: Option<&Classes>) -> Result<Splits, DataError> {
    match SourceKind::of(&dir.path) {
        SourceKind::IdxDir => {
            // Decompressing the files is most of the loading time.
            let (train, test) = rayon::join(|| load(dir, Split::Train, classes), || load(dir, Split::Test, classes));
            Ok(Splits {
                train: train?,
                val: None,
                test: Some(test?),
            })
        }
        SourceKind::Npz => {
            let splits = read_npz_splits(&dir.path, dir.image_size)?;
            let dataset = |table| dataset_of(table, &dir.path, classes);
            Ok(Splits {
                train: dataset(splits.train)?,
                val: splits.val.map(dataset).transpose()?,
                test: Some(dataset(splits.test)?),
            })
        }
        SourceKind::Csv => {
            let (train, test) = rayon::join(
                || load(dir, Split::Train, classes),
                || dir.test_file.as_ref().map(|_| load(dir, Split::Test, classes)),
            );
            Ok(Splits {
                train: train?,
                val: None,
                test: test.transpose()?,
            })
        }
    }
}

/// One split of the data set in `dir`, of `classes` as `load_splits` takes them. A CSV data set
/// without a test file has no test split: asking for it is `DataError::NoTestSet`.
pub fn load(dir: &DataDir, split: Split, classes: Option<&Classes>) -> Result<Dataset, DataError> {
    if let Some(loaded) = layout::load(dir, split, classes) {
        return loaded;
    }
    match SourceKind::of(&dir.path) {
        SourceKind::IdxDir => match classes {
            Some(classes) => load_split_as(dir, split, classes),
            None => load_split(dir, split),
        },
        SourceKind::Npz => {
            let splits = read_npz_splits(&dir.path, dir.image_size)?;
            let table = match split {
                Split::Train => splits.train,
                Split::Test => splits.test,
            };
            dataset_of(table, &dir.path, classes)
        }
        SourceKind::Csv => {
            let path = match split {
                Split::Train => &dir.path,
                Split::Test => dir
                    .test_file
                    .as_ref()
                    .ok_or_else(|| DataError::NoTestSet { path: dir.path.clone() })?,
            };
            let table = read_csv_images(path, CsvColumns::LabelThenPixels, dir.image_size)?;
            dataset_of(table, path, classes)
        }
    }
}

/// The labelled `table` read from `path` as a data set of `classes`, or of its own labels' classes.
fn dataset_of(table: ImageTable, path: &Path, classes: Option<&Classes>) -> Result<Dataset, DataError> {
    let ImageTable { pixels, shape, labels } = table;
    let labels = class_numbers(labels.unwrap_or_default().into_iter().map(i64::from), path)?;
    // The readers build their tables in standard layout from offset 0: the raw vector is the pixels.
    let pixels = pixels.into_raw_vec_and_offset().0;
    Dataset::labelled(pixels, shape.into(), labels, classes, [path, path])
}
