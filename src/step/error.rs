//! The runner's error type: every failure that is the runner's own (not the command's) is
//! typed here so callers can decide whether it is fatal (no lock) or cosmetic (no
//! termination message).

use std::io;
use std::path::PathBuf;

/// A failure of the runner itself. The command's own failures are outcomes, not errors.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The run directory could not be locked or prepared; the step cannot take part.
    #[error("cannot claim run directory {dir}: {source}")]
    Claim { dir: PathBuf, source: io::Error },
    /// A predecessor's run directory could not be read or watched.
    #[error("cannot follow predecessor {dir}: {source}")]
    Follow { dir: PathBuf, source: io::Error },
    /// Waiting for signals or events failed.
    #[error("cannot wait: {0}")]
    Wait(io::Error),
    /// The outcome could not be recorded in the run directory.
    #[error("cannot record the outcome in {dir}: {source}")]
    Record { dir: PathBuf, source: io::Error },
    /// A failed step could not be held for debugging (its run dir refused the marker).
    #[error("cannot hold for debugging in {dir}: {source}")]
    Hold { dir: PathBuf, source: io::Error },
    /// The termination message could not be written; never fatal.
    #[error("cannot write the termination message {path}: {source}")]
    Termination { path: PathBuf, source: io::Error },
    /// Signal handling could not be set up.
    #[error("cannot set up signal handling: {0}")]
    Signals(io::Error),
    /// `install` could not copy the runner.
    #[error("cannot install the runner to {dest}: {source}")]
    Install { dest: PathBuf, source: io::Error },
}
