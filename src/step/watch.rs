//! Cheap ways to be woken while waiting, so that a Pod of hundreds of waiting steps costs
//! next to nothing:
//!
//! - [`LockWatchers`]: for a predecessor that is alive, a small thread blocks in `flock` on
//!   its lock. The kernel wakes it the moment the predecessor records its outcome (it lets
//!   go of the lock right after) or dies. No inotify instance, no timer, no CPU.
//! - [`release_in_background`]: an inotify instance is only needed while a predecessor has
//!   not started yet; it is let go as soon as it is not needed, on a short-lived thread,
//!   because closing an inotify fd waits for an RCU grace period (measured at 10-30 ms here)
//!   that must not sit between a predecessor's end and this step's start.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::lock;

/// Stack of the helper threads: they make one or two syscalls.
const HELPER_STACK: usize = 64 * 1024;

/// Threads blocked on predecessors' locks, reporting through one eventfd.
#[derive(Debug)]
pub struct LockWatchers {
    event: Arc<OwnedFd>,
    active: Vec<(String, Arc<AtomicBool>)>,
}

impl LockWatchers {
    /// Opens the eventfd the watchers report through.
    pub fn new() -> io::Result<LockWatchers> {
        // SAFETY: plain syscall.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(LockWatchers {
            // SAFETY: fresh fd owned here.
            event: Arc::new(unsafe { OwnedFd::from_raw_fd(fd) }),
            active: Vec::new(),
        })
    }

    /// The fd that becomes readable when a watched lock was let go.
    pub fn fd(&self) -> RawFd {
        self.event.as_raw_fd()
    }

    /// Whether a watcher is still blocked on `dir`'s lock.
    pub fn watching(&self, dir: &str) -> bool {
        self.active
            .iter()
            .any(|(d, done)| d == dir && !done.load(Ordering::Acquire))
    }

    /// Starts a watcher on `dir`'s lock (unless one is already blocked on it). Fails when no
    /// thread can be started; the caller then falls back to directory events or polling.
    pub fn watch(&mut self, dir: &str) -> io::Result<()> {
        if self.watching(dir) {
            return Ok(());
        }
        self.active
            .retain(|(_, done)| !done.load(Ordering::Acquire));
        let done = Arc::new(AtomicBool::new(false));
        let (flag, event, path) = (done.clone(), self.event.clone(), PathBuf::from(dir));
        std::thread::Builder::new()
            .name("lock-watch".into())
            .stack_size(HELPER_STACK)
            .spawn(move || {
                // Whatever happened (released, or an error), the main loop re-probes.
                let _ = lock::wait_released(&path);
                flag.store(true, Ordering::Release);
                let one = 1u64.to_ne_bytes();
                // SAFETY: writes 8 bytes from a live buffer to the eventfd.
                unsafe { libc::write(event.as_raw_fd(), one.as_ptr().cast(), 8) };
            })?;
        self.active.push((dir.to_string(), done));
        Ok(())
    }

    /// Clears the wake-up after the fd was readable.
    pub fn acknowledge(&self) {
        let mut buf = [0u8; 8];
        // SAFETY: reads at most 8 bytes into a live buffer; non-blocking fd.
        unsafe { libc::read(self.event.as_raw_fd(), buf.as_mut_ptr().cast(), 8) };
    }
}

/// Drops `value` on a short-lived thread, so that a slow `close` (an inotify instance) does
/// not delay the caller. When no thread can be started, `spawn` drops the closure, and with
/// it the value, right here: released either way.
pub fn release_in_background<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new()
        .name("release".into())
        .stack_size(HELPER_STACK)
        .spawn(move || drop(value));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::lock::RunLock;
    use crate::step::test_support::fresh_dir;
    use crate::step::wait::{poll, pollfd};
    use std::time::{Duration, Instant};

    #[test]
    fn a_watcher_wakes_when_the_lock_is_let_go() {
        let dir = fresh_dir("watch-lock");
        let lock = RunLock::acquire(&dir).unwrap();
        let mut w = LockWatchers::new().unwrap();
        let d = dir.display().to_string();
        w.watch(&d).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert!(w.watching(&d));
        let mut fds = [pollfd(w.fd())];
        assert_eq!(poll(&mut fds, Duration::from_millis(50)).unwrap(), 0);
        let t = Instant::now();
        drop(lock);
        assert_eq!(poll(&mut fds, Duration::from_secs(10)).unwrap(), 1);
        assert!(t.elapsed() < Duration::from_secs(5));
        w.acknowledge();
        assert!(!w.watching(&d));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn release_in_background_drops_the_value() {
        struct Flag(Arc<AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Release);
            }
        }
        let dropped = Arc::new(AtomicBool::new(false));
        release_in_background(Flag(dropped.clone()));
        let until = Instant::now() + Duration::from_secs(10);
        while !dropped.load(Ordering::Acquire) {
            assert!(Instant::now() < until, "never dropped");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
