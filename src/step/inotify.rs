//! A minimal inotify wrapper: the runner only needs "something changed in these directories"
//! and the names involved, so it can wake the moment a predecessor records `done` or dies.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Events that can change a predecessor's state: `lock` or `done` renamed in, `done` deleted
/// (a restart), files created, and the lock file closed by a writer (its holder exited or
/// died).
const MASK: u32 = libc::IN_CREATE
    | libc::IN_MOVED_TO
    | libc::IN_MOVED_FROM
    | libc::IN_DELETE
    | libc::IN_CLOSE_WRITE
    | libc::IN_DELETE_SELF;

/// A non-blocking inotify instance watching a few directories.
#[derive(Debug)]
pub struct Inotify {
    fd: OwnedFd,
}

impl Inotify {
    /// Opens an instance; fails (and the caller falls back to polling) when the node's
    /// inotify limits are exhausted.
    pub fn new() -> io::Result<Inotify> {
        // SAFETY: plain syscall.
        let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh fd owned here.
        Ok(Inotify {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// An instance watching every directory of `dirs`.
    pub fn watching<'a>(dirs: impl IntoIterator<Item = &'a Path>) -> io::Result<Inotify> {
        let ino = Inotify::new()?;
        for dir in dirs {
            ino.watch(dir)?;
        }
        Ok(ino)
    }

    /// Watches the entries of `dir`.
    pub fn watch(&self, dir: &Path) -> io::Result<()> {
        let c = CString::new(dir.as_os_str().as_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: valid fd and NUL-terminated path.
        let wd = unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), c.as_ptr(), MASK) };
        if wd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The fd to poll.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Reads every queued event and returns the file names involved (empty for events on the
    /// directory itself); `IN_CLOSE_WRITE` names come back with a `close:` prefix so callers
    /// can tell a lock holder's exit from an ordinary change.
    pub fn drain(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: reads into a live buffer of that size.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                let err = io::Error::last_os_error();
                return match err.kind() {
                    io::ErrorKind::WouldBlock => Ok(names),
                    io::ErrorKind::Interrupted => continue,
                    _ => Err(err),
                };
            }
            let n = n as usize;
            let header = std::mem::size_of::<libc::inotify_event>();
            let mut off = 0;
            while off + header <= n {
                // SAFETY: the kernel wrote a whole header at `off`; read it unaligned.
                let ev: libc::inotify_event =
                    unsafe { std::ptr::read_unaligned(buf[off..].as_ptr().cast()) };
                let name_bytes = &buf[off + header..(off + header + ev.len as usize).min(n)];
                let end = name_bytes
                    .iter()
                    .position(|b| *b == 0)
                    .unwrap_or(name_bytes.len());
                let name = String::from_utf8_lossy(&name_bytes[..end]).into_owned();
                if ev.mask & libc::IN_CLOSE_WRITE != 0 {
                    names.push(format!("close:{name}"));
                } else {
                    names.push(name);
                }
                off += header + ev.len as usize;
            }
            if n == 0 {
                return Ok(names);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_created_and_closed_files() {
        let dir = crate::step::test_support::fresh_dir("inotify");
        let ino = Inotify::new().unwrap();
        ino.watch(&dir).unwrap();
        assert!(ino.drain().unwrap().is_empty());
        std::fs::write(dir.join("lock"), b"").unwrap();
        std::fs::rename(dir.join("lock"), dir.join("done")).unwrap();
        let names = ino.drain().unwrap();
        assert!(names.contains(&"lock".to_string()), "{names:?}");
        assert!(names.contains(&"close:lock".to_string()), "{names:?}");
        assert!(names.contains(&"done".to_string()), "{names:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Not a test: `bench/step_wait_cost.sh` runs it. What releasing an inotify instance
    /// costs the caller: a plain `close` (which waits for an RCU grace period) against
    /// handing it to a short-lived thread (what the waiter does).
    #[test]
    #[ignore = "measurement; run bench/step_wait_cost.sh"]
    fn inotify_release_cost() {
        use std::time::{Duration, Instant};
        let dir = crate::step::test_support::fresh_dir("inotify-cost");
        let median = |mut v: Vec<Duration>| {
            v.sort();
            v[v.len() / 2]
        };
        let (mut sync, mut background) = (Vec::new(), Vec::new());
        for _ in 0..40 {
            let ino = Inotify::watching([dir.as_path()]).unwrap();
            let t = Instant::now();
            drop(ino);
            sync.push(t.elapsed());
            let ino = Inotify::watching([dir.as_path()]).unwrap();
            let t = Instant::now();
            crate::step::watch::release_in_background(ino);
            background.push(t.elapsed());
            std::thread::sleep(Duration::from_millis(30)); // let the thread finish
        }
        println!(
            "release of an inotify instance, median of 40: close {:?}, background thread {:?}",
            median(sync),
            median(background)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
