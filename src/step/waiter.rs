//! Waiting for predecessors, the waking half: the real [`Waiter`] over run directories.
//!
//! It is woken by the kernel, never by a busy timer: a predecessor that is alive is watched
//! by a thread blocked on its lock ([`LockWatchers`]); a predecessor that has not started yet
//! (or, under `OnFailure`, is waiting for its restart) by inotify on its directory, and the
//! inotify instance is let go as soon as no predecessor needs it. Without inotify (the node's
//! `max_user_instances` used up) it polls with a back-off. A slow safety re-check guards
//! against a lost wake-up. A predecessor that shows no sign of life within the start grace
//! ends the wait: nothing waits forever.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::error::StepError;
use super::inotify::Inotify;
use super::signals::{SignalSource, take_stop_signal};
use super::wait::{Decision, PredState, WaitOutcome, Waiter, decide, poll, pollfd, probe};
use super::watch::{LockWatchers, release_in_background};

/// How long a predecessor may show no sign of life by default: long enough for the kubelet
/// to pull its image after a few failed attempts (its pull back-off reaches 5 minutes).
pub const DEFAULT_START_GRACE: Duration = Duration::from_secs(600);

/// The real waiter over run directories.
#[derive(Debug, Clone)]
pub struct DirWaiter {
    /// Safety re-check interval while every predecessor is watched by the kernel.
    pub recheck: Duration,
    /// First interval of the polling fallback (no inotify, or no thread for a lock watcher);
    /// it doubles up to `poll_max`.
    pub poll_min: Duration,
    /// Longest interval of the polling fallback.
    pub poll_max: Duration,
    /// A predecessor still without a lock this long after the wait began never started.
    pub start_grace: Duration,
    /// Tests only: pretend inotify is unavailable.
    pub no_inotify: bool,
}

impl Default for DirWaiter {
    fn default() -> Self {
        DirWaiter {
            recheck: Duration::from_secs(2),
            poll_min: Duration::from_millis(10),
            poll_max: Duration::from_secs(1),
            start_grace: DEFAULT_START_GRACE,
            no_inotify: false,
        }
    }
}

/// The waiter's wake-up sources during one wait.
struct Wakers {
    watchers: Option<LockWatchers>,
    inotify: Option<Inotify>,
    inotify_failed: bool,
}

impl Wakers {
    /// Lets go of the inotify instance (off the caller's path; see [`release_in_background`]).
    fn drop_inotify(&mut self) {
        if let Some(ino) = self.inotify.take() {
            release_in_background(ino);
        }
    }
}

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
        let began = Instant::now();
        let mut wakers = Wakers {
            watchers: None,
            inotify: None,
            inotify_failed: self.no_inotify,
        };
        let mut backoff = self.poll_min;
        loop {
            // A stop signal already pending wins over whatever the predecessors show now: the
            // kubelet asked first, and the outcome must not depend on who is scheduled first.
            if let Some(signal) = take_stop_signal(signals).map_err(StepError::Wait)? {
                wakers.drop_inotify();
                return Ok(WaitOutcome::Interrupted { signal });
            }
            let waited = began.elapsed();
            let mut states = Vec::with_capacity(wait_for.len());
            for dir in wait_for {
                let mut state = probe(Path::new(dir)).map_err(|source| StepError::Follow {
                    dir: PathBuf::from(dir),
                    source,
                })?;
                if state == PredState::NotStarted && waited >= self.start_grace {
                    state = PredState::NeverStarted(self.start_grace);
                }
                states.push((dir.clone(), state));
            }
            if let Decision::Finish(outcome) = decide(&states, on_failure) {
                wakers.drop_inotify();
                return Ok(outcome);
            }
            let (dir_events, not_started) = self.arm(&states, &mut wakers);
            if dir_events && wakers.inotify.is_none() && !wakers.inotify_failed {
                match Inotify::watching(wait_for.iter().map(Path::new)) {
                    Ok(ino) => wakers.inotify = Some(ino),
                    Err(_) => wakers.inotify_failed = true, // silently: polling still works
                }
                continue; // re-probe: a change may have happened before the watch existed
            }
            if !dir_events {
                wakers.drop_inotify();
            }
            let mut timeout = if dir_events && wakers.inotify.is_none() {
                let t = backoff;
                backoff = (backoff * 2).min(self.poll_max);
                t
            } else {
                self.recheck
            };
            if not_started {
                timeout = timeout.min(self.start_grace.saturating_sub(waited));
            }
            let mut fds = vec![pollfd(signals.fd())];
            if let Some(w) = &wakers.watchers {
                fds.push(pollfd(w.fd()));
            }
            if let Some(ino) = &wakers.inotify {
                fds.push(pollfd(ino.fd()));
            }
            poll(&mut fds, timeout).map_err(StepError::Wait)?;
            if let Some(w) = &wakers.watchers {
                w.acknowledge();
            }
            if let Some(ino) = &wakers.inotify {
                ino.drain().map_err(StepError::Wait)?;
            }
        }
    }
}

impl DirWaiter {
    /// Makes sure every pending predecessor can wake this waiter: a lock watcher for each live
    /// one, directory events for the rest. Returns (directory events needed, some predecessor
    /// has not started).
    fn arm(&self, states: &[(String, PredState)], wakers: &mut Wakers) -> (bool, bool) {
        let mut dir_events = false;
        let mut not_started = false;
        for (dir, state) in states {
            match state {
                PredState::Done(r) if r.succeeded() => {}
                PredState::Running => {
                    if wakers.watchers.is_none() {
                        wakers.watchers = LockWatchers::new().ok();
                    }
                    let watched = wakers
                        .watchers
                        .as_mut()
                        .is_some_and(|w| w.watch(dir).is_ok());
                    dir_events |= !watched;
                }
                PredState::NotStarted => {
                    not_started = true;
                    dir_events = true;
                }
                // Failed or lost under `OnFailure`: wait for the restart to show up.
                _ => dir_events = true,
            }
        }
        (dir_events, not_started)
    }
}

#[cfg(test)]
#[path = "waiter_tests.rs"]
mod tests;
