//! The flags shared by every command that reads a data set (`--dataset`, `--data-dir`, and the
//! download flags), and loading a split with them: a split whose files are missing is downloaded
//! first, unless `--no-download`.

use std::path::PathBuf;

use clap::Args;

use super::fetch::{DownloadArgs, fetch};
use crate::data::catalog::KnownDataset;
use crate::data::dataset::{DataDir, DataError, Dataset, load_split, locate};
use crate::data::download::existing;
use crate::data::split::Split;
use crate::report::Console;

#[derive(Debug, Args)]
pub struct DataArgs {
    /// The data set: mnist or fashion-mnist [default: mnist; for a model, the one it was trained on]
    #[arg(long, value_enum)]
    pub dataset: Option<KnownDataset>,
    /// Directory with the data set's four IDX files [default: $MLP_DATA_DIR, else ./data;
    /// fashion-mnist in a fashion-mnist/ folder there]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Fail when files are missing instead of downloading them
    #[arg(long)]
    pub no_download: bool,
    #[command(flatten)]
    pub download: DownloadArgs,
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

    /// Downloads the files of `splits` of `dataset` that are missing, unless `--no-download`.
    pub fn fetch_missing(&self, dataset: KnownDataset, splits: &[Split], console: &Console) -> anyhow::Result<()> {
        if self.no_download {
            return Ok(());
        }
        let dir = self.dir(dataset);
        for &split in splits {
            if let Err(missing @ DataError::Missing { .. }) = locate(&dir, split) {
                let config = self.download.config(dataset)?;
                console.line(&format!("{}; downloading them", first_line(&missing.to_string())));
                let absent: Vec<_> = dataset
                    .split_files(split)
                    .iter()
                    .filter(|file| existing(&dir.path, file).is_none())
                    .copied()
                    .collect();
                fetch(dataset, &absent, &dir.path, &config, console)?;
            }
        }
        Ok(())
    }

    /// Loads one split of `dataset` (after `fetch_missing`, if it may download).
    pub fn load(&self, dataset: KnownDataset, split: Split) -> anyhow::Result<Dataset> {
        Ok(load_split(&self.dir(dataset), split)?)
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}
