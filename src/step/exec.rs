//! Running the command the way a container runtime would have: PATH lookup, inherited
//! stdio, its own process group, signals forwarded to that whole group (a shell's background
//! jobs included). As PID 1 of its container the runner reaps every orphan that ends up with
//! it; anywhere else it reaps only its own command, and leaves other children alone.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use super::signals::{SignalSource, unblock_all_in_child};
use super::wait::{poll, pollfd};
use crate::protocol::exit_code;

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// It was killed by this signal.
    Signal(i32),
}

impl Exit {
    /// The container exit code a shell or runtime would report: the code, or 128+signal.
    pub fn code(self) -> i32 {
        match self {
            Exit::Code(c) => c,
            Exit::Signal(s) => exit_code::SIGNAL_BASE + s,
        }
    }
}

/// Why the command did not start; the runner reports it like a shell would (127/126).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{program}: command not found ({source})")]
    NotFound { program: String, source: io::Error },
    #[error("{program}: cannot execute ({source})")]
    NotExecutable { program: String, source: io::Error },
    #[error("lost track of the command: {0}")]
    Wait(io::Error),
}

impl StartError {
    /// The exit code the step ends with.
    pub fn exit_code(&self) -> i32 {
        match self {
            StartError::NotFound { .. } => exit_code::NOT_FOUND,
            StartError::NotExecutable { .. } => exit_code::NOT_EXECUTABLE,
            StartError::Wait(_) => exit_code::INTERNAL,
        }
    }
}

/// Runs the command to completion.
pub trait Executor {
    /// Runs `argv` (non-empty), forwarding signals read from `signals`, until it exits.
    fn execute(
        &mut self,
        argv: &[String],
        signals: &mut dyn SignalSource,
    ) -> Result<Exit, StartError>;
}

/// The real executor.
#[derive(Debug, Clone)]
pub struct ProcessExecutor {
    /// How often to reap even without a `SIGCHLD`: a guard against a lost wake-up, so a
    /// finished command can never leave the runner hanging.
    pub reap_interval: Duration,
    /// The open-files limit to give the command: the runner raises its own soft limit so a
    /// tiny one cannot stop it from recording, and the command gets the one it was given.
    pub nofile: Option<libc::rlimit>,
    /// Reap every exited child, not only the command: true when the runner is PID 1.
    pub reap_orphans: bool,
}

impl Default for ProcessExecutor {
    fn default() -> Self {
        ProcessExecutor {
            reap_interval: Duration::from_secs(1),
            nofile: None,
            // SAFETY: plain syscall.
            reap_orphans: unsafe { libc::getpid() } == 1,
        }
    }
}

impl Executor for ProcessExecutor {
    fn execute(
        &mut self,
        argv: &[String],
        signals: &mut dyn SignalSource,
    ) -> Result<Exit, StartError> {
        let program = argv[0].clone();
        let mut cmd = Command::new(&program);
        cmd.args(&argv[1..]).process_group(0);
        // SAFETY: getpid is async-signal-safe.
        let runner = unsafe { libc::getpid() };
        let nofile = self.nofile;
        // SAFETY: the closure only makes async-signal-safe syscalls.
        unsafe {
            cmd.pre_exec(move || {
                unblock_all_in_child();
                if let Some(limit) = &nofile {
                    libc::setrlimit(libc::RLIMIT_NOFILE, limit);
                }
                // The command never outlives its runner (outside a PID namespace, where the
                // kernel would otherwise not clean up after a killed runner).
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
                if libc::getppid() != runner {
                    libc::_exit(exit_code::SIGNAL_BASE + libc::SIGKILL);
                }
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => StartError::NotFound {
                program: program.clone(),
                source,
            },
            _ => StartError::NotExecutable {
                program: program.clone(),
                source,
            },
        })?;
        let pid = child.id() as libc::pid_t;
        drop(child); // reaped below with waitpid
        give_terminal_to(pid);
        loop {
            if let Some(exit) = reap(pid, self.reap_orphans) {
                return Ok(exit);
            }
            let mut fds = [pollfd(signals.fd())];
            poll(&mut fds, self.reap_interval).map_err(StartError::Wait)?;
            if fds[0].revents != 0 {
                for sig in signals.drain().map_err(StartError::Wait)? {
                    if sig != libc::SIGCHLD {
                        // The whole group: a shell's background jobs are stopped with it.
                        // SAFETY: plain syscall; the command (the group's leader) is not
                        // reaped yet, so the group id cannot have been reused.
                        unsafe { libc::kill(-pid, sig) };
                    }
                }
            }
        }
    }
}

/// Reaps exited children without blocking; returns the command's exit once it is among
/// them. Only the command unless `orphans` (the runner is PID 1): a runner elsewhere must not
/// steal the exit status of children that are not its own.
fn reap(command: libc::pid_t, orphans: bool) -> Option<Exit> {
    let mut found = None;
    loop {
        let mut status = 0;
        let target = if orphans { -1 } else { command };
        // SAFETY: plain syscall with a live out-pointer.
        let pid = unsafe { libc::waitpid(target, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return found;
        }
        if pid == command {
            found = Some(if libc::WIFSIGNALED(status) {
                Exit::Signal(libc::WTERMSIG(status))
            } else {
                Exit::Code(libc::WEXITSTATUS(status))
            });
            if !orphans {
                return found;
            }
        }
    }
}

/// With a TTY (`tty: true`) the command's process group must be in the foreground, or it
/// would be stopped the moment it reads the terminal.
fn give_terminal_to(pgid: libc::pid_t) {
    // SAFETY: plain syscalls on fd 0.
    unsafe {
        if libc::isatty(0) == 1 {
            libc::tcsetpgrp(0, pgid);
        }
    }
}

#[cfg(test)]
#[path = "exec_tests.rs"]
mod tests;
