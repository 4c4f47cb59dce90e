//! The flags shared by every command that reads a data set (`--dataset`, `--data-dir`), and loading a
//! split with them.

use std::path::PathBuf;

use clap::Args;

use crate::data::catalog::KnownDataset;
use crate::data::dataset::{DataDir, Dataset, Split, load_split};

#[derive(Debug, Args)]
pub struct DataArgs {
    /// The data set: mnist or fashion-mnist [default: mnist; for a model, the one it was trained on]
    #[arg(long, value_enum)]
    pub dataset: Option<KnownDataset>,
    /// Directory with the data set's four IDX files [default: $MLP_DATA_DIR, else ./data;
    /// fashion-mnist in a fashion-mnist/ folder there]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

impl DataArgs {
    /// The data set asked for, or `default` when `--dataset` was not given.
    pub fn dataset_or(&self, default: KnownDataset) -> KnownDataset {
        self.dataset.unwrap_or(default)
    }

    /// Where `dataset`'s files are read from.
    pub fn dir(&self, dataset: KnownDataset) -> DataDir {
        DataDir::resolve(self.data_dir.as_deref(), dataset)
    }

    /// Loads one split of `dataset`.
    pub fn load(&self, dataset: KnownDataset, split: Split) -> anyhow::Result<Dataset> {
        Ok(load_split(&self.dir(dataset), split)?)
    }
}
