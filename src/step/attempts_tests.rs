use super::*;
use crate::protocol::StepArgs;
use crate::step::exec::{Ran, StartError};
use crate::step::fakes::*;
use crate::step::record::Record;
use crate::step::signals::PipeSignals;
use crate::step::wait::WaitOutcome;
use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;

type FakeStep = Step<FakeWaiter, FakeExec, FakeRecorder, TickClock, FakePauser>;

fn code(c: i32) -> Result<Ran, StartError> {
    Ok(Ran::plain(Exit::Code(c)))
}

fn timed_out(sig: i32) -> Result<Ran, StartError> {
    Ok(Ran {
        exit: Exit::Signal(sig),
        timed_out: true,
        stopped: None,
    })
}

fn step(
    settings: impl FnOnce(&mut StepArgs),
    runs: Vec<Result<Ran, StartError>>,
    holds: Vec<HoldEnd>,
) -> FakeStep {
    let mut args = StepArgs {
        name: "build".into(),
        run_dir: "/kueueleuleu/run/1".into(),
        command_len: 1,
        argv: vec!["make".into()],
        ..Default::default()
    };
    settings(&mut args);
    Step {
        args,
        waiter: FakeWaiter(Some(WaitOutcome::Ready)),
        executor: FakeExec::with(runs),
        recorder: FakeRecorder::default(),
        clock: TickClock(Rc::new(Cell::new(0))),
        pauser: FakePauser {
            holds: VecDeque::from(holds),
            ..Default::default()
        },
    }
}

/// Runs the step; returns the container's exit code and the record successors see.
fn run(s: &mut FakeStep) -> (i32, Record) {
    let out = s.run(&mut PipeSignals::new());
    let record = s.recorder.done[0].clone();
    assert_eq!(out.record.as_ref(), Some(&record));
    assert_eq!(
        s.recorder.messages, s.recorder.done,
        "termination message = record"
    );
    (out.exit_code, record)
}

#[test]
fn a_timed_out_command_is_recorded_as_timed_out_with_124() {
    let limit = Duration::from_secs(90);
    let mut s = step(|a| a.timeout = Some(limit), vec![timed_out(9)], vec![]);
    let (exit, r) = run(&mut s);
    assert_eq!(exit, exit_code::TIMED_OUT);
    assert_eq!(
        (r.reason, r.exit_code, r.signal),
        (Reason::TimedOut, 124, Some(9))
    );
    let msg = r.message.clone().unwrap();
    assert!(
        msg.contains("timeout of 1m30s") && msg.contains("SIGKILL"),
        "{msg}"
    );
    assert_eq!(s.executor.limits, vec![Some(limit)]);
    assert!(!r.succeeded(), "successors are skipped");
}

#[test]
fn retries_rerun_a_failed_command_with_doubling_backoff() {
    let mut s = step(|a| a.retries = 3, vec![code(3), code(3), code(0)], vec![]);
    let (exit, r) = run(&mut s);
    assert_eq!((exit, r.reason, r.attempts), (0, Reason::Succeeded, 3));
    assert_eq!(
        s.pauser.slept,
        vec![Duration::from_secs(1), Duration::from_secs(2)]
    );
    assert_eq!(s.executor.ran.len(), 3);
}

#[test]
fn exhausted_retries_keep_the_last_failure_and_count_every_attempt() {
    let mut s = step(|a| a.retries = 2, vec![code(3), code(4), code(5)], vec![]);
    let (exit, r) = run(&mut s);
    assert_eq!(
        (exit, r.reason, r.exit_code, r.attempts),
        (5, Reason::Failed, 5, 3)
    );
    assert!(r.to_json().contains("\"attempts\":3"));
}

#[test]
fn the_timeout_applies_to_each_attempt_and_timeouts_are_retried() {
    let limit = Some(Duration::from_secs(5));
    let mut s = step(
        |a| {
            a.timeout = limit;
            a.retries = 1;
        },
        vec![timed_out(15), code(0)],
        vec![],
    );
    let (exit, r) = run(&mut s);
    assert_eq!((exit, r.reason, r.attempts), (0, Reason::Succeeded, 2));
    assert_eq!(s.executor.limits, vec![limit, limit]);
}

