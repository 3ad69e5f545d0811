//! The step runner's command line and filesystem layout: the one place of truth shared by the
//! converter (which writes these arguments into Pod specs) and `kueueleuleu-step` (which reads
//! them). Keeping both sides on this module is what stops the converter and runner drifting.
//!
//! A converted step container runs:
//!
//! ```text
//! command: [/kueueleuleu/bin/kueueleuleu-step]
//! args:    [run, --name, NAME, --run-dir, DIR, (--wait-for, DIR)..., [--on-failure],
//!           [--termination-path, PATH], --command-len, N, [--default-command], [--empty-args],
//!           --, ARGV...]
//! ```
//!
//! `ARGV` is the original `command` followed by the original `args`. `--command-len` and
//! `--default-command` and `--empty-args` exist only so that `kueueleuleu revert` can restore the split between
//! `command` and `args` exactly; the runner accepts and ignores them.

use std::fmt;

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
}

/// Mount path of step `index`'s run directory, in its own container and its successors'.
pub fn run_dir(index: usize) -> String {
    format!("{RUN_ROOT}/{index}")
}

/// Volume name of step `index`'s run directory.
pub fn run_volume(index: usize) -> String {
    format!("{RUN_VOLUME_PREFIX}{index}")
}

/// Everything the converter tells one step's runner. `to_args` and `parse` are inverses, so
/// a converted object can be read back (for revert and re-conversion) without loss.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StepArgs {
    /// The container name, used in diagnostics and records.
    pub name: String,
    /// This step's own run directory (read-write).
    pub run_dir: String,
    /// Run directories of the steps that must finish first (mounted read-only).
    pub wait_for: Vec<String>,
    /// `restartPolicy: OnFailure`: the kubelet restarts a failed predecessor in place, so a
    /// failure is not final and the step keeps waiting instead of being skipped.
    pub on_failure: bool,
    /// The container's `terminationMessagePath`, when it is not the kubelet default.
    pub termination_path: Option<String>,
    /// How many leading elements of `argv` were the container's `command`.
    pub command_len: usize,
    /// The command came from the function config's `commands` (the container had none).
    pub default_command: bool,
    /// The container wrote `args: []`, which revert must give back rather than drop.
    pub empty_args: bool,
    /// The original command followed by the original args.
    pub argv: Vec<String>,
}

/// Why a runner command line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the first argument must be `run`, found {0:?}")]
    NotRun(Option<String>),
    #[error("unknown flag {0:?}")]
    UnknownFlag(String),
    #[error("flag {0} needs a value")]
    MissingValue(&'static str),
    #[error("--command-len {0:?} is not a count")]
    BadCount(String),
    #[error("missing `--` before the command")]
    MissingSeparator,
    #[error("missing required flag {0}")]
    MissingFlag(&'static str),
    #[error("--command-len {len} exceeds the {argc} arguments after `--`")]
    CommandLenTooLong { len: usize, argc: usize },
    #[error("no command after `--`")]
    EmptyCommand,
    #[error("{flag} {value:?} must be an absolute path")]
    NotAbsolute { flag: &'static str, value: String },
    #[error("--wait-for {0:?} is this step's own run directory: it would wait for itself")]
    WaitsForItself(String),
}

impl StepArgs {
    /// The `args` list the converter writes (the container's `command` is [`RUNNER_PATH`]).
    pub fn to_args(&self) -> Vec<String> {
        let mut out = vec!["run".to_string(), "--name".into(), self.name.clone()];
        out.extend(["--run-dir".into(), self.run_dir.clone()]);
        for dir in &self.wait_for {
            out.extend(["--wait-for".into(), dir.clone()]);
        }
        if self.on_failure {
            out.push("--on-failure".into());
        }
        if let Some(path) = &self.termination_path {
            out.extend(["--termination-path".into(), path.clone()]);
        }
        out.extend(["--command-len".into(), self.command_len.to_string()]);
        if self.default_command {
            out.push("--default-command".into());
        }
        if self.empty_args {
            out.push("--empty-args".into());
        }
        out.push("--".into());
        out.extend(self.argv.iter().cloned());
        out
    }

    /// Reads what [`StepArgs::to_args`] wrote. Also the runner's own argument parser.
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<StepArgs, ParseError> {
        let mut it = args.iter().map(|s| s.as_ref());
        match it.next() {
            Some("run") => {}
            other => return Err(ParseError::NotRun(other.map(str::to_string))),
        }
        let mut step = StepArgs::default();
        let mut run_dir = None;
        let mut command_len = None;
        let mut separated = false;
        while let Some(arg) = it.next() {
            let mut value = |flag: &'static str| {
                it.next()
                    .map(str::to_string)
                    .ok_or(ParseError::MissingValue(flag))
            };
            match arg {
                "--" => {
                    separated = true;
                    break;
                }
                "--name" => step.name = value("--name")?,
                "--run-dir" => run_dir = Some(value("--run-dir")?),
                "--wait-for" => step.wait_for.push(value("--wait-for")?),
                "--on-failure" => step.on_failure = true,
                "--termination-path" => step.termination_path = Some(value("--termination-path")?),
                "--command-len" => {
                    let raw = value("--command-len")?;
                    command_len = Some(raw.parse().map_err(|_| ParseError::BadCount(raw))?);
                }
                "--default-command" => step.default_command = true,
                "--empty-args" => step.empty_args = true,
                other => return Err(ParseError::UnknownFlag(other.to_string())),
            }
        }
        if !separated {
            return Err(ParseError::MissingSeparator);
        }
        step.argv = it.map(str::to_string).collect();
        step.run_dir = run_dir.ok_or(ParseError::MissingFlag("--run-dir"))?;
        step.command_len = command_len.ok_or(ParseError::MissingFlag("--command-len"))?;
        if step.argv.is_empty() {
            return Err(ParseError::EmptyCommand);
        }
        if step.command_len > step.argv.len() {
            return Err(ParseError::CommandLenTooLong {
                len: step.command_len,
                argc: step.argv.len(),
            });
        }
        Ok(step)
    }
}

impl StepArgs {
    /// The runner's own checks, beyond what [`StepArgs::parse`] (shared with the converter,
    /// which must read back whatever it once wrote) enforces: directories are absolute, and a
    /// step never waits for its own run directory (it would wait for itself forever).
    pub fn validate(&self) -> Result<(), ParseError> {
        let absolute = |flag: &'static str, value: &str| {
            if value.starts_with('/') {
                Ok(())
            } else {
                Err(ParseError::NotAbsolute {
                    flag,
                    value: value.to_string(),
                })
            }
        };
        absolute("--run-dir", &self.run_dir)?;
        let own = normalize(&self.run_dir);
        for dir in &self.wait_for {
            absolute("--wait-for", dir)?;
            if normalize(dir) == own {
                return Err(ParseError::WaitsForItself(dir.clone()));
            }
        }
        if let Some(path) = &self.termination_path {
            absolute("--termination-path", path)?;
        }
        Ok(())
    }
}

