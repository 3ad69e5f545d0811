//! Pauses between attempts of a failed command: the back-off before a retry, and the hold of
//! a failed step kept up for debugging (`--debug on-failure`) until someone runs
//! `kueueleuleu-step debug continue|fail|retry` in its container, its time runs out, or the
//! kubelet stops it. Both are interruptible by the kubelet's stop signals, and neither spins:
//! the hold is woken by inotify on the step's own run directory (a slow re-check covers a
//! node without inotify instances).

use std::fs;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::error::StepError;
use super::inotify::Inotify;
use super::signals::{SignalSource, take_stop_signal};
use super::wait::{poll, pollfd};
use crate::protocol::run_files;

/// How a hold for debugging ended. The spelling of [`HoldEnd::as_str`] is what the record's
/// `debug` key and `kueueleuleu status` show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldEnd {
    /// `debug continue`: the failure is recorded and the successors run.
    Continue,
    /// `debug fail`: the failure stands, and the step's `--on-error` applies.
    Fail,
    /// `debug retry`: run the command once more (a fix was made in the container).
    Retry,
    /// Nobody decided within the debug timeout: the failure stands.
    TimedOut,
    /// The kubelet stopped the container while it was held.
    Stopped(i32),
}

impl HoldEnd {
    /// The word recorded under `debug`.
    pub fn as_str(self) -> &'static str {
        match self {
            HoldEnd::Continue => "continue",
            HoldEnd::Fail => "fail",
            HoldEnd::Retry => "retry",
            HoldEnd::TimedOut => "timeout",
            HoldEnd::Stopped(_) => "stopped",
        }
    }

    /// Reads a decision word, as `kueueleuleu-step debug` writes it.
    pub fn parse_decision(s: &str) -> Option<HoldEnd> {
        match s.trim() {
            "continue" => Some(HoldEnd::Continue),
            "fail" => Some(HoldEnd::Fail),
            "retry" => Some(HoldEnd::Retry),
            _ => None,
        }
    }
}

/// Waiting without a command running; a trait so the policy is tested without sleeping.
pub trait Pauser {
    /// Sleeps `d`, unless a stop signal comes first (returned).
    fn sleep(
        &mut self,
        d: Duration,
        signals: &mut dyn SignalSource,
    ) -> Result<Option<i32>, StepError>;
    /// Holds the failed step, showing `notice`, until a decision, the timeout or a stop.
    fn hold(&mut self, notice: &str, signals: &mut dyn SignalSource) -> Result<HoldEnd, StepError>;
}

/// How long a step is held for debugging when nobody decides, by default.
pub const DEFAULT_DEBUG_TIMEOUT: Duration = Duration::from_secs(3600);

/// The real pauser over the step's own run directory.
#[derive(Debug, Clone)]
pub struct RunDirPauser {
    /// The step's run directory, where the hold is announced and the decision arrives.
    pub run_dir: PathBuf,
    /// How long a hold lasts without a decision.
    pub debug_timeout: Duration,
    /// Safety re-check of the decision file (the only wake-up without inotify).
    pub recheck: Duration,
    /// How to get in and go on ([`super::debug::instructions`]), shown after the summary.
    pub instructions: String,
}

impl RunDirPauser {
    /// A pauser for `run_dir` with the default timeout.
    pub fn new(run_dir: impl Into<PathBuf>) -> RunDirPauser {
        RunDirPauser {
            run_dir: run_dir.into(),
            debug_timeout: DEFAULT_DEBUG_TIMEOUT,
            recheck: Duration::from_secs(1),
            instructions: String::new(),
        }
    }

    fn err(&self, source: io::Error) -> StepError {
        StepError::Hold {
            dir: self.run_dir.clone(),
            source,
        }
    }

