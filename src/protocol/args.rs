//! The runner's command line: what the converter writes into a step container's `args` and
//! what `kueueleuleu-step` reads back.

use super::{format_duration, parse_duration};
use std::time::Duration;

fn bad(flag: &'static str, value: String, expected: &'static str) -> ParseError {
    ParseError::BadValue {
        flag,
        value,
        expected,
    }
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
    /// The step's time limit: SIGTERM when it is reached, SIGKILL after the grace period.
    pub timeout: Option<Duration>,
    /// What a failure of this step means for the steps after it.
    pub on_error: OnError,
    /// How many times the runner re-runs a failed command in place before it gives up.
    pub retries: u32,
    /// On failure, keep the container up for `kubectl exec` until told to go on.
    pub debug_on_failure: bool,
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

/// The runner protocol this build writes and understands. Bumped only when a command line
/// written by this converter would be misread by an older runner.
pub const PROTOCOL_VERSION: u32 = 1;

/// What a failed step does to its successors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Successors are skipped and the Pod fails (the default).
    #[default]
    Stop,
    /// The failure is recorded, the container exits 0, and successors run.
    Continue,
}

/// Why a runner command line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the first argument must be `run`, found {0:?}")]
    NotRun(Option<String>),
    #[error(
        "unknown flag {0:?}: this Pod was converted by a newer kueueleuleu than the runner in \
         its init image; use the image released with the converter (config key `image`)"
    )]
    UnknownFlag(String),
    #[error(
        "runner protocol {found} is newer than this runner's ({PROTOCOL_VERSION}); use the \
         image released with the converter (config key `image`)"
    )]
    ProtocolSkew { found: u32 },
    #[error("{flag} {value:?} is not valid: {expected}")]
    BadValue {
        flag: &'static str,
        value: String,
        expected: &'static str,
    },
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
        let mut out = vec!["run".to_string(), "--protocol".into()];
        out.push(PROTOCOL_VERSION.to_string());
        out.extend(["--name".into(), self.name.clone()]);
        out.extend(["--run-dir".into(), self.run_dir.clone()]);
        for dir in &self.wait_for {
            out.extend(["--wait-for".into(), dir.clone()]);
        }
        if self.on_failure {
            out.push("--on-failure".into());
        }
        if let Some(limit) = self.timeout {
            out.extend(["--timeout".into(), format_duration(limit)]);
        }
        if self.on_error == OnError::Continue {
            out.extend(["--on-error".into(), "continue".into()]);
        }
        if self.retries > 0 {
            out.extend(["--retries".into(), self.retries.to_string()]);
        }
        if self.debug_on_failure {
            out.extend(["--debug".into(), "on-failure".into()]);
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
                "--protocol" => {
                    let raw = value("--protocol")?;
                    match raw.parse::<u32>() {
                        Ok(v) if v <= PROTOCOL_VERSION => {}
                        Ok(found) => return Err(ParseError::ProtocolSkew { found }),
                        Err(_) => return Err(bad("--protocol", raw, "a version number")),
                    }
                }
                "--on-failure" => step.on_failure = true,
                "--timeout" => {
                    let raw = value("--timeout")?;
                    step.timeout =
                        Some(parse_duration(&raw).ok_or_else(|| {
                            bad("--timeout", raw, "a duration like 90s or 1h30m")
                        })?);
                }
                "--on-error" => {
                    step.on_error = match value("--on-error")?.as_str() {
                        "continue" => OnError::Continue,
                        "stop" => OnError::Stop,
                        other => return Err(bad("--on-error", other.into(), "stop or continue")),
                    }
                }
                "--retries" => {
                    let raw = value("--retries")?;
                    step.retries = raw.parse().map_err(|_| bad("--retries", raw, "a count"))?;
                }
                "--debug" => match value("--debug")?.as_str() {
                    "on-failure" => step.debug_on_failure = true,
                    "never" => step.debug_on_failure = false,
                    other => return Err(bad("--debug", other.into(), "never or on-failure")),
                },
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::run_dir;

    fn sample() -> StepArgs {
        StepArgs {
            name: "build".into(),
            run_dir: run_dir(1),
            wait_for: vec![run_dir(0)],
            on_failure: true,
            timeout: Some(Duration::from_secs(5400)),
            on_error: OnError::Continue,
            retries: 3,
            debug_on_failure: true,
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
    fn a_newer_protocol_is_refused_by_name() {
        let mut line = sample().to_args();
        assert_eq!(&line[..3], ["run", "--protocol", "1"]);
        line[2] = (PROTOCOL_VERSION + 1).to_string();
        let err = StepArgs::parse(&line).unwrap_err();
        assert_eq!(
            err,
            ParseError::ProtocolSkew {
                found: PROTOCOL_VERSION + 1
            }
        );
        assert!(err.to_string().contains("config key `image`"), "{err}");
        // Lines written before the flag existed are protocol 1.
        let old = [
            "run",
            "--run-dir",
            "/r/0",
            "--command-len",
            "1",
            "--",
            "true",
        ];
        assert_eq!(StepArgs::parse(&old).unwrap().argv, ["true"]);
    }

    #[test]
    fn bad_step_settings_name_the_flag() {
        let with = |flag: &str, value: &str| {
            let mut line = vec!["run", "--run-dir", "/r/0", "--command-len", "1"];
            line.extend([flag, value, "--", "true"]);
            StepArgs::parse(&line).unwrap_err().to_string()
        };
        assert!(with("--timeout", "soon").contains("--timeout \"soon\""));
        assert!(with("--on-error", "ignore").contains("stop or continue"));
        assert!(with("--retries", "-1").contains("a count"));
        assert!(with("--debug", "always").contains("never or on-failure"));
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
}
