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

use super::classes::{Classes, Label};
use super::csv_images::{CsvColumns, read_csv_images};
use super::dataset::{DataDir, DataError, Dataset, ImageSize, load_split, load_split_as};
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
            let dataset = |table, split| dataset_of(table, &dir.path, split, classes);
            Ok(Splits {
                train: dataset(splits.train, "training")?,
                val: splits.val.map(|val| dataset(val, "validation")).transpose()?,
                test: Some(dataset(splits.test, "test")?),
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
            dataset_of(table, &dir.path, split.name(), classes)
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
            dataset_of(table, path, split.name(), classes)
        }
    }
}

/// The labelled `table` read from `path` (its `split` split) as a data set of `classes`, or of its
/// own labels' classes.
fn dataset_of(table: ImageTable, path: &Path, split: &str, classes: Option<&Classes>) -> Result<Dataset, DataError> {
    let ImageTable { pixels, shape, labels } = table;
    let labels = labels
        .unwrap_or_default()
        .iter()
        .map(|&l| {
            Label::try_from(l).map_err(|_| {
                DataError::Incompatible(format!(
                    "{}: the {split} label {l} is above 65,535, the most classes mlp takes",
                    path.display()
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let classes = match classes {
        Some(classes) => {
            if let Some((index, label)) = classes.first_outside(&labels) {
                return Err(DataError::LabelOutOfRange {
                    path: path.to_owned(),
                    index,
                    label,
                    classes: classes.len(),
                });
            }
            classes.clone()
        }
        None => Classes::counted(&labels),
    };
    let size = ImageSize {
        rows: shape.rows,
        cols: shape.cols,
        channels: shape.channels,
    };
    Ok(Dataset::new(pixels, labels, size, classes))
}
