//! Exit statuses of the `mlp` binary, decided in one place from the error that ended a command.
//!
//! | status | meaning                                                        |
//! |--------|----------------------------------------------------------------|
//! | 0      | success                                                        |
//! | 1      | any other error                                                |
//! | 130    | interrupted by Ctrl-C (128 + SIGINT), after saving a checkpoint |

use std::path::PathBuf;

/// Any error not given a status of its own.
pub const FAILURE: u8 = 1;
/// The shell's convention for a process ended by SIGINT: 128 + 2.
pub const INTERRUPTED: u8 = 130;

/// Training stopped at the user's request (Ctrl-C) after writing a whole checkpoint.
#[derive(Debug, thiserror::Error)]
#[error("interrupted; checkpoint saved to {}; resume with: {resume_command}", checkpoint.display())]
pub struct Interrupted {
    pub checkpoint: PathBuf,
    pub resume_command: String,
}

/// The process exit status for the error that ended a command.
pub fn status_of(error: &anyhow::Error) -> u8 {
    if error.downcast_ref::<Interrupted>().is_some() {
        INTERRUPTED
    } else {
        FAILURE
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
}
