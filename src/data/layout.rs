//! A known data set read the way its publisher laid it out (`catalog::Layout`): MNIST's four IDX
//! names (`dataset`, through `source`), Kuzushiji-49's npz arrays (`k49`), or the EMNIST archive
//! (`emnist`); and whether a split's files are there at all, which decides whether to download them.

use super::catalog::Layout;
use super::classes::Classes;
use super::dataset::{DataDir, DataError, Dataset, locate};
use super::split::Split;
use super::{emnist, k49};

fn layout(dir: &DataDir) -> Layout {
    dir.dataset.known().map_or(Layout::MnistIdx, |k| k.layout())
}

/// Ok when `split`'s files are in `dir`, else `DataError::Missing` naming what was looked for.
pub fn find(dir: &DataDir, split: Split) -> Result<(), DataError> {
    match layout(dir) {
        Layout::MnistIdx => locate(dir, split).map(drop),
        Layout::NpzArrays => k49::files(dir, split).map(drop),
        Layout::EmnistArchive(set) => emnist::archive(dir, set, split).map(drop),
    }
}

/// One split of the known set in `dir` when its files are not MNIST's four IDX files (`None`
/// when they are), of `classes` when given, else of the set's own (a label beyond them is an error).
pub fn load(dir: &DataDir, split: Split, classes: Option<&Classes>) -> Option<Result<Dataset, DataError>> {
    let known = dir.dataset.known()?;
    let own = || known.classes();
    match known.layout() {
        Layout::MnistIdx => None,
        Layout::NpzArrays => Some(k49::load(dir, split, classes.unwrap_or(&own()))),
        Layout::EmnistArchive(set) => Some(emnist::load(dir, set, split, classes.unwrap_or(&own()))),
    }
}
