//! Downloading a known data set's files from its mirrors, verified before they are kept.
//!
//! Each file is fetched as `{mirror}{published name}`. The mirrors are tried in order; on one
//! mirror a transient failure (no connection, a timeout, a 5xx or 429 status, a body cut short) is
//! retried after a backoff that doubles each time, while a lasting one (another 4xx status, content
//! that fails the checksum) moves on to the next mirror at once. The body streams into a temporary
//! file beside the target; it must pass `verify` against what `catalog` pins (the decompressed IDX
//! content's length and SHA-256, or the published bytes' length, MD5 and SHA-256), and only then is
//! it renamed into place (under its published name, or without `.gz` if a mirror served IDX content
//! uncompressed). A failed or corrupt download therefore leaves nothing behind under a real name.
//!
//! The timeout bounds connecting and each wait for data, not the whole transfer, so a slow but
//! steady link still finishes while a stalled server is given up on.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use super::catalog::{Check, KnownDataset, PublishedFile};
use super::dataset::spellings;
use super::verify::{Unverified, verify};

/// The largest file accepted whose published length is not pinned (IDX content checks):
/// Fashion-MNIST's training images, the biggest, are 26 MB.
const MAX_IDX_DOWNLOAD_BYTES: u64 = 64 << 20;

/// How to download.
#[derive(Clone, Debug, PartialEq)]
pub struct DownloadConfig {
    /// Base URLs, tried in order; each file is fetched as `{base}{published name}`.
    pub mirrors: Vec<String>,
    /// Longest wait for a connection or for the next bytes of a response.
    pub timeout: Duration,
    /// Tries per mirror for transient failures (at least 1).
    pub attempts: u32,
    /// Wait before the second try on a mirror; doubled before each further one.
    pub backoff: Duration,
}

impl DownloadConfig {
    /// `dataset`'s own mirrors, a 30-second timeout, three tries per mirror from a 1-second backoff.
    pub fn for_dataset(dataset: KnownDataset) -> Self {
        Self {
            mirrors: dataset.mirrors().iter().map(|m| (*m).to_owned()).collect(),
            timeout: Duration::from_secs(30),
            attempts: 3,
            backoff: Duration::from_secs(1),
        }
    }
}

/// What happens during a download, for progress bars and messages.
pub trait DownloadObserver {
    /// A transfer of `file` from `url` begins; `size` is the announced length in bytes, if any.
    fn transfer_started(&mut self, file: &str, url: &str, size: Option<u64>);
    /// `bytes` more bytes of the current transfer arrived.
    fn received(&mut self, bytes: u64);
    /// The current transfer failed; it is tried again after `retry_in`, or the next mirror is tried
    /// when that is `None`.
    fn transfer_failed(&mut self, url: &str, failure: &Failure, retry_in: Option<Duration>);
    /// `file` was verified and stored at `path`.
    fn file_done(&mut self, file: &str, path: &Path);
}

/// Why one transfer of one file from one mirror failed.
#[derive(Debug)]
pub enum Failure {
    /// The server answered with a status other than 200.
    Status(u16),
    /// The server's host name does not resolve.
    HostNotFound,
    /// No connection, or it broke.
    Network(String),
    /// No connection or no data for this long.
    TimedOut(Duration),
    /// The connection closed before the announced length had arrived.
    Truncated { received: u64, announced: Option<u64> },
    /// More bytes than this arrived: more than the file's published length.
    TooLarge(u64),
    /// The content cannot be read as the check needs (not a readable gzip stream).
    Corrupt(String),
    /// The content is not the pinned one: what it is instead.
    Mismatch(String),
}

impl Failure {
    /// Whether trying the same mirror again may help.
    fn is_transient(&self) -> bool {
        match self {
            Self::Status(status) => *status == 429 || *status >= 500,
            Self::Network(_) | Self::TimedOut(_) | Self::Truncated { .. } => true,
            Self::HostNotFound | Self::TooLarge(_) | Self::Corrupt(_) | Self::Mismatch(_) => false,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(404) => write!(f, "HTTP 404: the mirror does not have the file"),
            Self::Status(status) => write!(f, "HTTP status {status}"),
            Self::HostNotFound => write!(f, "host not found (no network, or a mistyped mirror?)"),
            Self::Network(reason) => write!(f, "network error: {reason}"),
            Self::TimedOut(after) => write!(f, "timed out: no data for {} s", after.as_secs_f64()),
            Self::Truncated {
                received,
                announced: Some(announced),
            } => write!(
                f,
                "truncated: the connection closed after {received} of {announced} bytes"
            ),
            Self::Truncated { received, .. } => write!(f, "truncated: the connection closed after {received} bytes"),
            Self::TooLarge(limit) => write!(f, "the response is larger than {limit} bytes; not this file"),
            Self::Corrupt(reason) => write!(f, "corrupt: {reason}"),
            Self::Mismatch(found) => write!(f, "corrupt: {found} is not the published file"),
        }
    }
}

