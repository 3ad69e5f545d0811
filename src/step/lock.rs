//! The liveness lock. A step holds an exclusive `flock` on `lock` in its run directory from
//! its claim until its outcome is recorded; the kernel drops it however the process dies, so
//! a successor that finds `lock` unheld and no `done` knows the step is gone (SIGKILL, OOM)
//! instead of waiting forever.
//!
//! `lock` only ever appears already locked: it is created and locked under a temporary name
//! and renamed into place. So "the file exists, nobody holds it, no outcome" can only mean a
//! death, never "its owner is between `open` and `flock`".

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::protocol::run_files;

/// Where the lock is made before it is renamed into place.
const LOCK_TMP: &str = ".lock.new";

/// The held lock; dropping it (or dying) releases it.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Takes the lock in `run_dir`. The file is opened for writing so that its close on exit
    /// also wakes inotify watchers (`IN_CLOSE_WRITE`). A `lock` left by an earlier run of the
    /// same step (a restart under `OnFailure`) is replaced, never reused.
    pub fn acquire(run_dir: &Path) -> io::Result<RunLock> {
        let tmp = run_dir.join(LOCK_TMP);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        flock(&file, libc::LOCK_EX | libc::LOCK_NB)?;
        std::fs::rename(&tmp, run_dir.join(run_files::LOCK))?;
        Ok(RunLock { _file: file })
    }
}

/// Whether some process holds the lock in `run_dir`; `None` when there is no lock file.
/// Probing takes a shared lock for an instant.
pub fn is_held(run_dir: &Path) -> io::Result<Option<bool>> {
    let file = match File::open(run_dir.join(run_files::LOCK)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    match flock(&file, libc::LOCK_SH | libc::LOCK_NB) {
        Ok(()) => Ok(Some(false)),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Some(true)),
        Err(e) => Err(e),
    }
}

/// Blocks until the current holder of `run_dir`'s lock lets go (it recorded its outcome, or
/// died). Costs nothing while it blocks: the kernel wakes it. Returns at once when there is
/// no lock file or nobody holds it.
pub fn wait_released(run_dir: &Path) -> io::Result<()> {
    let file = match File::open(run_dir.join(run_files::LOCK)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    flock(&file, libc::LOCK_SH)
}

fn flock(file: &File, op: libc::c_int) -> io::Result<()> {
    loop {
        // SAFETY: valid fd owned by `file`.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
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
    use std::time::{Duration, Instant};

    #[test]
    fn probe_sees_holder_and_its_release() {
        let dir = crate::step::test_support::fresh_dir("lock");
        assert_eq!(is_held(&dir).unwrap(), None);
        let lock = RunLock::acquire(&dir).unwrap();
        assert_eq!(is_held(&dir).unwrap(), Some(true));
        assert!(!dir.join(LOCK_TMP).exists());
        drop(lock);
        assert_eq!(is_held(&dir).unwrap(), Some(false));
        // A probe must not keep the lock: the next holder gets it at once.
        let again = RunLock::acquire(&dir).unwrap();
        assert_eq!(is_held(&dir).unwrap(), Some(true));
        drop(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_claim_killed_before_the_rename_leaves_no_lock() {
        let dir = crate::step::test_support::fresh_dir("lock-half");
        // What a runner killed between creating and renaming leaves behind.
        std::fs::write(dir.join(LOCK_TMP), b"").unwrap();
        assert_eq!(is_held(&dir).unwrap(), None, "not started, not lost");
        let lock = RunLock::acquire(&dir).unwrap();
        assert_eq!(is_held(&dir).unwrap(), Some(true));
        drop(lock);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn wait_released_wakes_when_the_holder_lets_go() {
        let dir = crate::step::test_support::fresh_dir("lock-wait");
        wait_released(&dir).unwrap(); // no lock file: nothing to wait for
        let lock = RunLock::acquire(&dir).unwrap();
        let start = Instant::now();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(lock);
        });
        wait_released(&dir).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(90));
        releaser.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