#[test]
fn a_command_that_cannot_start_or_was_stopped_is_not_retried() {
    let missing = Err(StartError::NotFound {
        program: "make".into(),
        source: std::io::ErrorKind::NotFound.into(),
    });
    let mut s = step(|a| a.retries = 5, vec![missing], vec![]);
    let (exit, r) = run(&mut s);
    assert_eq!((exit, r.reason, r.attempts), (127, Reason::StartFailed, 1));
    // The kubelet stopping the container (Pod deletion) ends the step at once.
    let stopped = Ok(Ran {
        exit: Exit::Signal(15),
        timed_out: false,
        stopped: Some(15),
    });
    let mut s = step(
        |a| {
            a.retries = 5;
            a.debug_on_failure = true;
        },
        vec![stopped],
        vec![],
    );
    let (exit, r) = run(&mut s);
    assert_eq!((exit, r.reason, r.attempts), (143, Reason::Failed, 1));
    assert!(s.pauser.slept.is_empty() && s.pauser.notices.is_empty());
}

#[test]
fn a_stop_during_the_backoff_ends_the_step_with_its_failure() {
    let mut s = step(|a| a.retries = 3, vec![code(3)], vec![]);
    s.pauser.stop_sleep = Some(15);
    let (exit, r) = run(&mut s);
    assert_eq!((exit, r.reason, r.attempts), (3, Reason::Failed, 1));
    assert!(
        r.message
            .unwrap()
            .contains("not retried: stopped by signal 15")
    );
}

#[test]
fn on_error_continue_records_the_failure_and_exits_zero() {
    let mut s = step(|a| a.on_error = OnError::Continue, vec![code(3)], vec![]);
    let (exit, r) = run(&mut s);
    assert_eq!(exit, 0, "the container succeeds so the Pod goes on");
    assert_eq!(
        (r.reason, r.exit_code, r.continued),
        (Reason::Failed, 3, true)
    );
    assert!(r.succeeded(), "successors run");
    assert!(r.to_json().contains("\"continued\":true"));
    // A success is not "continued".
    let mut s = step(|a| a.on_error = OnError::Continue, vec![code(0)], vec![]);
    assert!(!run(&mut s).1.continued);
}

#[test]
fn debug_continue_lets_the_successors_run() {
    let mut s = step(
        |a| a.debug_on_failure = true,
        vec![code(3)],
        vec![HoldEnd::Continue],
    );
    let (exit, r) = run(&mut s);
    assert_eq!(exit, 0);
    assert_eq!(
        (r.reason, r.continued, r.debug.as_deref()),
        (Reason::Failed, true, Some("continue"))
    );
    let notice = &s.pauser.notices[0];
    assert!(
        notice.starts_with("build: the command ended Failed (exit code 3) after 1 attempt;"),
        "{notice}"
    );
}

#[test]
fn debug_fail_and_timeout_let_the_failure_stand_unless_on_error_continue() {
    for end in [HoldEnd::Fail, HoldEnd::TimedOut, HoldEnd::Stopped(15)] {
        let mut s = step(|a| a.debug_on_failure = true, vec![code(3)], vec![end]);
        let (exit, r) = run(&mut s);
        assert_eq!((exit, r.continued), (3, false), "{end:?}");
        assert_eq!(r.debug.as_deref(), Some(end.as_str()));
    }
    let mut s = step(
        |a| {
            a.debug_on_failure = true;
            a.on_error = OnError::Continue;
        },
        vec![code(3)],
        vec![HoldEnd::Fail],
    );
    let (exit, r) = run(&mut s);
    assert_eq!(
        (exit, r.continued, r.debug.as_deref()),
        (0, true, Some("fail"))
    );
}

#[test]
fn debug_retry_runs_the_command_again_after_the_retries() {
    let mut s = step(
        |a| {
            a.debug_on_failure = true;
            a.retries = 1;
        },
        vec![code(3), code(3), code(0)],
        vec![HoldEnd::Retry],
    );
    let (exit, r) = run(&mut s);
    assert_eq!((exit, r.reason, r.attempts), (0, Reason::Succeeded, 3));
    assert_eq!(r.debug.as_deref(), Some("retry"));
    assert_eq!(
        s.pauser.slept.len(),
        1,
        "the runner's own retries come first"
    );
    assert!(s.pauser.notices[0].contains("after 2 attempts"));
}

#[test]
fn a_success_is_never_held() {
    let mut s = step(|a| a.debug_on_failure = true, vec![code(0)], vec![]);
    assert_eq!(run(&mut s).0, 0);
    assert!(s.pauser.notices.is_empty());
}

#[test]
fn backoff_doubles_up_to_a_minute() {
    let secs: Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
    assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60]);
    assert_eq!(backoff(u32::MAX), RETRY_BACKOFF_MAX);
}
