//! How a step ended: the outcome words shared by the runner's records and `status`.

use std::fmt;

/// How a step ended, as recorded in its `done` file and termination message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The command exited 0.
    Succeeded,
    /// The command exited non-zero or was killed by a signal.
    Failed,
    /// A predecessor failed or was skipped, so the command never ran.
    Skipped,
    /// A predecessor died without recording an outcome (SIGKILL, OOM).
    PredecessorLost,
    /// The step was told to stop (SIGTERM and friends) before its command started.
    Terminated,
    /// The command could not be started (not found, not executable).
    StartFailed,
    /// The command ran past the step's `--timeout` and was stopped (SIGTERM, then SIGKILL).
    TimedOut,
}

impl Reason {
    /// The spelling used in records; stable, since users and tests read it.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Succeeded => "Succeeded",
            Reason::Failed => "Failed",
            Reason::Skipped => "Skipped",
            Reason::PredecessorLost => "PredecessorLost",
            Reason::Terminated => "Terminated",
            Reason::StartFailed => "StartFailed",
            Reason::TimedOut => "TimedOut",
        }
    }

    /// Inverse of [`Reason::as_str`].
    pub fn parse(s: &str) -> Option<Reason> {
        [
            Reason::Succeeded,
            Reason::Failed,
            Reason::Skipped,
            Reason::PredecessorLost,
            Reason::Terminated,
            Reason::StartFailed,
            Reason::TimedOut,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip() {
        for r in [
            "Succeeded",
            "Failed",
            "Skipped",
            "PredecessorLost",
            "Terminated",
            "StartFailed",
            "TimedOut",
        ] {
            assert_eq!(Reason::parse(r).unwrap().as_str(), r);
        }
    }
}
