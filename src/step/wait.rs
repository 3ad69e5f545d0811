//! Waiting for predecessors, the policy half: what each predecessor's run directory shows
//! ([`probe`]) and a pure decision over it ([`decide`]). How the waiter is woken lives in
//! [`super::waiter`].

use std::io;
use std::path::Path;
use std::time::Duration;

use super::error::StepError;
use super::lock;
use super::record::Record;
use super::signals::SignalSource;
use crate::protocol::run_files;

/// What a predecessor's run directory shows right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PredState {
    /// The directory does not exist (or is not one): its volume is not mounted here.
    Missing,
    /// No `lock` yet: its container has not reached the runner (or could not claim).
    NotStarted,
    /// Still [`PredState::NotStarted`] after the start grace: its image may never start, or
    /// it could not even create its lock. Set by the waiter, which keeps the time.
    NeverStarted(Duration),
    /// Started and holding its lock, no outcome yet.
    Running,
    /// It recorded an outcome.
    Done(Record),
    /// It recorded something unreadable; treated as a failure.
    Corrupt(String),
    /// Its lock exists, nobody holds it, and it recorded nothing: it died.
    Lost,
}

/// How waiting ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitOutcome {
    /// Every predecessor succeeded: run the command.
    Ready,
    /// A predecessor ended without success (`restartPolicy: Never`): skip.
    Failed { dir: String, reason: String },
    /// A predecessor died without recording an outcome (`restartPolicy: Never`).
    Lost { dir: String },
    /// A predecessor's run directory is not there: the Pod is not what the converter wrote.
    Missing { dir: String },
    /// A predecessor showed no sign of life within the start grace.
    NeverStarted { dir: String, grace: Duration },
    /// The runner was told to stop while waiting.
    Interrupted { signal: i32 },
}

/// What to do after one look at the predecessors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Stop waiting with this outcome.
    Finish(WaitOutcome),
    /// Keep waiting; `running` says some predecessor is alive and could die unannounced.
    Pending { running: bool },
}

/// The waiting policy in one place: under `OnFailure` nothing but success is final, because
/// the kubelet restarts a failed or vanished step in place; under `Never` the first failure
/// or loss (in `wait_for` order) ends the wait. A missing directory or a predecessor that
/// never started ends it under both: no restart of the predecessor can change that.
pub fn decide(states: &[(String, PredState)], on_failure: bool) -> Decision {
    let mut all_done = true;
    let mut running = false;
    for (dir, state) in states {
        match state {
            PredState::Missing => {
                return Decision::Finish(WaitOutcome::Missing { dir: dir.clone() });
            }
            PredState::NeverStarted(grace) => {
                return Decision::Finish(WaitOutcome::NeverStarted {
                    dir: dir.clone(),
                    grace: *grace,
                });
            }
            PredState::Done(r) if r.succeeded() => continue,
            PredState::Done(r) if !on_failure => {
                return Decision::Finish(WaitOutcome::Failed {
                    dir: dir.clone(),
                    reason: r.reason.to_string(),
                });
            }
            PredState::Corrupt(why) if !on_failure => {
                return Decision::Finish(WaitOutcome::Failed {
                    dir: dir.clone(),
                    reason: format!("with an unreadable record ({why})"),
                });
            }
            PredState::Lost if !on_failure => {
                return Decision::Finish(WaitOutcome::Lost { dir: dir.clone() });
            }
            PredState::Running | PredState::Lost => running = true,
            _ => {}
        }
        all_done = false;
    }
    if all_done {
        Decision::Finish(WaitOutcome::Ready)
    } else {
        Decision::Pending { running }
    }
}

/// Reads one predecessor's state. The order matters: `done` first, then the lock, then
/// `done` again, because a predecessor that finishes between the two looks lets go of its
/// lock right after recording `done`.
pub fn probe(dir: &Path) -> io::Result<PredState> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Ok(PredState::Missing),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(PredState::Missing),
        Err(e) => return Err(e),
    }
    if let Some(state) = read_done(dir)? {
        return Ok(state);
    }
    match lock::is_held(dir)? {
        None => Ok(PredState::NotStarted),
        Some(true) => Ok(PredState::Running),
        Some(false) => Ok(read_done(dir)?.unwrap_or(PredState::Lost)),
    }
}

