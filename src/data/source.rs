//! Where a data set's splits are read from: a known set in files of its publisher's own layout
//! (`layout`: K49, EMNIST), a directory of IDX files under MNIST's names (`dataset::locate`), or one
//! `.npz` file holding both splits in Keras's or MedMNIST's layout (`npz`), told apart by the path
//! (a file ending in `.npz`, any case).

use std::path::Path;

use super::classes::{Classes, Label};
use super::dataset::{DataDir, DataError, Dataset, ImageSize, load_split, load_split_as};
use super::image_table::ImageTable;
use super::layout;
use super::npz::read_npz_splits;
use super::split::Split;

/// One split of the data set in `dir`, of `classes` when given (a model's or a resumed run's: a
/// label beyond them is an error), else of the data set's own (a known set's, or as many as the
/// split's largest label + 1).
pub fn load(dir: &DataDir, split: Split, classes: Option<&Classes>) -> Result<Dataset, DataError> {
    if let Some(loaded) = layout::load(dir, split, classes) {
        return loaded;
    }
    if !is_npz(&dir.path) {
        return match classes {
            Some(classes) => load_split_as(dir, split, classes),
            None => load_split(dir, split),
        };
    }
    let splits = read_npz_splits(&dir.path, None)?;
    let ImageTable { pixels, shape, labels } = match split {
        Split::Train => splits.train,
        Split::Test => splits.test,
    };
    let labels = labels.unwrap_or_default();
    let labels = labels
        .iter()
        .map(|&l| {
            Label::try_from(l).map_err(|_| {
                DataError::Incompatible(format!(
                    "{}: the {} label {l} is above 65,535, the most classes mlp takes",
                    dir.path.display(),
                    split.name()
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let classes = match classes {
        Some(classes) => {
            if let Some((index, label)) = classes.first_outside(&labels) {
                return Err(DataError::LabelOutOfRange {
                    path: dir.path.clone(),
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

/// Whether `path` names an npz file rather than a directory of IDX files.
pub fn is_npz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npz"))
}
