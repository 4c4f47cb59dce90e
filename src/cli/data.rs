//! The flags shared by every command that reads a data set (`--dataset`, `--data-dir`, `--data`,
//! and the download flags), where they put the data set's directory (`--data-dir`, else
//! `$MLP_DATA_DIR`, else `./data`; or `--data` for a set of one's own), and fetching a known set's
//! missing files first, unless `--no-download`.

use std::env;
use std::path::{Path, PathBuf};

use clap::Args;

use super::exit::usage_bail;
use super::fetch::{DownloadArgs, fetch};
use crate::data::catalog::{DatasetId, KnownDataset};
use crate::data::classes::Classes;
use crate::data::dataset::{DataDir, DataError, Dataset};
use crate::data::download::existing;
use crate::data::source::SourceKind;
use crate::data::split::Split;
use crate::data::{layout, source};
use crate::model_file::Model;
use crate::report::Console;
use crate::run::RunSpec;

/// The environment variable naming the data root when `--data-dir` is not given.
pub const DATA_DIR_ENV: &str = "MLP_DATA_DIR";

#[derive(Debug, Args)]
pub struct DataArgs {
    /// A data set known by name, downloaded when missing [default: mnist; for a model, the one it
    /// was trained on]
    #[arg(long, value_enum)]
    pub dataset: Option<KnownDataset>,
    /// Directory with the data set's files [default: $MLP_DATA_DIR, else ./data; the other sets in
    /// a folder of their own there: fashion-mnist/, kmnist/, k49/, and emnist/ for all six EMNIST
    /// sets]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// A data set of your own instead: a directory of IDX files named as MNIST's
    /// (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-...), an .npz file in Keras's
    /// layout (x_train, y_train, x_test, y_test) or MedMNIST's (train_images, train_labels, ...),
    /// or a .csv file of training images, one a row: the label, then the pixels 0-255 (header line
    /// optional, as Kaggle's train.csv); integer labels, the classes 0 to the largest label
    #[arg(long, conflicts_with_all = ["dataset", "data_dir"])]
    pub data: Option<PathBuf>,
    /// With --data FILE.csv: the CSV file of the test images, in the same layout [default: no test
    /// set; hold out validation images with --val N instead]
    #[arg(long, requires = "data")]
    pub test_data: Option<PathBuf>,
    /// With --data: the images' size, HxW (e.g. 28x28), for CSV rows and flat npz arrays that are
    /// not square [default: square]
    #[arg(long, value_parser = image_size, requires = "data")]
    pub image_size: Option<(usize, usize)>,
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

    /// The files `--data` names (with `--test-data` and `--image-size`), if it was given.
    pub fn files(&self) -> anyhow::Result<Option<DataDir>> {
        let Some(path) = &self.data else { return Ok(None) };
        let mut files = files_dir(path.clone(), "from --data");
        if let Some(test) = &self.test_data {
            if SourceKind::of(path) != SourceKind::Csv || SourceKind::of(test) != SourceKind::Csv {
                usage_bail!(
                    "--test-data {}: a test file goes with --data FILE.csv and is a .csv file itself (an IDX \
                     directory or an npz file holds its own test split)",
                    test.display()
                );
            }
            files.test_file = Some(test.clone());
        }
        files.image_size = self.image_size;
        Ok(Some(files))
    }

    /// The data set the flags choose: `--data`'s files, else the known set `--dataset` names
    /// (`default` without it) in its directory.
    pub fn chosen(&self, default: KnownDataset) -> anyhow::Result<DataDir> {
        Ok(self.files()?.unwrap_or_else(|| self.dir(self.dataset_or(default))))
    }

