//! Fakes of the runner's collaborators, shared by the policy tests.

use super::clock::Clock;
use super::error::StepError;
use super::exec::{Executor, Ran, StartError};
use super::pause::{HoldEnd, Pauser};
use super::record::Record;
use super::recorder::Recorder;
use super::signals::SignalSource;
use super::wait::{WaitOutcome, Waiter};
use std::cell::Cell;
use std::collections::VecDeque;
use std::io;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) struct FakeWaiter(pub Option<WaitOutcome>);
impl Waiter for FakeWaiter {
    fn wait(
        &mut self,
        _: &[String],
        _: bool,
        _: &mut dyn SignalSource,
    ) -> Result<WaitOutcome, StepError> {
        self.0
            .take()
            .ok_or_else(|| StepError::Wait(io::Error::other("no outcome")))
    }
}

/// Hands out the queued results, one per run, and remembers each run's argv and limit.
#[derive(Default)]
pub(crate) struct FakeExec {
    pub results: VecDeque<Result<Ran, StartError>>,
    pub ran: Vec<Vec<String>>,
    pub limits: Vec<Option<Duration>>,
}
impl FakeExec {
    pub fn with(results: impl IntoIterator<Item = Result<Ran, StartError>>) -> FakeExec {
        FakeExec {
            results: results.into_iter().collect(),
            ..Default::default()
        }
    }
}
impl Executor for FakeExec {
    fn execute(
        &mut self,
        argv: &[String],
        limit: Option<Duration>,
        _: &mut dyn SignalSource,
    ) -> Result<Ran, StartError> {
        self.ran.push(argv.to_vec());
        self.limits.push(limit);
        self.results
            .pop_front()
            .expect("executed more often than expected")
    }
}

#[derive(Default)]
pub(crate) struct FakeRecorder {
    pub fail_claim: bool,
    pub fail_termination: bool,
    pub claimed: bool,
    pub done: Vec<Record>,
    pub messages: Vec<Record>,
}
impl Recorder for FakeRecorder {
    fn claim(&mut self) -> Result<(), StepError> {
        if self.fail_claim {
            return Err(StepError::Claim {
                dir: PathBuf::from("/r"),
                source: io::Error::other("ro"),
            });
        }
        self.claimed = true;
        Ok(())
    }
    fn record_done(&mut self, r: &Record) -> Result<(), StepError> {
        assert!(self.claimed, "recorded before claiming");
        self.done.push(r.clone());
        Ok(())
    }
    fn write_termination_message(&mut self, r: &Record) -> Result<(), StepError> {
        if self.fail_termination {
            return Err(StepError::Termination {
                path: PathBuf::from("/dev/termination-log"),
                source: io::Error::from_raw_os_error(libc::EROFS),
            });
        }
        self.messages.push(r.clone());
        Ok(())
    }
}

/// Each call is one second later, so start and finish are distinguishable.
pub(crate) struct TickClock(pub Rc<Cell<u64>>);
impl Clock for TickClock {
    fn now(&self) -> SystemTime {
        self.0.set(self.0.get() + 1);
        UNIX_EPOCH + Duration::from_secs(self.0.get())
    }
}

/// Records the pauses asked for; sleeps end as `stop_sleep` says, holds as `holds` say.
#[derive(Default)]
pub(crate) struct FakePauser {
    pub slept: Vec<Duration>,
    pub stop_sleep: Option<i32>,
    pub holds: VecDeque<HoldEnd>,
    pub notices: Vec<String>,
}
impl Pauser for FakePauser {
    fn sleep(&mut self, d: Duration, _: &mut dyn SignalSource) -> Result<Option<i32>, StepError> {
        self.slept.push(d);
        Ok(self.stop_sleep)
    }
    fn hold(&mut self, notice: &str, _: &mut dyn SignalSource) -> Result<HoldEnd, StepError> {
        self.notices.push(notice.to_string());
        Ok(self
            .holds
            .pop_front()
            .expect("held more often than expected"))
    }
}
