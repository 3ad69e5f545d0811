use super::*;
use crate::protocol::Reason;
use crate::step::record::Record;
use crate::step::recorder::{FsRecorder, Recorder};
use crate::step::signals::PipeSignals;
use crate::step::test_support::{self, fresh_dir};

/// A predecessor that has claimed its run directory, exactly as the runner does; it holds
/// the lock until it records or is dropped.
fn claimed_step(tag: &str) -> (PathBuf, FsRecorder) {
    let dir = fresh_dir(tag);
    let mut recorder = FsRecorder::new(&dir, dir.join("termination-log"));
    recorder.claim().unwrap();
    (dir, recorder)
}

fn record(reason: Reason) -> Record {
    test_support::record("p", reason)
}

/// Only kernel wake-ups can end these waits in time: the safety re-check and the polling
/// fallback are far beyond the tests' patience.
fn patient() -> DirWaiter {
    DirWaiter {
        recheck: Duration::from_secs(60),
        poll_min: Duration::from_secs(60),
        poll_max: Duration::from_secs(60),
        ..DirWaiter::default()
    }
}

fn wait(waiter: &mut DirWaiter, dirs: &[&Path], on_failure: bool) -> (WaitOutcome, Duration) {
    let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let start = Instant::now();
    let out = waiter
        .wait(&dirs, on_failure, &mut PipeSignals::new())
        .unwrap();
    (out, start.elapsed())
}

#[test]
fn wakes_when_the_predecessor_records_done() {
    let (dir, mut predecessor) = claimed_step("waiter-wake");
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        predecessor.record_done(&record(Reason::Succeeded)).unwrap();
        predecessor // still alive: only the recorded outcome can have woken the waiter
    });
    let (out, took) = wait(&mut patient(), &[&dir], false);
    assert_eq!(out, WaitOutcome::Ready);
    assert!(took < Duration::from_secs(30), "{took:?}");
    drop(writer.join().unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn notices_a_predecessor_that_dies_without_a_record() {
    let (dir, predecessor) = claimed_step("waiter-lost");
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        drop(predecessor);
    });
    let (out, took) = wait(&mut patient(), &[&dir], false);
    let lost = WaitOutcome::Lost {
        dir: dir.display().to_string(),
    };
    assert_eq!(out, lost);
    assert!(
        took < Duration::from_secs(30),
        "woken by a re-check: {took:?}"
    );
    killer.join().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn wakes_when_a_predecessor_starts_then_ends() {
    // Not started at first: inotify sees the lock appear, then the lock watcher the end.
    let dir = fresh_dir("waiter-start");
    let d = dir.clone();
    let predecessor = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        let mut rec = FsRecorder::new(&d, d.join("termination-log"));
        rec.claim().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        rec.record_done(&record(Reason::Failed)).unwrap();
    });
    let (out, took) = wait(&mut patient(), &[&dir], false);
    assert!(matches!(out, WaitOutcome::Failed { .. }), "{out:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    predecessor.join().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_inotify_the_poll_backs_off_and_still_sees_the_start() {
    let dir = fresh_dir("waiter-poll");
    let d = dir.clone();
    let predecessor = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let mut rec = FsRecorder::new(&d, d.join("termination-log"));
        rec.claim().unwrap();
        rec.record_done(&record(Reason::Succeeded)).unwrap();
    });
    let mut waiter = DirWaiter {
        no_inotify: true,
        poll_min: Duration::from_millis(10),
        poll_max: Duration::from_millis(80),
        ..patient()
    };
    let (out, took) = wait(&mut waiter, &[&dir], false);
    assert_eq!(out, WaitOutcome::Ready);
    assert!(took < Duration::from_secs(30), "{took:?}");
    predecessor.join().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_predecessor_that_never_starts_ends_the_wait_after_the_grace() {
    let dir = fresh_dir("waiter-grace");
    let grace = Duration::from_millis(200);
    for on_failure in [false, true] {
        let mut waiter = DirWaiter {
            start_grace: grace,
            ..patient()
        };
        let (out, took) = wait(&mut waiter, &[&dir], on_failure);
        assert_eq!(
            out,
            WaitOutcome::NeverStarted {
                dir: dir.display().to_string(),
                grace
            }
        );
        assert!(took >= grace && took < Duration::from_secs(30), "{took:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_predecessor_directory_fails_at_once() {
    let dir = fresh_dir("waiter-missing");
    let (out, took) = wait(&mut patient(), &[&dir.join("not-mounted")], true);
    assert!(matches!(out, WaitOutcome::Missing { .. }), "{out:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_stop_signal_ends_the_wait_and_others_do_not() {
    let dir = fresh_dir("waiter-sig");
    let mut sig = PipeSignals::new();
    let send = sig.sender();
    send(libc::SIGUSR1);
    send(libc::SIGTERM);
    let out = patient()
        .wait(&[dir.display().to_string()], false, &mut sig)
        .unwrap();
    assert_eq!(
        out,
        WaitOutcome::Interrupted {
            signal: libc::SIGTERM
        }
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_pending_stop_signal_wins_over_a_predecessor_that_already_failed() {
    // The SIGTERM race of the e2e suite: the signal was sent before the predecessor failed,
    // so the step is Terminated, not Skipped, however late the waiter gets to look.
    let (dir, mut predecessor) = claimed_step("waiter-race");
    let mut sig = PipeSignals::new();
    sig.sender()(libc::SIGTERM);
    predecessor.record_done(&record(Reason::Failed)).unwrap();
    let out = patient()
        .wait(&[dir.display().to_string()], false, &mut sig)
        .unwrap();
    assert_eq!(
        out,
        WaitOutcome::Interrupted {
            signal: libc::SIGTERM
        }
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
