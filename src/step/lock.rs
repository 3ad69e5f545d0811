//! The liveness lock. A step holds an exclusive `flock` on `lock` in its run directory for
//! its whole life; the kernel drops it however the process dies, so a successor that finds
//! `started` but no holder and no `done` knows the step is gone (SIGKILL, OOM) instead of
//! waiting forever.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::protocol::run_files;

/// The held lock; dropping it (or dying) releases it.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Takes the lock in `run_dir`, waiting if a previous holder is still on its way out (a
    /// restarted container can start before the old process is fully gone). The file is
    /// opened for writing so that its close on exit wakes inotify watchers (`IN_CLOSE_WRITE`).
    pub fn acquire(run_dir: &Path) -> io::Result<RunLock> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(run_dir.join(run_files::LOCK))?;
        flock(&file, libc::LOCK_EX)?;
        Ok(RunLock { _file: file })
    }
}

/// Whether some process holds the lock in `run_dir`; `None` when there is no lock file.
/// Probing takes a shared lock for an instant, which a restarting holder simply waits out.
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

    #[test]
    fn probe_sees_holder_and_its_release() {
        let dir = crate::step::test_support::fresh_dir("lock");
        assert_eq!(is_held(&dir).unwrap(), None);
        let lock = RunLock::acquire(&dir).unwrap();
        assert_eq!(is_held(&dir).unwrap(), Some(true));
        drop(lock);
        assert_eq!(is_held(&dir).unwrap(), Some(false));
        // A probe must not keep the lock: the next holder gets it at once.
        let again = RunLock::acquire(&dir).unwrap();
        assert_eq!(is_held(&dir).unwrap(), Some(true));
        drop(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
