//! The download flags shared by every command that may download a data set (`--mirror` or
//! `$MLP_MIRROR`, `--timeout`, `--retries`), their validation into a `DownloadConfig`, and a
//! download with its progress shown on the console.

use std::path::Path;
use std::time::Duration;

use clap::Args;
use indicatif::ProgressBar;

use super::args::positive_f64;
use super::exit::UsageError;
use crate::data::catalog::{KnownDataset, PublishedFile};
use crate::data::download::{DownloadConfig, DownloadObserver, Failure, download};
use crate::report::Console;

/// The environment variable that names mirrors when `--mirror` is not given.
pub const MIRROR_ENV: &str = "MLP_MIRROR";

#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// Base URL to download the .gz files from instead of the data set's own mirrors (repeat for
    /// several, tried in order; also $MLP_MIRROR, comma-separated)
    #[arg(long = "mirror", value_name = "URL", env = MIRROR_ENV, value_delimiter = ',')]
    pub mirrors: Vec<String>,
    /// Seconds to wait for a connection or for more data before giving a mirror up
    #[arg(long, value_name = "SECONDS", value_parser = positive_f64, default_value = "30")]
    pub timeout: f64,
    /// Further tries on one mirror after a transient failure (no connection, timeout, cut-off body),
    /// after waits of 1 s, 2 s, 4 s, ...
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10), default_value = "2")]
    pub retries: u32,
}

impl DownloadArgs {
    /// The download settings for `dataset`, after checking the mirror addresses.
    pub fn config(&self, dataset: KnownDataset) -> Result<DownloadConfig, UsageError> {
        let mut config = DownloadConfig::for_dataset(dataset);
        if !self.mirrors.is_empty() {
            config.mirrors = self.mirrors.iter().map(|m| mirror_url(m)).collect::<Result<_, _>>()?;
        }
        config.timeout = Duration::from_secs_f64(self.timeout);
        config.attempts = self.retries + 1;
        Ok(config)
    }
}

/// A mirror as a base URL ending in `/`, or why it is not one.
fn mirror_url(text: &str) -> Result<String, UsageError> {
    let text = text.trim();
    let rest = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
    match rest {
        Some(host_and_path) if !host_and_path.is_empty() && !host_and_path.starts_with('/') => {
            Ok(if text.ends_with('/') {
                text.to_owned()
            } else {
                format!("{text}/")
            })
        }
        _ => Err(UsageError(format!(
            "--mirror `{text}` (or {MIRROR_ENV}) is not an http:// or https:// address such as \
             http://localhost:8000/mnist/"
        ))),
    }
}

/// Downloads `files` of `dataset` into `dir`, reporting on `console`.
pub fn fetch(
    dataset: KnownDataset,
    files: &[PublishedFile],
    dir: &Path,
    config: &DownloadConfig,
    console: &Console,
) -> anyhow::Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let mut report = Report { console, bar: None };
    download(dataset, files, dir, config, &mut report)?;
    Ok(())
}

/// Shows a progress bar per transfer and a line per failure and per stored file.
struct Report<'a> {
    console: &'a Console,
    bar: Option<ProgressBar>,
}

impl Report<'_> {
    fn clear_bar(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl DownloadObserver for Report<'_> {
    fn transfer_started(&mut self, file: &str, url: &str, size: Option<u64>) {
        self.clear_bar();
        self.console.line(&format!("downloading {url}"));
        self.bar = Some(self.console.bytes_progress(size, file.to_owned()));
    }

    fn received(&mut self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }

    fn transfer_failed(&mut self, url: &str, failure: &Failure, retry_in: Option<Duration>) {
        self.clear_bar();
        let next = match retry_in {
            Some(wait) => format!("trying again in {} s", wait.as_secs_f64()),
            None => "giving this mirror up".to_owned(),
        };
        self.console.line(&format!("{url}: {failure}; {next}"));
    }

    fn file_done(&mut self, _file: &str, path: &Path) {
        self.clear_bar();
        self.console
            .line(&format!("stored {} (checksum verified)", path.display()));
    }
}
