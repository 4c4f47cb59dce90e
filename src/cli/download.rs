//! `mlp download` (or `mlp fetch`): fetches a data set's files that are not in the directory yet,
//! and verifies the ones that are.

use std::path::PathBuf;

use clap::Args;

use super::data::data_dir;
use super::fetch::{DownloadArgs, fetch};
use crate::data::catalog::KnownDataset;
use crate::data::download::{Inventory, inventory};
use crate::report::Console;

#[derive(Debug, Args)]
pub struct DownloadCommandArgs {
    /// The data set to download
    #[arg(long, value_enum, default_value = "mnist")]
    pub dataset: KnownDataset,
    /// Directory to put the files in [default: $MLP_DATA_DIR, else ./data; the other sets in a
    /// folder of their own there: fashion-mnist/, kmnist/, k49/, emnist/]
    #[arg(long, visible_alias = "data-dir")]
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub download: DownloadArgs,
    /// Print nothing but errors
    #[arg(long)]
    pub quiet: bool,
}

/// `mlp download`: fetches the files of the data set that are not already in the directory, and
/// checks the ones that are.
pub fn run(args: DownloadCommandArgs) -> anyhow::Result<()> {
    let console = Console::new(false, args.quiet);
    let config = args.download.config(args.dataset)?;
    let dir = data_dir(args.dir.as_deref(), args.dataset);
    let Inventory { verified, missing } = inventory(args.dataset, &dir.path)?;
    for path in verified {
        console.line(&format!("{} is there and verified", path.display()));
    }
    fetch(args.dataset, &missing, &dir.path, &config, &console)?;
    console.line(&format!(
        "{} is complete in {}",
        args.dataset.title(),
        dir.path.display()
    ));
    Ok(())
}