/// One failed transfer: where from, and why.
#[derive(Debug)]
pub struct Attempt {
    pub url: String,
    pub failure: Failure,
}

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error(
        "could not download {dataset}'s {file} from any mirror:{}\n  \
         try again later, give a working mirror with --mirror URL or MLP_MIRROR, \
         or put the file in {} yourself",
        list(attempts),
        dir.display()
    )]
    AllMirrorsFailed {
        dataset: &'static str,
        file: String,
        dir: PathBuf,
        attempts: Vec<Attempt>,
    },
    #[error("cannot store downloads in {}: {source}", dir.display())]
    Store { dir: PathBuf, source: io::Error },
    #[error(
        "{} is already there but is not {dataset}'s {file} ({reason}); \
         move it away and run the download again",
        path.display()
    )]
    ExistingDiffers {
        dataset: &'static str,
        file: &'static str,
        path: PathBuf,
        reason: String,
    },
}

/// One line per mirror, or per try where a mirror failed in different ways.
fn list(attempts: &[Attempt]) -> String {
    let mut lines = String::new();
    for same_url in attempts.chunk_by(|a, b| a.url == b.url) {
        let first = same_url[0].failure.to_string();
        if same_url.iter().all(|a| a.failure.to_string() == first) {
            let tries = match same_url.len() {
                1 => String::new(),
                n => format!(" ({n} tries)"),
            };
            lines += &format!("\n    {}: {first}{tries}", same_url[0].url);
        } else {
            for attempt in same_url {
                lines += &format!("\n    {}: {}", attempt.url, attempt.failure);
            }
        }
    }
    lines
}

/// Where `file` already is in `dir`: for IDX content, under any of the spellings the reader
/// accepts; otherwise under its published name.
pub fn existing(dir: &Path, file: &PublishedFile) -> Option<PathBuf> {
    let names = match file.check {
        Check::IdxContent { .. } => spellings(file.name),
        Check::Published { .. } => vec![file.name.to_owned()],
    };
    names.into_iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

/// What a directory holds of a data set: the files found and verified, and the ones missing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inventory {
    pub verified: Vec<PathBuf>,
    pub missing: Vec<PublishedFile>,
}

/// Finds which of `dataset`'s files `dir` has, checking each one found against its pinned
/// content; a file that differs is an error, since replacing it could destroy someone's data.
pub fn inventory(dataset: KnownDataset, dir: &Path) -> Result<Inventory, DownloadError> {
    let mut inventory = Inventory::default();
    for file in dataset.files() {
        let Some(path) = existing(dir, file) else {
            inventory.missing.push(*file);
            continue;
        };
        let opened = File::open(&path).map_err(|e| Failure::Corrupt(format!("cannot be read ({e})")));
        match opened.and_then(|f| check(BufReader::new(f), file)) {
            Ok(_) => inventory.verified.push(path),
            Err(failure) => {
                return Err(DownloadError::ExistingDiffers {
                    dataset: dataset.title(),
                    file: file.name,
                    path,
                    reason: failure.to_string(),
                });
            }
        }
    }
    Ok(inventory)
}

