//! The flags shared by every command that reads a data set (`--dataset`, `--data-dir`, and the
//! download flags), where they put the data set's directory (`--data-dir`, else `$MLP_DATA_DIR`,
//! else `./data`), and loading a split with them: a split whose files are missing is downloaded
//! first, unless `--no-download`.

use std::env;
use std::path::{Path, PathBuf};

use clap::Args;

use super::exit::usage_bail;
use super::fetch::{DownloadArgs, fetch};
use crate::data::catalog::KnownDataset;
use crate::data::dataset::{DataDir, DataError, Dataset, load_split, locate};
use crate::data::download::existing;
use crate::data::split::Split;
use crate::model_file::Model;
use crate::report::Console;

/// The environment variable naming the data root when `--data-dir` is not given.
pub const DATA_DIR_ENV: &str = "MLP_DATA_DIR";

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
        data_dir(self.data_dir.as_deref(), dataset)
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

    /// One split of the data set `model` (read from `path`) was trained on, downloaded first if
    /// missing and scaled as the model scales its input; `--dataset` naming another data set is a
    /// usage error, and images of another size a data error. `to` says what the model is to be
    /// (`evaluated`, `checked`) in the first message.
    pub fn load_for_model(
        &self,
        path: &Path,
        model: &Model,
        split: Split,
        to: &str,
        console: &Console,
    ) -> anyhow::Result<Dataset> {
        let dataset = model.info.dataset;
        if let Some(asked) = self.dataset.filter(|&asked| asked != dataset) {
            usage_bail!(
                "{} was trained on {}, so its outputs mean {}; it cannot be {to} on --dataset {asked}",
                path.display(),
                dataset.title(),
                class_list(dataset)
            );
        }
        self.fetch_missing(dataset, &[split], console)?;
        let mut data = self.load(dataset, split)?;
        data.scaling = model.info.input.scaling;
        let input = &model.info.input;
        if (data.rows, data.cols) != (input.rows, input.cols) {
            return Err(DataError::Incompatible(format!(
                "{} was trained on {}x{} images but the {} images are {}x{}",
                path.display(),
                input.rows,
                input.cols,
                split.name(),
                data.rows,
                data.cols
            ))
            .into());
        }
        Ok(data)
    }
}

/// What a data set's outputs mean, for messages: `the digits 0-9`, or `0=T-shirt/top, 1=...`.
fn class_list(dataset: KnownDataset) -> String {
    if !dataset.has_named_classes() {
        return "the digits 0-9".to_owned();
    }
    let names = dataset
        .class_names()
        .iter()
        .enumerate()
        .map(|(k, n)| format!("{k}={n}"));
    names.collect::<Vec<_>>().join(", ")
}

/// Where `dataset`'s files are: `flag` (`--data-dir`, or `mlp download --dir`) if given; else the
/// data set's folder (`KnownDataset::subdir`) under the data root, which is `$MLP_DATA_DIR` when set
/// and `./data` otherwise.
pub fn data_dir(flag: Option<&Path>, dataset: KnownDataset) -> DataDir {
    let (root, chosen_by) = match (flag, env::var_os(DATA_DIR_ENV)) {
        (Some(path), _) => return chosen_dir(path.to_owned(), dataset, "from --data-dir"),
        (None, Some(dir)) if !dir.is_empty() => (PathBuf::from(dir), "from MLP_DATA_DIR"),
        _ => (PathBuf::from("data"), "the default data directory"),
    };
    let path = match dataset.subdir() {
        Some(subdir) => root.join(subdir),
        None => root,
    };
    chosen_dir(path, dataset, chosen_by)
}

/// `path` as the directory of `dataset`, chosen as `chosen_by` says, with the command line's advice
/// for when files are missing there.
pub fn chosen_dir(path: PathBuf, dataset: KnownDataset, chosen_by: &'static str) -> DataDir {
    let hint = format!(
        "get them with `mlp download --dataset {dataset} --dir {}`, or point --data-dir or {DATA_DIR_ENV} \
         at a directory that has them",
        path.display()
    );
    DataDir {
        path,
        dataset,
        chosen_by,
        hint,
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}
