//! The step's life in order: claim, wait, run (or not), record. Only policy lives here; every
//! effect goes through a trait so each branch is tested with fakes.

use super::clock::Clock;
use super::exec::Executor;
use super::pause::Pauser;
use super::record::Record;
use super::recorder::Recorder;
use super::signals::SignalSource;
use super::wait::{WaitOutcome, Waiter};
use crate::protocol::{Reason, StepArgs, exit_code};

/// One step with its collaborators.
pub struct Step<W, E, R, C, P> {
    /// What the converter told this step.
    pub args: StepArgs,
    /// Waits for the predecessors.
    pub waiter: W,
    /// Runs the command.
    pub executor: E,
    /// Claims the run dir and records the outcome.
    pub recorder: R,
    /// Timestamps the record.
    pub clock: C,
    /// Backs off between retries and holds a failed step for debugging.
    pub pauser: P,
}

/// How the step ended, before it is stamped into a [`Record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub reason: Reason,
    /// The command's code (or the runner's own); the container exits 0 instead when
    /// `continued`.
    pub code: i32,
    pub signal: Option<i32>,
    pub message: Option<String>,
    pub attempts: u32,
    pub continued: bool,
    pub debug: Option<&'static str>,
}

impl Verdict {
    /// An outcome the runner decided without (or before) running the command.
    pub(crate) fn decided(reason: Reason, code: i32, signal: Option<i32>, message: String) -> Self {
        Verdict {
            reason,
            code,
            signal,
            message: Some(message),
            attempts: 1,
            continued: false,
            debug: None,
        }
    }

    /// The container's exit code: a continued failure exits 0 so the Pod goes on.
    pub(crate) fn exit_code(&self) -> i32 {
        if self.continued { 0 } else { self.code }
    }
}

/// What the step ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The process exit code.
    pub exit_code: i32,
    /// The recorded outcome; `None` when the run dir could not even be claimed.
    pub record: Option<Record>,
}

impl<W: Waiter, E: Executor, R: Recorder, C: Clock, P: Pauser> Step<W, E, R, C, P> {
    /// Runs the step to its end. Never panics and never returns before the outcome is
    /// recorded (or recording failed and was reported).
    pub fn run(&mut self, signals: &mut dyn SignalSource) -> Outcome {
        if let Err(e) = self.recorder.claim() {
            // Nothing can be recorded for the successors; they end after their start grace.
            // The termination message still tells the user why.
            return self.refused(e.to_string(), exit_code::INTERNAL);
        }
        let waited = self
            .waiter
            .wait(&self.args.wait_for, self.args.on_failure, signals);
        let started_at = self.clock.now();
        let verdict = match waited {
            Ok(WaitOutcome::Ready) => self.run_command(signals),
            Ok(WaitOutcome::Interrupted { signal }) => Verdict::decided(
                Reason::Terminated,
                exit_code::SIGNAL_BASE + signal,
                Some(signal),
                format!("not run: stopped by signal {signal} while waiting"),
            ),
            Ok(WaitOutcome::Failed { dir, reason }) => Verdict::decided(
                Reason::Skipped,
                exit_code::NOT_RUN,
                None,
                format!("not run: predecessor {dir} ended {reason}"),
            ),
            Ok(other) => Verdict::decided(
                Reason::PredecessorLost,
                exit_code::NOT_RUN,
                None,
                format!("not run: {}", lost_message(&other)),
            ),
            Err(e) => Verdict::decided(
                Reason::PredecessorLost,
                exit_code::NOT_RUN,
                None,
                format!("not run: {e}"),
            ),
        };
        let exit_code = verdict.exit_code();
        let record = self.record(verdict, started_at);
        if let Err(e) = self.recorder.record_done(&record) {
            self.say(&e.to_string());
        }
        self.write_termination_message(&record);
        Outcome {
            exit_code,
            record: Some(record),
        }
    }

    /// Ends the step without waiting or running, because the runner cannot do its job (a
    /// command line it must refuse, signal handling that cannot be set up). The outcome is
    /// still recorded when the run directory can be claimed, so successors end at once
    /// instead of waiting.
    pub fn refuse(&mut self, why: String, code: i32) -> Outcome {
        if let Err(e) = self.recorder.claim() {
            self.say(&e.to_string());
            return self.refused(why, code);
        }
        let now = self.clock.now();
        let record = self.record(Verdict::decided(Reason::StartFailed, code, None, why), now);
        if let Err(e) = self.recorder.record_done(&record) {
            self.say(&e.to_string());
        }
        self.write_termination_message(&record);
        Outcome {
            exit_code: code,
            record: Some(record),
        }
    }

    /// The step could not claim its run directory: no record for successors, only the
    /// diagnostic and the termination message.
    fn refused(&mut self, why: String, code: i32) -> Outcome {
        let now = self.clock.now();
        let record = self.record(Verdict::decided(Reason::StartFailed, code, None, why), now);
        self.write_termination_message(&record);
        Outcome {
            exit_code: code,
            record: None,
        }
    }

    fn record(&self, v: Verdict, started_at: std::time::SystemTime) -> Record {
        if let Some(msg) = &v.message {
            self.say(msg);
        }
        Record {
            name: self.args.name.clone(),
            reason: v.reason,
            exit_code: v.code,
            signal: v.signal,
            started_at,
            finished_at: self.clock.now(),
            message: v.message,
            attempts: v.attempts,
            continued: v.continued,
            debug: v.debug.map(str::to_string),
        }
    }

    fn write_termination_message(&mut self, record: &Record) {
        // Cosmetic: an unwritable termination path must never fail a step.
        if let Err(e) = self.recorder.write_termination_message(record) {
            self.say(&e.to_string());
        }
    }

    pub(crate) fn say(&self, msg: &str) {
        super::diag(format_args!("{}: {msg}", self.args.name));
    }
}

/// Why a predecessor counts as lost, in words a user can act on.
fn lost_message(outcome: &WaitOutcome) -> String {
    match outcome {
        WaitOutcome::Lost { dir } => {
            format!("predecessor {dir} died without recording an outcome")
        }
        WaitOutcome::Missing { dir } => format!(
            "predecessor run directory {dir} does not exist: its volume is not mounted in this container"
        ),
        WaitOutcome::NeverStarted { dir, grace } => format!(
            "predecessor {dir} showed no sign of life within {}s (its container never started, or could not claim its run directory)",
            grace.as_secs_f64()
        ),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
#[path = "runner_tests.rs"]
mod tests;