    /// Takes the decision, if one was written: removes it so a later hold starts clean.
    fn take_decision(&self) -> io::Result<Option<HoldEnd>> {
        let path = self.run_dir.join(run_files::DEBUG_DECISION);
        match fs::read_to_string(&path) {
            Ok(text) => {
                fs::remove_file(&path)?;
                Ok(Some(
                    HoldEnd::parse_decision(&text).unwrap_or(HoldEnd::Fail),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn hold_inner(
        &mut self,
        notice: &str,
        signals: &mut dyn SignalSource,
    ) -> Result<HoldEnd, StepError> {
        // A decision left from an earlier hold (or an earlier run under OnFailure) is stale.
        match fs::remove_file(self.run_dir.join(run_files::DEBUG_DECISION)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(self.err(e)),
            _ => {}
        }
        let notice = format!("{notice}\n{}", self.instructions);
        let marker = self.run_dir.join(run_files::DEBUG);
        let tmp = self.run_dir.join(".debug.tmp");
        fs::write(&tmp, &notice)
            .and_then(|()| fs::rename(&tmp, &marker))
            .map_err(|e| self.err(e))?;
        super::diag(format_args!("{}", notice.trim_end()));
        let inotify = Inotify::watching([self.run_dir.as_path()]).ok();
        let deadline = Instant::now() + self.debug_timeout;
        loop {
            if let Some(signal) = take_stop_signal(signals).map_err(StepError::Wait)? {
                return Ok(HoldEnd::Stopped(signal));
            }
            if let Some(end) = self.take_decision().map_err(|e| self.err(e))? {
                return Ok(end);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(HoldEnd::TimedOut);
            }
            let mut fds = vec![pollfd(signals.fd())];
            if let Some(ino) = &inotify {
                fds.push(pollfd(ino.fd()));
            }
            poll(&mut fds, self.recheck.min(deadline - now)).map_err(StepError::Wait)?;
            if let Some(ino) = &inotify {
                ino.drain().map_err(StepError::Wait)?;
            }
        }
    }
}

impl Pauser for RunDirPauser {
    fn sleep(
        &mut self,
        d: Duration,
        signals: &mut dyn SignalSource,
    ) -> Result<Option<i32>, StepError> {
        let deadline = Instant::now() + d;
        loop {
            if let Some(signal) = take_stop_signal(signals).map_err(StepError::Wait)? {
                return Ok(Some(signal));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            poll(&mut [pollfd(signals.fd())], deadline - now).map_err(StepError::Wait)?;
        }
    }

    fn hold(&mut self, notice: &str, signals: &mut dyn SignalSource) -> Result<HoldEnd, StepError> {
        let end = self.hold_inner(notice, signals);
        // Whatever ended the hold, the step no longer waits for anyone.
        let _ = fs::remove_file(self.run_dir.join(run_files::DEBUG));
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::signals::PipeSignals;
    use crate::step::test_support::fresh_dir;

    fn pauser(tag: &str) -> RunDirPauser {
        RunDirPauser {
            // Only inotify can end these holds in time.
            recheck: Duration::from_secs(60),
            ..RunDirPauser::new(fresh_dir(tag))
        }
    }

    #[test]
    fn a_hold_ends_on_the_decision_and_cleans_up() {
        for (word, end) in [
            ("continue", HoldEnd::Continue),
            ("fail\n", HoldEnd::Fail),
            ("retry", HoldEnd::Retry),
        ] {
            let mut p = pauser("pause-decision");
            let dir = p.run_dir.clone();
            let writer = std::thread::spawn(move || {
                let marker = dir.join(run_files::DEBUG);
                while !marker.exists() {
                    std::thread::sleep(Duration::from_millis(5));
                }
                assert_eq!(fs::read_to_string(&marker).unwrap(), "how to go on\n");
                // As `kueueleuleu-step debug` does: the runner must never see half a word.
                let tmp = dir.join("decision.tmp");
                fs::write(&tmp, word).unwrap();
                fs::rename(&tmp, dir.join(run_files::DEBUG_DECISION)).unwrap();
            });
            let started = Instant::now();
            assert_eq!(
                p.hold("how to go on", &mut PipeSignals::new()).unwrap(),
                end
            );
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "not woken by inotify"
            );
            writer.join().unwrap();
            assert!(!p.run_dir.join(run_files::DEBUG).exists());
            assert!(!p.run_dir.join(run_files::DEBUG_DECISION).exists());
            fs::remove_dir_all(&p.run_dir).unwrap();
        }
    }

    #[test]
    fn a_hold_times_out_and_ignores_a_stale_decision() {
        let mut p = pauser("pause-timeout");
        fs::write(p.run_dir.join(run_files::DEBUG_DECISION), "continue").unwrap();
        p.debug_timeout = Duration::from_millis(100);
        let end = p.hold("n", &mut PipeSignals::new()).unwrap();
        assert_eq!(end, HoldEnd::TimedOut);
        fs::remove_dir_all(&p.run_dir).unwrap();
    }

    #[test]
    fn a_stop_signal_ends_a_hold_and_a_sleep() {
        let mut p = pauser("pause-stop");
        let mut sig = PipeSignals::new();
        let send = sig.sender();
        send(libc::SIGUSR1); // not a stop signal: ignored
        send(libc::SIGTERM);
        assert_eq!(
            p.hold("n", &mut sig).unwrap(),
            HoldEnd::Stopped(libc::SIGTERM)
        );
        send(libc::SIGINT);
        assert_eq!(
            p.sleep(Duration::from_secs(60), &mut sig).unwrap(),
            Some(libc::SIGINT)
        );
        let started = Instant::now();
        assert_eq!(p.sleep(Duration::from_millis(50), &mut sig).unwrap(), None);
        assert!(started.elapsed() >= Duration::from_millis(50));
        fs::remove_dir_all(&p.run_dir).unwrap();
    }
}