    /// Downloads the files of `splits` that are missing from `dir`, when it is a known data set's
    /// and downloading is not turned off (`--no-download`).
    pub fn fetch_missing(&self, dir: &DataDir, splits: &[Split], console: &Console) -> anyhow::Result<()> {
        let Some(dataset) = dir.dataset.known() else {
            return Ok(());
        };
        if self.no_download {
            return Ok(());
        }
        for &split in splits {
            if let Err(missing @ DataError::Missing { .. }) = layout::find(dir, split) {
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

    /// The data `model` (read from `path`) is to be `to` (`evaluated`, `checked`) on, one split of
    /// it: `--data`'s files, else the data set it was trained on (a known one in its directory,
    /// `--data-dir`...; files where `--data-dir` says or the run read them), downloaded first if
    /// missing, of the model's classes and scaled as it scales its input. `--dataset` naming
    /// another set is a usage error, images of another size a data error.
    pub fn load_for_model(
        &self,
        path: &Path,
        model: &Model,
        split: Split,
        to: &str,
        console: &Console,
    ) -> anyhow::Result<(DataDir, Dataset)> {
        let dir = self.dir_for_model(path, model, to)?;
        self.fetch_missing(&dir, &[split], console)?;
        let mut data = source::load(&dir, split, Some(&model.info.classes))?;
        data.scaling = model.info.input.scaling;
        let input = &model.info.input;
        if data.size() != input.size() {
            return Err(DataError::Incompatible(format!(
                "{} was trained on {} images but the {} images are {}",
                path.display(),
                input.size(),
                split.name(),
                data.size()
            ))
            .into());
        }
        Ok((dir, data))
    }

    fn dir_for_model(&self, path: &Path, model: &Model, to: &str) -> anyhow::Result<DataDir> {
        if let Some(files) = self.files()? {
            return Ok(files);
        }
        let trained = &model.info.dataset;
        let asked = self.dataset.filter(|&asked| trained.known() != Some(asked));
        match (trained, asked) {
            (DatasetId::Known(_), Some(asked)) => usage_bail!(
                "{} was trained on {}, so its outputs mean {}; it cannot be {to} on --dataset {asked}",
                path.display(),
                trained.title(),
                class_list(trained, &model.info.classes)
            ),
            (DatasetId::Files(name), Some(asked)) => usage_bail!(
                "{} was trained on files ({name}), not on a data set known by name: give those files with \
                 --data DIR instead of --dataset {asked}",
                path.display()
            ),
            (DatasetId::Known(known), None) => Ok(self.dir(*known)),
            (DatasetId::Files(name), None) => {
                let recorded =
                    serde_json::from_value::<RunSpec>(serde_json::Value::Object(model.info.training.clone())).ok();
                match (&self.data_dir, recorded) {
                    (Some(dir), _) => Ok(chosen_dir(dir.clone(), trained, "from --data-dir")),
                    (None, Some(recorded)) => {
                        let mut files = chosen_dir(recorded.data_dir, trained, "the files the model was trained on");
                        files.test_file = recorded.test_data;
                        files.image_size = recorded.image_size;
                        Ok(files)
                    }
                    (None, None) => usage_bail!(
                        "{} was trained on files ({name}) and does not record where they were: give them with --data DIR",
                        path.display()
                    ),
                }
            }
        }
    }
}

/// Where `dataset`'s files are: `flag` (`--data-dir`, or `mlp download --dir`) if given; else the
/// data set's folder (`KnownDataset::subdir`) under the data root, which is `$MLP_DATA_DIR` when set
/// and `./data` otherwise.
pub fn data_dir(flag: Option<&Path>, dataset: KnownDataset) -> DataDir {
    let (root, chosen_by) = match (flag, env::var_os(DATA_DIR_ENV)) {
        (Some(path), _) => return chosen_dir(path.to_owned(), &DatasetId::Known(dataset), "from --data-dir"),
        (None, Some(dir)) if !dir.is_empty() => (PathBuf::from(dir), "from MLP_DATA_DIR"),
        _ => (PathBuf::from("data"), "the default data directory"),
    };
    let path = match dataset.subdir() {
        Some(subdir) => root.join(subdir),
        None => root,
    };
    chosen_dir(path, &DatasetId::Known(dataset), chosen_by)
}

/// `path` as the directory of `dataset`, chosen as `chosen_by` says, with the command line's advice
/// for when files are missing there.
pub fn chosen_dir(path: PathBuf, dataset: &DatasetId, chosen_by: &'static str) -> DataDir {
    let hint = match dataset {
        DatasetId::Known(known) => format!(
            "get them with `mlp download --dataset {known} --dir {}`, or point --data-dir or {DATA_DIR_ENV} \
             at a directory that has them",
            path.display()
        ),
        DatasetId::Files(_) => "--data names a directory of IDX files named as MNIST's: train-images-idx3-ubyte \
                                and train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte \
                                (each raw or .gz)"
            .to_owned(),
    };
    DataDir {
        path,
        dataset: dataset.clone(),
        chosen_by,
        hint,
        test_file: None,
        image_size: None,
    }
}

/// `path` as a data set read from files, named after it (a directory's name, a file's stem).
pub fn files_dir(path: PathBuf, chosen_by: &'static str) -> DataDir {
    let named = |p: &Path| {
        let name = if p.is_dir() { p.file_name() } else { p.file_stem() };
        name.map(|n| n.to_string_lossy().into_owned())
    };
    // `.` and `..` have no name of their own: their full path has.
    let name = named(&path)
        .or_else(|| path.canonicalize().ok().as_deref().and_then(named))
        .unwrap_or_else(|| "files".to_owned());
    chosen_dir(path, &DatasetId::Files(name), chosen_by)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// "0=T-shirt/top, 1=Trouser, ...", or "the digits 0-9" (MNIST), or "the classes 0-19".
fn class_list(dataset: &DatasetId, classes: &Classes) -> String {
    if classes.are_numbered() {
        let what = if dataset.known() == Some(KnownDataset::Mnist) {
            "digits"
        } else {
            "classes"
        };
        return format!("the {what} 0-{}", classes.len().saturating_sub(1));
    }
    classes.listing()
}

/// `--image-size HxW`: rows x cols, both at least 1 (`28x28`, `32X48`).
fn image_size(text: &str) -> Result<(usize, usize), String> {
    let parsed = text
        .split_once(['x', 'X'])
        .and_then(|(rows, cols)| Some((rows.trim().parse::<usize>().ok()?, cols.trim().parse::<usize>().ok()?)));
    match parsed {
        Some((rows, cols)) if rows > 0 && cols > 0 => Ok((rows, cols)),
        _ => Err(format!(
            "`{text}` is not an image size: give rows x cols, such as 28x28"
        )),
    }
}
