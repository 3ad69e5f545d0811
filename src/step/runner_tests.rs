use super::*;
use crate::step::exec::{Exit, Ran, StartError};
use crate::step::fakes::*;
use crate::step::signals::PipeSignals;
use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

pub(crate) type FakeStep = Step<FakeWaiter, FakeExec, FakeRecorder, TickClock, FakePauser>;

fn step(
    wait: WaitOutcome,
    exec: Option<Result<Exit, StartError>>,
    recorder: FakeRecorder,
) -> FakeStep {
    Step {
        args: StepArgs {
            name: "s1".into(),
            run_dir: "/kueueleuleu/run/1".into(),
            wait_for: vec!["/kueueleuleu/run/0".into()],
            command_len: 1,
            argv: vec!["echo".into(), "hi".into()],
            ..Default::default()
        },
        waiter: FakeWaiter(Some(wait)),
        executor: FakeExec::with(exec.map(|r| r.map(Ran::plain))),
        recorder,
        clock: TickClock(Rc::new(Cell::new(0))),
        pauser: FakePauser::default(),
    }
}

#[test]
fn success_runs_the_command_and_records_it() {
    let mut s = step(
        WaitOutcome::Ready,
        Some(Ok(Exit::Code(0))),
        FakeRecorder::default(),
    );
    let out = s.run(&mut PipeSignals::new());
    assert_eq!(out.exit_code, 0);
    assert_eq!(
        s.executor.ran,
        vec![vec!["echo".to_string(), "hi".to_string()]]
    );
    let r = &s.recorder.done[0];
    assert_eq!(
        (r.reason, r.exit_code, r.signal),
        (Reason::Succeeded, 0, None)
    );
    assert_eq!(r.started_at, UNIX_EPOCH + Duration::from_secs(1));
    assert_eq!(r.finished_at, UNIX_EPOCH + Duration::from_secs(2));
    assert_eq!(s.recorder.messages, s.recorder.done);
}

#[test]
fn failures_and_signals_keep_the_commands_code() {
    let mut s = step(
        WaitOutcome::Ready,
        Some(Ok(Exit::Code(3))),
        FakeRecorder::default(),
    );
    assert_eq!(s.run(&mut PipeSignals::new()).exit_code, 3);
    assert_eq!(s.recorder.done[0].reason, Reason::Failed);
    let mut s = step(
        WaitOutcome::Ready,
        Some(Ok(Exit::Signal(9))),
        FakeRecorder::default(),
    );
    assert_eq!(s.run(&mut PipeSignals::new()).exit_code, 137);
    assert_eq!(s.recorder.done[0].signal, Some(9));
}

#[test]
fn a_failed_predecessor_skips_without_running() {
    let failed = WaitOutcome::Failed {
        dir: "/kueueleuleu/run/0".into(),
        reason: "Failed".into(),
    };
    let mut s = step(failed, None, FakeRecorder::default());
    let out = s.run(&mut PipeSignals::new());
    assert_eq!(out.exit_code, exit_code::NOT_RUN);
    assert!(s.executor.ran.is_empty());
    let r = &s.recorder.done[0];
    assert_eq!(r.reason, Reason::Skipped);
    assert!(r.message.as_deref().unwrap().contains("/kueueleuleu/run/0"));
}

#[test]
fn lost_and_interrupted_are_recorded_with_their_reason() {
    let mut s = step(
        WaitOutcome::Lost { dir: "/r/0".into() },
        None,
        FakeRecorder::default(),
    );
    assert_eq!(s.run(&mut PipeSignals::new()).exit_code, exit_code::NOT_RUN);
    assert_eq!(s.recorder.done[0].reason, Reason::PredecessorLost);
    let mut s = step(
        WaitOutcome::Interrupted { signal: 15 },
        None,
        FakeRecorder::default(),
    );
    assert_eq!(s.run(&mut PipeSignals::new()).exit_code, 143);
    assert_eq!(s.recorder.done[0].reason, Reason::Terminated);
    assert!(s.executor.ran.is_empty());
}

#[test]
fn start_failure_is_127_and_recorded() {
    let err = StartError::NotFound {
        program: "nope".into(),
        source: io::ErrorKind::NotFound.into(),
    };
    let mut s = step(WaitOutcome::Ready, Some(Err(err)), FakeRecorder::default());
    assert_eq!(s.run(&mut PipeSignals::new()).exit_code, 127);
    assert_eq!(s.recorder.done[0].reason, Reason::StartFailed);
}

#[test]
fn an_unwritable_termination_message_does_not_fail_the_step() {
    let rec = FakeRecorder {
        fail_termination: true,
        ..Default::default()
    };
    let mut s = step(WaitOutcome::Ready, Some(Ok(Exit::Code(0))), rec);
    assert_eq!(s.run(&mut PipeSignals::new()).exit_code, 0);
    assert_eq!(s.recorder.done.len(), 1);
}

#[test]
fn an_unclaimable_run_dir_runs_nothing() {
    let rec = FakeRecorder {
        fail_claim: true,
        ..Default::default()
    };
    let mut s = step(WaitOutcome::Ready, Some(Ok(Exit::Code(0))), rec);
    let out = s.run(&mut PipeSignals::new());
    assert_eq!(out.exit_code, exit_code::INTERNAL);
    assert_eq!(out.record, None);
    assert!(s.executor.ran.is_empty());
    // The user still learns why, from the termination message.
    let msg = &s.recorder.messages[0];
    assert_eq!(msg.reason, Reason::StartFailed);
    assert!(msg.message.as_deref().unwrap().contains("cannot claim"));
}

#[test]
fn missing_and_never_started_predecessors_are_lost_with_a_reason() {
    for (wait, needle) in [
        (WaitOutcome::Missing { dir: "/r/0".into() }, "not mounted"),
        (
            WaitOutcome::NeverStarted {
                dir: "/r/0".into(),
                grace: Duration::from_secs(600),
            },
            "within 600s",
        ),
    ] {
        let mut s = step(wait, None, FakeRecorder::default());
        assert_eq!(s.run(&mut PipeSignals::new()).exit_code, exit_code::NOT_RUN);
        let r = &s.recorder.done[0];
        assert_eq!(r.reason, Reason::PredecessorLost);
        assert!(r.message.as_deref().unwrap().contains(needle), "{r:?}");
        assert!(s.executor.ran.is_empty());
    }
}

#[test]
fn a_refused_step_records_its_failure_for_its_successors() {
    let mut s = step(WaitOutcome::Ready, None, FakeRecorder::default());
    let out = s.refuse("bad flags".into(), exit_code::USAGE);
    assert_eq!(out.exit_code, exit_code::USAGE);
    let r = &s.recorder.done[0];
    assert_eq!((r.reason, r.exit_code), (Reason::StartFailed, 2));
    assert_eq!(s.recorder.messages, s.recorder.done);
    assert!(s.executor.ran.is_empty());
    let rec = FakeRecorder {
        fail_claim: true,
        ..Default::default()
    };
    let mut s = step(WaitOutcome::Ready, None, rec);
    assert_eq!(s.refuse("bad".into(), 2).record, None);
    assert_eq!(s.recorder.messages.len(), 1);
}
