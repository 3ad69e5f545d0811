//! The step runner (`kueueleuleu-step`): what makes the order of a sequential Pod real.
//!
//! Every rewritten container runs the runner, which takes the lock in its own run directory,
//! waits until the steps it depends on have recorded `done`, runs the original command and
//! records the outcome for its successors. The parts are small traits ([`Waiter`],
//! [`Executor`], [`Recorder`], [`Clock`], [`Pauser`]) so the orchestration in [`Step`] can be tested with
//! fakes, while the real implementations stay thin wrappers over Linux primitives
//! (flock, inotify, signalfd, eventfd). Linux only: the crate compiles it on Linux alone. See `docs/step-runner.md` for the behaviour in prose.

pub mod attempts;
pub mod cli;
pub mod clock;
pub mod debug;
pub mod error;
pub mod exec;
#[cfg(test)]
pub(crate) mod fakes;
pub mod guard;
pub mod inotify;
pub mod install;
mod json;
pub mod lock;
pub mod pause;
pub mod record;
pub mod recorder;
pub mod runner;
pub mod signals;
pub mod wait;
pub mod waiter;
pub mod watch;

pub use clock::{Clock, SystemClock};
pub use error::StepError;
pub use exec::{Executor, Exit, ProcessExecutor, Ran, StartError};
pub use pause::{HoldEnd, Pauser, RunDirPauser};
pub use record::Record;
pub use recorder::{FsRecorder, Recorder};
pub use runner::{Outcome, Step};
pub use signals::{SignalFd, SignalSource};
pub use wait::{WaitOutcome, Waiter};
pub use waiter::DirWaiter;

/// Prints a diagnostic on stderr with the runner's prefix. Stdout belongs to the command, so
/// the runner never writes there; it speaks only when something is abnormal.
pub(crate) fn diag(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let line = format!("kueueleuleu-step: {args}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Test-only helpers shared by the runner's modules.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::protocol::Reason;
    use crate::step::record::Record;
    use std::path::PathBuf;
    use std::time::UNIX_EPOCH;

    /// A one-attempt record of step `name` that ended `reason` (exit code 0 when it
    /// succeeded, else 1), at the epoch.
    pub fn record(name: &str, reason: Reason) -> Record {
        Record {
            name: name.into(),
            reason,
            exit_code: if reason == Reason::Succeeded { 0 } else { 1 },
            signal: None,
            started_at: UNIX_EPOCH,
            finished_at: UNIX_EPOCH,
            message: None,
            attempts: 1,
            continued: false,
            debug: None,
        }
    }

    /// An empty directory of its own for one test (`tag` must be unique per test): left-overs
    /// of an earlier, interrupted run are removed first so no test sees stale records.
    pub fn fresh_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("kueueleuleu-step-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