/// A path without empty, `.` components or trailing slashes, so `/r/0/` and `/r/./0` compare
/// equal to `/r/0` (`..` is kept: resolving it would need the filesystem).
fn normalize(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

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

    fn sample() -> StepArgs {
        StepArgs {
            name: "build".into(),
            run_dir: run_dir(1),
            wait_for: vec![run_dir(0)],
            on_failure: true,
            termination_path: Some("/tmp/term".into()),
            command_len: 2,
            default_command: true,
            empty_args: true,
            argv: vec!["sh".into(), "-c".into(), "echo --".into(), "--".into()],
        }
    }

    #[test]
    fn parse_inverts_to_args() {
        let step = sample();
        assert_eq!(StepArgs::parse(&step.to_args()).unwrap(), step);
        let plain = StepArgs {
            name: "a".into(),
            run_dir: run_dir(0),
            command_len: 1,
            argv: vec!["true".into()],
            ..Default::default()
        };
        assert_eq!(StepArgs::parse(&plain.to_args()).unwrap(), plain);
    }

    #[test]
    fn parse_rejects_malformed_lines() {
        assert_eq!(
            StepArgs::parse(&["install"]),
            Err(ParseError::NotRun(Some("install".into())))
        );
        assert_eq!(
            StepArgs::parse(&["run", "--run-dir", "/r", "--command-len", "1"]),
            Err(ParseError::MissingSeparator)
        );
        assert_eq!(
            StepArgs::parse(&["run", "--run-dir", "/r", "--command-len", "3", "--", "a"]),
            Err(ParseError::CommandLenTooLong { len: 3, argc: 1 })
        );
        assert_eq!(
            StepArgs::parse(&["run", "--bogus"]),
            Err(ParseError::UnknownFlag("--bogus".into()))
        );
        assert_eq!(
            StepArgs::parse(&["run", "--run-dir"]),
            Err(ParseError::MissingValue("--run-dir"))
        );
    }

    #[test]
    fn validate_rejects_what_would_wedge_or_scatter_the_runner() {
        assert_eq!(sample().validate(), Ok(()));
        let bad = |f: &dyn Fn(&mut StepArgs)| {
            let mut s = sample();
            f(&mut s);
            s.validate().unwrap_err()
        };
        assert_eq!(
            bad(&|s| s.run_dir = String::new()),
            ParseError::NotAbsolute {
                flag: "--run-dir",
                value: String::new()
            }
        );
        assert!(matches!(
            bad(&|s| s.run_dir = "run/1".into()),
            ParseError::NotAbsolute { .. }
        ));
        assert!(matches!(
            bad(&|s| s.wait_for = vec![String::new()]),
            ParseError::NotAbsolute { .. }
        ));
        for own in [
            "/kueueleuleu/run/1",
            "/kueueleuleu/run/1/",
            "/kueueleuleu//run/./1",
        ] {
            assert_eq!(
                bad(&|s| s.wait_for.push(own.into())),
                ParseError::WaitsForItself(own.into())
            );
        }
        assert!(matches!(
            bad(&|s| s.termination_path = Some("term".into())),
            ParseError::NotAbsolute { .. }
        ));
    }

    #[test]
    fn reasons_round_trip() {
        for r in [
            "Succeeded",
            "Failed",
            "Skipped",
            "PredecessorLost",
            "Terminated",
            "StartFailed",
        ] {
            assert_eq!(Reason::parse(r).unwrap().as_str(), r);
        }
    }
}
