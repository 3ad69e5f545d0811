//! The step runner's command line and filesystem layout: the one place of truth shared by the
//! converter (which writes these arguments into Pod specs) and `kueueleuleu-step` (which reads
//! them). Keeping both sides on this module is what stops the converter and runner drifting.
//!
//! A converted step container runs:
//!
//! ```text
//! command: [/kueueleuleu/bin/kueueleuleu-step]
//! args:    [run, --protocol, 1, --name, NAME, --run-dir, DIR, (--wait-for, DIR)...,
//!           [--on-failure], [--timeout, DURATION], [--on-error, continue], [--retries, N],
//!           [--debug, on-failure], [--termination-path, PATH], --command-len, N,
//!           [--default-command], [--empty-args], --, ARGV...]
//! ```
//!
//! `ARGV` is the original `command` followed by the original `args`. `--command-len`,
//! `--default-command` and `--empty-args` exist only so that `kueueleuleu revert` can restore
//! the split between `command` and `args` exactly; the runner accepts and ignores them.
//! `--protocol` lets a runner refuse, with a clear message, a command line written by a
//! converter newer than itself (the init image and the converter are released together).

mod args;
mod duration;
mod reason;

pub use args::{OnError, PROTOCOL_VERSION, ParseError, StepArgs};
pub use duration::{format_duration, parse_duration};
pub use reason::Reason;

/// Ends the first line of the notice a step held for debugging prints (its last log lines):
/// `kueueleuleu status` looks for it to tell a hold from a running command.
pub const HELD_NOTICE: &str = "held for debugging, nothing after this step runs until you decide:";

/// Where the init container installs the runner: an emptyDir shared by every step.
pub const BIN_DIR: &str = "/kueueleuleu/bin";
/// The runner as the step containers see it.
pub const RUNNER_PATH: &str = "/kueueleuleu/bin/kueueleuleu-step";
/// The runner inside the release image, which the init container copies from.
pub const IMAGE_RUNNER_PATH: &str = "/usr/local/bin/kueueleuleu-step";
/// Parent of every step's run directory.
pub const RUN_ROOT: &str = "/kueueleuleu/run";
/// Name of the init container that installs the runner.
pub const INIT_CONTAINER: &str = "kueueleuleu-init";
/// Name of the emptyDir volume holding the runner binary.
pub const BIN_VOLUME: &str = "kueueleuleu-bin";
/// Prefix of the per-step run directory volumes (`kueueleuleu-run-0`, ...).
pub const RUN_VOLUME_PREFIX: &str = "kueueleuleu-run-";
/// The kubelet's default `terminationMessagePath`.
pub const DEFAULT_TERMINATION_PATH: &str = "/dev/termination-log";

/// Exit codes of `kueueleuleu-step` when it has no command exit code to pass on. A command's
/// own code (or 128+signal) always wins; these only cover the cases where the runner decided.
pub mod exit_code {
    /// The step never ran its command: a predecessor failed, was skipped or was lost.
    pub const NOT_RUN: i32 = 1;
    /// The runner's own command line was malformed (a converter/runner mismatch).
    pub const USAGE: i32 = 2;
    /// The command ran past its `--timeout` (as coreutils `timeout` reports it): whether it
    /// then ended of the SIGTERM, the SIGKILL or on its own, the record's `signal` says.
    pub const TIMED_OUT: i32 = 124;
    /// The runner itself could not work (its run dir is unusable), so nothing was recorded.
    pub const INTERNAL: i32 = 125;
    /// The command exists but could not be executed (permission, bad format).
    pub const NOT_EXECUTABLE: i32 = 126;
    /// The command was not found (PATH lookup failed), as a shell or runtime reports it.
    pub const NOT_FOUND: i32 = 127;
    /// Added to a signal number when the command (or the waiting runner) died of it.
    pub const SIGNAL_BASE: i32 = 128;
}

/// Files inside a run directory. Successors only ever read them.
pub mod run_files {
    /// Held with `flock` by the step for its whole life; the kernel drops it when it dies.
    pub const LOCK: &str = "lock";
    /// Created once the step has taken its lock: "this step has been alive".
    pub const STARTED: &str = "started";
    /// The outcome record, written atomically (temp file + rename) when the step ends.
    pub const DONE: &str = "done";
    /// Present while a failed step is held for debugging (`--debug on-failure`); holds the
    /// instructions the log shows. `kueueleuleu-step debug` looks for it.
    pub const DEBUG: &str = "debug";
    /// Written by `kueueleuleu-step debug continue|fail|retry` (temp file + rename) to end
    /// the hold; read and removed by the held step.
    pub const DEBUG_DECISION: &str = "debug-decision";
}

/// Mount path of step `index`'s run directory, in its own container and its successors'.
pub fn run_dir(index: usize) -> String {
    format!("{RUN_ROOT}/{index}")
}

/// Volume name of step `index`'s run directory.
pub fn run_volume(index: usize) -> String {
    format!("{RUN_VOLUME_PREFIX}{index}")
}
