//! The command's part of a step's life, once its predecessors allow it to run: one attempt
//! under the step's `--timeout`, in-place retries with back-off (`--retries`), the hold for
//! debugging (`--debug on-failure`), and `--on-error continue`. Policy only; the effects go
//! through [`Executor`] and [`Pauser`] so every branch is tested with fakes.

use std::time::Duration;

use super::clock::Clock;
use super::exec::{Executor, Exit};
use super::pause::{HoldEnd, Pauser};
use super::recorder::Recorder;
use super::runner::{Step, Verdict};
use super::signals::SignalSource;
use super::wait::Waiter;
use crate::protocol::{OnError, Reason, exit_code, format_duration};

/// The back-off before the first retry; it doubles for each later one.
pub const RETRY_BACKOFF: Duration = Duration::from_secs(1);
/// The longest back-off between two attempts.
pub const RETRY_BACKOFF_MAX: Duration = Duration::from_secs(60);

/// The pause before retry `n` (1 for the first): 1 s, 2 s, 4 s, ... at most 60 s.
pub fn backoff(n: u32) -> Duration {
    let doubled = RETRY_BACKOFF.saturating_mul(1u32 << n.saturating_sub(1).min(16));
    doubled.min(RETRY_BACKOFF_MAX)
}

impl<W: Waiter, E: Executor, R: Recorder, C: Clock, P: Pauser> Step<W, E, R, C, P> {
    /// Runs the command until it succeeds or the step's settings say it is over.
    pub(crate) fn run_command(&mut self, signals: &mut dyn SignalSource) -> Verdict {
        let total = self.args.retries.saturating_add(1);
        let mut retries_left = self.args.retries;
        let mut attempts = 0u32;
        let mut last_hold = None;
        loop {
            attempts = attempts.saturating_add(1);
            let (mut v, stopped) = self.attempt(signals);
            v.attempts = attempts;
            v.debug = last_hold;
            // Success, or the kubelet stopping the container: nothing more to try.
            if v.reason == Reason::Succeeded || stopped.is_some() {
                return v;
            }
            // A command that cannot start will not start on the next try either.
            let retryable = matches!(v.reason, Reason::Failed | Reason::TimedOut);
            if retryable && retries_left > 0 {
                retries_left -= 1;
                let delay = backoff(attempts);
                self.say(&format!(
                    "attempt {attempts} of {total} ended {} (exit code {}); retrying in {}",
                    v.reason,
                    v.code,
                    format_duration(delay)
                ));
                match self.pauser.sleep(delay, signals) {
                    Ok(None) => continue,
                    Ok(Some(sig)) => {
                        add(&mut v, format!("not retried: stopped by signal {sig}"));
                        return v;
                    }
                    Err(e) => {
                        self.say(&e.to_string());
                        return v;
                    }
                }
            }
            if self.args.debug_on_failure {
                let summary = format!(
                    "{}: the command ended {} (exit code {}) after {attempts} attempt{}; {}",
                    self.args.name,
                    v.reason,
                    v.code,
                    if attempts == 1 { "" } else { "s" },
                    crate::protocol::HELD_NOTICE
                );
                let held = self.pauser.hold(&summary, signals);
                if let Ok(end) = &held {
                    // Ends the notice in the log: `status` reads it to tell a hold is over.
                    self.say(&format!("hold ended: {}", end.as_str()));
                }
                match held {
                    Ok(HoldEnd::Retry) => {
                        last_hold = Some(HoldEnd::Retry.as_str());
                        continue;
                    }
                    Ok(end) => {
                        v.debug = Some(end.as_str());
                        add(&mut v, held_message(end));
                        if end == HoldEnd::Continue {
                            v.continued = true;
                            return v;
                        }
                        if matches!(end, HoldEnd::Stopped(_)) {
                            return v;
                        }
                    }
                    Err(e) => self.say(&e.to_string()),
                }
            }
            if self.args.on_error == OnError::Continue {
                v.continued = true;
                add(&mut v, "continued: onError is continue".into());
            }
            return v;
        }
    }

    /// One run of the command, and the stop signal that came from outside meanwhile.
    fn attempt(&mut self, signals: &mut dyn SignalSource) -> (Verdict, Option<i32>) {
        let limit = self.args.timeout;
        let ran = match self.executor.execute(&self.args.argv, limit, signals) {
            Ok(ran) => ran,
            Err(e) => {
                let v = Verdict::decided(Reason::StartFailed, e.exit_code(), None, e.to_string());
                return (v, None);
            }
        };
        let signal = match ran.exit {
            Exit::Signal(s) => Some(s),
            Exit::Code(_) => None,
        };
        let v = if ran.timed_out {
            let how = match signal {
                Some(s) if s == libc::SIGKILL => "SIGTERM, then SIGKILL after the grace period",
                Some(s) if s == libc::SIGTERM => "ended by SIGTERM",
                _ => "ended after SIGTERM",
            };
            let limit = limit.map(format_duration).unwrap_or_default();
            Verdict {
                message: Some(format!("ran past its timeout of {limit}: {how}")),
                ..Verdict::decided(
                    Reason::TimedOut,
                    exit_code::TIMED_OUT,
                    signal,
                    String::new(),
                )
            }
        } else {
            let reason = match ran.exit {
                Exit::Code(0) => Reason::Succeeded,
                _ => Reason::Failed,
            };
            Verdict {
                message: None,
                ..Verdict::decided(reason, ran.exit.code(), signal, String::new())
            }
        };
        (v, ran.stopped)
    }
}

/// Appends a clause to the verdict's message.
fn add(v: &mut Verdict, clause: String) {
    v.message = Some(match v.message.take() {
        Some(m) => format!("{m}; {clause}"),
        None => clause,
    });
}

fn held_message(end: HoldEnd) -> String {
    match end {
        HoldEnd::Continue => "held for debugging, then continued (debug continue)".into(),
        HoldEnd::Fail => "held for debugging, then failed (debug fail)".into(),
        HoldEnd::TimedOut => "held for debugging until the debug timeout".into(),
        HoldEnd::Stopped(sig) => format!("held for debugging until stopped by signal {sig}"),
        HoldEnd::Retry => "held for debugging, then retried".into(),
    }
}

#[cfg(test)]
#[path = "attempts_tests.rs"]
mod tests;
