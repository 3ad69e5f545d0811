//! Watching and steering a Pod while it runs: waiting for a condition, signalling its
//! containers (a crash, the OOM killer, Pod deletion), and collecting the finished run.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{ContainerState, PodRun, RunningPod, faults, lock};

/// A read-only view of the running Pod for [`RunningPod::wait_until`].
pub struct PodView<'a> {
    pub containers: &'a [ContainerState],
}

impl PodView<'_> {
    pub fn container(&self, name: &str) -> &ContainerState {
        self.containers
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no container {name}"))
    }
}

impl RunningPod {
    /// Blocks until `pred` holds or `timeout` passes (an error naming the state then).
    pub fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&PodView) -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let mut s = lock(&self.shared);
        loop {
            if pred(&PodView {
                containers: &s.containers,
            }) {
                return Ok(());
            }
            if s.finished.is_some() {
                return Err(format!("pod ended before {what}: {:#?}", s.containers));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(format!("timed out waiting for {what}: {:#?}", s.containers));
            }
            s = self
                .shared
                .1
                .wait_timeout(s, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The Pod's directory on the host (`volumes/<name>` holds each emptyDir).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The host pid of a running container's process.
    pub fn pid(&self, name: &str) -> Option<i32> {
        lock(&self.shared)
            .containers
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.pid)
    }

    /// Sends `sig` to one container's process (what a crash or the OOM killer does).
    pub fn signal(&self, name: &str, sig: i32) {
        if let Some(pid) = self.pid(name) {
            // SAFETY: plain syscall.
            unsafe { libc::kill(pid, sig) };
        }
    }

    /// Sends `sig` to every running container and stops restarts: Pod deletion.
    pub fn signal_all(&self, sig: i32) {
        let mut s = lock(&self.shared);
        s.stopping = true;
        for pid in s.containers.iter().filter_map(|c| c.pid) {
            // SAFETY: plain syscall.
            unsafe { libc::kill(pid, sig) };
        }
    }

    /// Waits for the Pod to end. Past `timeout` every container is SIGKILLed and the state
    /// so far is returned as an error: nothing can hang a test.
    pub fn wait(mut self, timeout: Duration) -> Result<PodRun, String> {
        let deadline = Instant::now() + timeout;
        let mut s = lock(&self.shared);
        while s.finished.is_none() {
            let now = Instant::now();
            if now >= deadline {
                drop(s);
                self.kill_all();
                return Err(format!(
                    "pod did not finish within {timeout:?} (seed {}): {:#?}",
                    self.seed,
                    lock(&self.shared).containers
                ));
            }
            s = self
                .shared
                .1
                .wait_timeout(s, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        let phase = s.finished.unwrap();
        let containers = s.containers.clone();
        drop(s);
        if let Some(t) = self.supervisor.take() {
            let _ = t.join();
        }
        Ok(PodRun {
            phase,
            containers,
            dir: self.dir.clone(),
            seed: self.seed,
        })
    }

    fn kill_all(&self) {
        let mut s = lock(&self.shared);
        s.stopping = true;
        for pid in s.containers.iter().filter_map(|c| c.pid) {
            // SAFETY: plain syscall.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

impl Drop for RunningPod {
    fn drop(&mut self) {
        if self.supervisor.is_some() {
            self.kill_all();
            faults::unmount_below(&self.dir);
        }
    }
}

impl Drop for PodRun {
    fn drop(&mut self) {
        faults::unmount_below(&self.dir);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