/// Downloads each of `files` of `dataset` into `dir` (created if need be) from the mirrors of
/// `config`, and returns where each one was stored.
pub fn download(
    dataset: KnownDataset,
    files: &[PublishedFile],
    dir: &Path,
    config: &DownloadConfig,
    observer: &mut dyn DownloadObserver,
) -> Result<Vec<PathBuf>, DownloadError> {
    let store_error = |source| DownloadError::Store {
        dir: dir.to_owned(),
        source,
    };
    fs::create_dir_all(dir).map_err(store_error)?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_resolve(Some(config.timeout))
        .timeout_connect(Some(config.timeout))
        .timeout_per_read(Some(config.timeout))
        .http_status_as_error(false)
        .user_agent(concat!("mlp/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut stored = Vec::new();
    for file in files {
        stored.push(download_file(&agent, dataset, file, dir, config, observer)?);
    }
    Ok(stored)
}

fn download_file(
    agent: &ureq::Agent,
    dataset: KnownDataset,
    file: &PublishedFile,
    dir: &Path,
    config: &DownloadConfig,
    observer: &mut dyn DownloadObserver,
) -> Result<PathBuf, DownloadError> {
    let mut attempts = Vec::new();
    for mirror in &config.mirrors {
        let url = format!("{mirror}{}", file.published_name());
        for attempt in 1..=config.attempts.max(1) {
            match transfer(agent, &url, file, dir, config.timeout, observer) {
                Ok(Transfer::Stored(path)) => {
                    observer.file_done(file.name, &path);
                    return Ok(path);
                }
                Ok(Transfer::Failed(failure)) => {
                    let retry_in = (failure.is_transient() && attempt < config.attempts)
                        .then(|| config.backoff * 2u32.saturating_pow(attempt - 1));
                    observer.transfer_failed(&url, &failure, retry_in);
                    attempts.push(Attempt {
                        url: url.clone(),
                        failure,
                    });
                    match retry_in {
                        Some(wait) => thread::sleep(wait),
                        None => break,
                    }
                }
                Err(source) => {
                    return Err(DownloadError::Store {
                        dir: dir.to_owned(),
                        source,
                    });
                }
            }
        }
    }
    Err(DownloadError::AllMirrorsFailed {
        dataset: dataset.title(),
        file: file.published_name(),
        dir: dir.to_owned(),
        attempts,
    })
}

/// The outcome of one transfer that did not fail on our side.
enum Transfer {
    Stored(PathBuf),
    Failed(Failure),
}

/// One GET of `url` into a temporary file in `dir`, verified and renamed into place. An `Err` is a
/// local problem (the directory does not take files), which no mirror can fix.
fn transfer(
    agent: &ureq::Agent,
    url: &str,
    file: &PublishedFile,
    dir: &Path,
    timeout: Duration,
    observer: &mut dyn DownloadObserver,
) -> io::Result<Transfer> {
    let response = match agent.get(url).call() {
        Ok(response) => response,
        Err(error) => return Ok(Transfer::Failed(failure_of(error, timeout))),
    };
    if response.status() != 200 {
        return Ok(Transfer::Failed(Failure::Status(response.status().as_u16())));
    }
    let body = response.into_body();
    let announced = body.content_length();
    observer.transfer_started(file.name, url, announced);

    let mut temp = tempfile::Builder::new()
        .prefix(".mlp-download-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    let limit = match file.check {
        Check::IdxContent { .. } => MAX_IDX_DOWNLOAD_BYTES,
        Check::Published { len, .. } => len,
    };
    let mut reader = body.into_reader();
    let mut buffer = vec![0u8; 64 << 10];
    let mut received = 0u64;
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let failure = match failure_of(ureq::Error::from(e), timeout) {
                    Failure::Network(_) if announced.is_some_and(|a| received < a) => {
                        Failure::Truncated { received, announced }
                    }
                    other => other,
                };
                return Ok(Transfer::Failed(failure));
            }
        };
        received += n as u64;
        if received > limit {
            return Ok(Transfer::Failed(Failure::TooLarge(limit)));
        }
        temp.write_all(&buffer[..n])?;
        observer.received(n as u64);
    }
    if announced.is_some_and(|a| received < a) {
        return Ok(Transfer::Failed(Failure::Truncated { received, announced }));
    }
    temp.as_file().sync_all()?;

    let verified = match check(BufReader::new(temp.reopen()?), file) {
        Ok(verified) => verified,
        Err(failure) => return Ok(Transfer::Failed(failure)),
    };
    // IDX content a mirror served uncompressed keeps the IDX file's own name.
    let raw_idx = matches!(file.check, Check::IdxContent { .. }) && !verified.gzipped;
    let name = if raw_idx {
        file.name.to_owned()
    } else {
        file.published_name()
    };
    let path = dir.join(name);
    temp.persist(&path).map_err(|e| e.error)?;
    Ok(Transfer::Stored(path))
}

/// `verify` as a transfer's failure.
fn check(content: impl BufRead, file: &PublishedFile) -> Result<super::verify::Verified, Failure> {
    verify(content, file).map_err(|unverified| match unverified {
        Unverified::Unreadable(reason) => Failure::Corrupt(reason),
        Unverified::Differs(found) => Failure::Mismatch(found),
    })
}

/// Sorts a client error into the failures this module tells apart.
fn failure_of(error: ureq::Error, timeout: Duration) -> Failure {
    match error {
        ureq::Error::Timeout(_) => Failure::TimedOut(timeout),
        ureq::Error::HostNotFound => Failure::HostNotFound,
        ureq::Error::Io(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
            Failure::TimedOut(timeout)
        }
        ureq::Error::Io(e) => Failure::Network(e.to_string()),
        other => Failure::Network(other.to_string()),
    }
}
