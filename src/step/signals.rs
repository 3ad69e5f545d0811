//! Signals as readable events. The runner blocks the signals it cares about and reads them
//! from a `signalfd`, so waiting for predecessors, forwarding to the command and reaping
//! children are all one `poll` loop with no async-signal-safety traps.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Signals the runner passes on to the command (what a container runtime would have sent
/// to the command had it been PID 1).
pub const FORWARDED: [libc::c_int; 6] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// Signals that end a step that is still waiting: the kubelet is stopping the container.
pub fn stops_waiting(sig: libc::c_int) -> bool {
    matches!(
        sig,
        libc::SIGTERM | libc::SIGINT | libc::SIGHUP | libc::SIGQUIT
    )
}

/// A pollable source of received signals; a trait so tests can inject signals.
pub trait SignalSource {
    /// A file descriptor that becomes readable when signals are pending.
    fn fd(&self) -> RawFd;
    /// Takes every pending signal, oldest first; empty when none is pending.
    fn drain(&mut self) -> io::Result<Vec<libc::c_int>>;
}

/// The real source: [`FORWARDED`] signals and `SIGCHLD`, blocked and read from a signalfd.
#[derive(Debug)]
pub struct SignalFd {
    fd: OwnedFd,
}

/// The set the runner blocks and reads: the forwarded signals plus `SIGCHLD`.
fn handled_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set before sigaddset touches it.
    unsafe {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigemptyset(set.as_mut_ptr());
        let mut set = set.assume_init();
        for sig in FORWARDED.iter().chain(&[libc::SIGCHLD]) {
            libc::sigaddset(&mut set, *sig);
        }
        set
    }
}

impl SignalFd {
    /// Blocks the handled signals in the calling thread and opens the signalfd. Must run
    /// before any other thread exists (the runner is single-threaded), so no thread is left
    /// to take a signal the normal way.
    pub fn install() -> io::Result<SignalFd> {
        let set = handled_set();
        // SAFETY: plain syscalls on a valid, initialised sigset.
        unsafe {
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(SignalFd {
                fd: OwnedFd::from_raw_fd(fd),
            })
        }
    }
}

impl SignalSource for SignalFd {
    fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    fn drain(&mut self) -> io::Result<Vec<libc::c_int>> {
        let mut out = Vec::new();
        loop {
            let mut info = MaybeUninit::<libc::signalfd_siginfo>::uninit();
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: reads at most `size` bytes into a buffer of that size.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), info.as_mut_ptr().cast(), size) };
            if n < 0 {
                let err = io::Error::last_os_error();
                return match err.kind() {
                    io::ErrorKind::WouldBlock => Ok(out),
                    io::ErrorKind::Interrupted => continue,
                    _ => Err(err),
                };
            }
            if n as usize != size {
                return Ok(out);
            }
            // SAFETY: the kernel filled the whole struct.
            out.push(unsafe { info.assume_init() }.ssi_signo as libc::c_int);
        }
    }
}

/// Restores the default signal mask; runs in the forked child before `exec`, so the command
/// does not inherit the runner's blocked signals.
pub(crate) fn unblock_all_in_child() {
    // SAFETY: async-signal-safe calls on a local set.
    unsafe {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigemptyset(set.as_mut_ptr());
        libc::sigprocmask(libc::SIG_SETMASK, set.as_ptr(), std::ptr::null_mut());
    }
}

/// A test double: signals are bytes written to a pipe.
#[cfg(test)]
pub(crate) struct PipeSignals {
    read: OwnedFd,
    write: OwnedFd,
}

#[cfg(test)]
impl PipeSignals {
    pub(crate) fn new() -> PipeSignals {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two fds on success.
        let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) };
        assert_eq!(rc, 0);
        // SAFETY: both fds are fresh and owned here.
        unsafe {
            PipeSignals {
                read: OwnedFd::from_raw_fd(fds[0]),
                write: OwnedFd::from_raw_fd(fds[1]),
            }
        }
    }

    /// A handle that can send from another thread.
    pub(crate) fn sender(&self) -> impl Fn(libc::c_int) + Send + 'static {
        let fd = self.write.try_clone().unwrap();
        move |sig| {
            let b = [sig as u8];
            // SAFETY: writes one byte from a live buffer.
            unsafe { libc::write(fd.as_raw_fd(), b.as_ptr().cast(), 1) };
        }
    }
}

#[cfg(test)]
impl SignalSource for PipeSignals {
    fn fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }
    fn drain(&mut self) -> io::Result<Vec<libc::c_int>> {
        let mut buf = [0u8; 64];
        // SAFETY: reads into a live buffer of that size.
        let n = unsafe { libc::read(self.read.as_raw_fd(), buf.as_mut_ptr().cast(), 64) };
        Ok(buf[..n.max(0) as usize]
            .iter()
            .map(|b| *b as libc::c_int)
            .collect())
    }
}

/// Takes every pending signal and returns the first that stops a waiting step; the others
/// mean nothing while no command runs.
pub fn take_stop_signal(signals: &mut dyn SignalSource) -> io::Result<Option<libc::c_int>> {
    Ok(signals.drain()?.into_iter().find(|s| stops_waiting(*s)))
}