fn read_done(dir: &Path) -> io::Result<Option<PredState>> {
    match std::fs::read_to_string(dir.join(run_files::DONE)) {
        Ok(text) => Ok(Some(match Record::from_json(&text) {
            Ok(r) => PredState::Done(r),
            Err(e) => PredState::Corrupt(e.to_string()),
        })),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Waits until the predecessors allow this step to go on (or forbid it).
pub trait Waiter {
    /// Blocks until the outcome is known; `signals` ends the wait on a stop signal.
    fn wait(
        &mut self,
        wait_for: &[String],
        on_failure: bool,
        signals: &mut dyn SignalSource,
    ) -> Result<WaitOutcome, StepError>;
}

pub(crate) fn pollfd(fd: i32) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

/// `poll(2)` with EINTR retried; `timeout` of `None` waits indefinitely.
pub(crate) fn poll(fds: &mut [libc::pollfd], timeout: Duration) -> io::Result<usize> {
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    loop {
        // SAFETY: `fds` is a live slice of pollfd.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Reason;
    use crate::step::recorder::{FsRecorder, Recorder};
    use crate::step::test_support::{fresh_dir, record};

    fn done(reason: Reason) -> PredState {
        PredState::Done(record("p", reason))
    }

    fn states(list: Vec<PredState>) -> Vec<(String, PredState)> {
        list.into_iter()
            .enumerate()
            .map(|(i, s)| (format!("/run/{i}"), s))
            .collect()
    }

    #[test]
    fn decide_under_never() {
        let ok = done(Reason::Succeeded);
        assert_eq!(
            decide(&states(vec![]), false),
            Decision::Finish(WaitOutcome::Ready)
        );
        assert_eq!(
            decide(&states(vec![ok.clone(), ok.clone()]), false),
            Decision::Finish(WaitOutcome::Ready)
        );
        assert_eq!(
            decide(&states(vec![ok.clone(), PredState::NotStarted]), false),
            Decision::Pending { running: false }
        );
        assert_eq!(
            decide(
                &states(vec![PredState::Running, PredState::NotStarted]),
                false
            ),
            Decision::Pending { running: true }
        );
        assert_eq!(
            decide(
                &states(vec![PredState::Running, done(Reason::Skipped)]),
                false
            ),
            Decision::Finish(WaitOutcome::Failed {
                dir: "/run/1".into(),
                reason: "Skipped".into()
            })
        );
        assert_eq!(
            decide(&states(vec![ok.clone(), PredState::Lost]), false),
            Decision::Finish(WaitOutcome::Lost {
                dir: "/run/1".into()
            })
        );
        assert!(matches!(
            decide(&states(vec![PredState::Corrupt("x".into())]), false),
            Decision::Finish(WaitOutcome::Failed { .. })
        ));
    }

    #[test]
    fn a_join_waits_for_all_and_a_continued_failure_counts_as_done() {
        let ok = done(Reason::Succeeded);
        let continued = match done(Reason::Failed) {
            PredState::Done(r) => PredState::Done(Record {
                continued: true,
                ..r
            }),
            _ => unreachable!(),
        };
        assert_eq!(
            decide(&states(vec![continued.clone(), ok.clone()]), false),
            Decision::Finish(WaitOutcome::Ready)
        );
        // Every predecessor must be done: one still running keeps the join waiting...
        assert_eq!(
            decide(&states(vec![continued, PredState::Running]), false),
            Decision::Pending { running: true }
        );
        // ...and any one failed without continuing skips it, whatever the others do.
        assert!(matches!(
            decide(
                &states(vec![PredState::Running, done(Reason::TimedOut)]),
                false
            ),
            Decision::Finish(WaitOutcome::Failed { .. })
        ));
    }

    #[test]
    fn decide_under_on_failure_waits_for_the_restart() {
        for s in [
            done(Reason::Failed),
            PredState::Lost,
            PredState::Corrupt("x".into()),
        ] {
            let d = decide(&states(vec![s.clone()]), true);
            assert!(matches!(d, Decision::Pending { .. }), "{s:?} -> {d:?}");
        }
        assert_eq!(
            decide(&states(vec![done(Reason::Succeeded)]), true),
            Decision::Finish(WaitOutcome::Ready)
        );
    }

    #[test]
    fn missing_and_never_started_end_the_wait_under_both_policies() {
        for on_failure in [false, true] {
            assert_eq!(
                decide(&states(vec![PredState::Missing]), on_failure),
                Decision::Finish(WaitOutcome::Missing {
                    dir: "/run/0".into()
                })
            );
            let grace = Duration::from_secs(300);
            assert_eq!(
                decide(
                    &states(vec![PredState::Running, PredState::NeverStarted(grace)]),
                    on_failure
                ),
                Decision::Finish(WaitOutcome::NeverStarted {
                    dir: "/run/1".into(),
                    grace
                })
            );
        }
    }

    #[test]
    fn probe_follows_a_step_through_its_life() {
        let dir = fresh_dir("wait-probe");
        assert_eq!(probe(&dir.join("absent")).unwrap(), PredState::Missing);
        std::fs::write(dir.join("file"), b"").unwrap();
        assert_eq!(probe(&dir.join("file")).unwrap(), PredState::Missing);
        std::fs::remove_file(dir.join("file")).unwrap();
        assert_eq!(probe(&dir).unwrap(), PredState::NotStarted);
        let mut recorder = FsRecorder::new(&dir, dir.join("termination-log"));
        recorder.claim().unwrap();
        assert_eq!(probe(&dir).unwrap(), PredState::Running);
        drop(recorder);
        assert_eq!(probe(&dir).unwrap(), PredState::Lost);
        let mut recorder = FsRecorder::new(&dir, dir.join("termination-log"));
        recorder.claim().unwrap();
        let PredState::Done(r) = done(Reason::Succeeded) else {
            unreachable!()
        };
        recorder.record_done(&r).unwrap();
        assert_eq!(probe(&dir).unwrap(), done(Reason::Succeeded));
        std::fs::write(dir.join(run_files::DONE), b"{").unwrap();
        assert!(matches!(probe(&dir).unwrap(), PredState::Corrupt(_)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
