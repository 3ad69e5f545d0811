//! Waiting for predecessors. A pure decision ([`decide`]) over what each predecessor's run
//! directory shows ([`probe`]), driven by inotify wake-ups; a short poll is only the fallback
//! when inotify is unavailable, and a slow safety re-check otherwise.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::StepError;
use super::inotify::Inotify;
use super::lock;
use super::record::Record;
use super::signals::{SignalSource, stops_waiting};
use crate::protocol::run_files;

/// What a predecessor's run directory shows right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PredState {
    /// No `started` marker yet: its container has not reached the runner.
    NotStarted,
    /// Started and holding its lock, no outcome yet.
    Running,
    /// It recorded an outcome.
    Done(Record),
    /// It recorded something unreadable; treated as a failure.
    Corrupt(String),
    /// Started, no longer holds its lock, and recorded nothing: it died.
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
/// or loss (in `wait_for` order) ends the wait.
pub fn decide(states: &[(String, PredState)], on_failure: bool) -> Decision {
    let mut all_done = true;
    let mut running = false;
    for (dir, state) in states {
        match state {
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
/// `done` again, because a predecessor that finishes between the two looks releases its lock
/// right after recording `done`.
pub fn probe(dir: &Path) -> io::Result<PredState> {
    if let Some(state) = read_done(dir)? {
        return Ok(state);
    }
    match std::fs::metadata(dir.join(run_files::STARTED)) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(PredState::NotStarted),
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    if lock::is_held(dir)? == Some(true) {
        return Ok(PredState::Running);
    }
    Ok(read_done(dir)?.unwrap_or(PredState::Lost))
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

/// The real waiter over run directories.
#[derive(Debug, Clone)]
pub struct DirWaiter {
    /// Re-check interval when inotify cannot be used.
    pub fallback_poll: Duration,
    /// Re-check interval while a predecessor is alive (deaths are also signalled by inotify;
    /// this bounds detection if an event is missed).
    pub running_recheck: Duration,
    /// Re-check interval while no predecessor has started.
    pub idle_recheck: Duration,
}

impl Default for DirWaiter {
    fn default() -> Self {
        DirWaiter {
            fallback_poll: Duration::from_millis(20),
            running_recheck: Duration::from_millis(200),
            idle_recheck: Duration::from_secs(1),
        }
    }
}

/// After a lock holder closed its lock file the kernel may release the flock a moment after
/// the close event, so the waiter re-checks quickly a few times before settling down.
const AFTER_CLOSE: [u64; 7] = [1, 2, 4, 8, 16, 32, 64];

impl Waiter for DirWaiter {
    fn wait(
        &mut self,
        wait_for: &[String],
        on_failure: bool,
        signals: &mut dyn SignalSource,
    ) -> Result<WaitOutcome, StepError> {
        if wait_for.is_empty() {
            return Ok(WaitOutcome::Ready);
        }
        let inotify = Inotify::new().and_then(|ino| {
            for dir in wait_for {
                ino.watch(Path::new(dir))?;
            }
            Ok(ino)
        });
        let inotify = match inotify {
            Ok(ino) => Some(ino),
            Err(e) => {
                super::diag(format_args!("inotify unavailable ({e}); polling instead"));
                None
            }
        };
        let mut burst: Option<usize> = None;
        loop {
            let mut states = Vec::with_capacity(wait_for.len());
            for dir in wait_for {
                let state = probe(Path::new(dir)).map_err(|source| StepError::Follow {
                    dir: PathBuf::from(dir),
                    source,
                })?;
                states.push((dir.clone(), state));
            }
            let running = match decide(&states, on_failure) {
                Decision::Finish(outcome) => {
                    // Closing an inotify instance waits for an RCU grace period (often
                    // 10-20 ms), which would sit between the predecessor's end and this
                    // command's start; the fd is close-on-exec and goes away with the process.
                    std::mem::forget(inotify);
                    return Ok(outcome);
                }
                Decision::Pending { running } => running,
            };
            let timeout = match (&inotify, running, burst) {
                (None, _, _) => self.fallback_poll,
                (Some(_), true, Some(i)) if i < AFTER_CLOSE.len() => {
                    burst = Some(i + 1);
                    Duration::from_millis(AFTER_CLOSE[i])
                }
                (Some(_), true, _) => self.running_recheck,
                (Some(_), false, _) => self.idle_recheck,
            };
            let mut fds = vec![pollfd(signals.fd())];
            if let Some(ino) = &inotify {
                fds.push(pollfd(ino.fd()));
            }
            poll(&mut fds, timeout).map_err(StepError::Wait)?;
            if fds[0].revents != 0
                && let Some(sig) = signals
                    .drain()
                    .map_err(StepError::Wait)?
                    .into_iter()
                    .find(|s| stops_waiting(*s))
            {
                return Ok(WaitOutcome::Interrupted { signal: sig });
            }
            if let (Some(ino), Some(pfd)) = (&inotify, fds.get(1))
                && pfd.revents != 0
            {
                let names = ino.drain().map_err(StepError::Wait)?;
                if names.contains(&format!("close:{}", run_files::LOCK)) {
                    burst = Some(0);
                }
            }
        }
    }
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
    use crate::step::signals::PipeSignals;
    use crate::step::test_support::fresh_dir;
    use std::time::{Instant, UNIX_EPOCH};

    fn done(reason: Reason) -> PredState {
        PredState::Done(Record {
            name: "p".into(),
            reason,
            exit_code: if reason == Reason::Succeeded { 0 } else { 1 },
            signal: None,
            started_at: UNIX_EPOCH,
            finished_at: UNIX_EPOCH,
            message: None,
        })
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

    /// A predecessor that has claimed its run directory, exactly as the runner does; it holds
    /// the lock until dropped.
    fn claimed_step(tag: &str) -> (PathBuf, FsRecorder) {
        let dir = fresh_dir(tag);
        let mut recorder = FsRecorder::new(&dir, dir.join("termination-log"));
        recorder.claim().unwrap();
        (dir, recorder)
    }

    /// Records `reason` the way the runner does (temp file + rename).
    fn record_done(recorder: &mut FsRecorder, reason: Reason) {
        let PredState::Done(r) = done(reason) else {
            unreachable!()
        };
        recorder.record_done(&r).unwrap();
    }

    #[test]
    fn probe_follows_a_step_through_its_life() {
        let dir = fresh_dir("wait-probe");
        assert_eq!(probe(&dir).unwrap(), PredState::NotStarted);
        let mut recorder = FsRecorder::new(&dir, dir.join("termination-log"));
        recorder.claim().unwrap();
        assert_eq!(probe(&dir).unwrap(), PredState::Running);
        drop(recorder);
        assert_eq!(probe(&dir).unwrap(), PredState::Lost);
        // A recorder that never claimed writes without holding the lock.
        record_done(
            &mut FsRecorder::new(&dir, dir.join("termination-log")),
            Reason::Succeeded,
        );
        assert_eq!(probe(&dir).unwrap(), done(Reason::Succeeded));
        std::fs::write(dir.join(run_files::DONE), b"{").unwrap();
        assert!(matches!(probe(&dir).unwrap(), PredState::Corrupt(_)));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn wakes_when_the_predecessor_records_done() {
        let (dir, mut predecessor) = claimed_step("wait-wake");
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            record_done(&mut predecessor, Reason::Succeeded);
        });
        let mut sig = PipeSignals::new();
        let mut waiter = DirWaiter {
            running_recheck: Duration::from_secs(30),
            idle_recheck: Duration::from_secs(30),
            ..DirWaiter::default()
        };
        let out = waiter
            .wait(&[dir.display().to_string()], false, &mut sig)
            .unwrap();
        assert_eq!(out, WaitOutcome::Ready);
        writer.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn notices_a_predecessor_that_dies_without_a_record() {
        let (dir, predecessor) = claimed_step("wait-lost");
        let killer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(predecessor);
        });
        let mut sig = PipeSignals::new();
        // Safety re-checks far beyond the test's patience: only the close event can wake it.
        let mut waiter = DirWaiter {
            running_recheck: Duration::from_secs(30),
            idle_recheck: Duration::from_secs(30),
            ..DirWaiter::default()
        };
        let start = Instant::now();
        let out = waiter
            .wait(&[dir.display().to_string()], false, &mut sig)
            .unwrap();
        assert_eq!(
            out,
            WaitOutcome::Lost {
                dir: dir.display().to_string()
            }
        );
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "woken by the safety re-check"
        );
        killer.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_stop_signal_ends_the_wait_and_others_do_not() {
        let dir = fresh_dir("wait-sig");
        let mut sig = PipeSignals::new();
        let send = sig.sender();
        send(libc::SIGUSR1);
        send(libc::SIGTERM);
        let out = DirWaiter::default()
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
}
