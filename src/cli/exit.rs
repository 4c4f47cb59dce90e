//! Exit statuses of the `mlp` binary, decided in one place from the error that ended a command.
//!
//! | status | meaning                                                                              |
//! |--------|--------------------------------------------------------------------------------------|
//! | 0      | success                                                                              |
//! | 1      | any other error (a file could not be written mid-run, a gradient check failed, ...)  |
//! | 2      | usage: a flag is unknown, missing or has a bad value, flags contradict each other, or an output path cannot be written (clap's own errors exit 2 too) |
//! | 3      | data: a data set or model file is missing, unreadable, malformed or does not fit, or could not be downloaded |
//! | 4      | diverged: training produced NaN or infinity                                          |
//! | 130    | interrupted by Ctrl-C (128 + SIGINT), after saving a checkpoint                      |
//!
//! The library returns typed errors (`DataError`, `IdxError`, `DownloadError`, `ModelFileError`,
//! `Diverged`) inside
//! `anyhow::Error`; the command line adds `UsageError` for the checks clap cannot do, and
//! `Interrupted`. `status_of` looks through the error's whole chain of causes, so context added on
//! the way up does not change the status.

use std::error::Error;
use std::path::PathBuf;

use crate::data::dataset::DataError;
use crate::data::download::DownloadError;
use crate::data::idx::IdxError;
use crate::data::preprocess::PictureError;
use crate::data::table::TableError;
use crate::model_file::ModelFileError;
use crate::predict::InputError;
use crate::train::Diverged;

/// Any error not given a status of its own.
pub const FAILURE: u8 = 1;
/// A bad command line; the status clap uses for its own parse errors.
pub const USAGE: u8 = 2;
/// Input that cannot be used: a data set or model file.
pub const DATA: u8 = 3;
/// Training produced NaN or infinity.
pub const DIVERGED: u8 = 4;
/// The shell's convention for a process ended by SIGINT: 128 + 2.
pub const INTERRUPTED: u8 = 130;

/// Training stopped at the user's request (Ctrl-C) after writing a whole checkpoint.
#[derive(Debug, thiserror::Error)]
#[error("interrupted; checkpoint saved to {}; resume with: {resume_command}", checkpoint.display())]
pub struct Interrupted {
    pub checkpoint: PathBuf,
    pub resume_command: String,
}

/// A flag value or combination of flags that the command line rejects after parsing.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Returns early with a `UsageError`, formatted like `format!`.
macro_rules! usage_bail {
    ($($arg:tt)*) => {
        return Err($crate::cli::exit::UsageError(format!($($arg)*)).into())
    };
}
pub(crate) use usage_bail;

/// The error's chain of causes joined by ": ", leaving out a cause whose text an earlier message
/// already quotes (many errors name their source in their own message).
pub fn message_of(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// The process exit status for the error that ended a command: the first cause in its chain that
/// has a status of its own decides.
pub fn status_of(error: &anyhow::Error) -> u8 {
    error.chain().find_map(status_of_cause).unwrap_or(FAILURE)
}

fn status_of_cause(cause: &(dyn Error + 'static)) -> Option<u8> {
    if cause.is::<Interrupted>() {
        Some(INTERRUPTED)
    } else if cause.is::<Diverged>() {
        Some(DIVERGED)
    } else if cause.is::<UsageError>() {
        Some(USAGE)
    } else if cause.is::<DataError>()
        || cause.is::<IdxError>()
        || cause.is::<DownloadError>()
        || cause.is::<TableError>()
        || cause.is::<InputError>()
        || cause.is::<PictureError>()
    {
        Some(DATA)
    } else if let Some(error) = cause.downcast_ref::<ModelFileError>() {
        match error {
            ModelFileError::Read { .. } | ModelFileError::Format { .. } => Some(DATA),
            ModelFileError::Write { .. } => None,
        }
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interruption_anywhere_in_the_chain_exits_130() {
        let interrupted = anyhow::Error::new(Interrupted {
            checkpoint: PathBuf::from("model.bin"),
            resume_command: "mlp train --resume model.bin".to_owned(),
        });
        assert_eq!(status_of(&interrupted), INTERRUPTED);
        assert_eq!(status_of(&interrupted.context("training")), INTERRUPTED);
        assert_eq!(status_of(&anyhow::anyhow!("no such file")), FAILURE);
    }

    #[test]
    fn messages_quote_each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let error = anyhow::Error::new(ModelFileError::Read {
            path: PathBuf::from("m.bin"),
            source: io,
        })
        .context("loading the model");
        assert_eq!(
            message_of(&error),
            "loading the model: cannot read model file m.bin: no such file"
        );
    }

    #[test]
    fn statuses_are_distinct_and_context_keeps_them() {
        let mut codes = vec![0, FAILURE, USAGE, DATA, DIVERGED, INTERRUPTED];
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 6);
        let usage = anyhow::Error::new(UsageError("--lr must be positive".to_owned())).context("outer");
        assert_eq!(status_of(&usage), USAGE);
        let data = anyhow::Error::new(DataError::Incompatible("sizes differ".to_owned())).context("loading");
        assert_eq!(status_of(&data), DATA);
    }
}
