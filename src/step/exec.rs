//! Running the command the way a container runtime would have: PATH lookup, inherited
//! stdio, its own process group, signals forwarded to that whole group (a shell's background
//! jobs included). As PID 1 of its container the runner reaps every orphan that ends up with
//! it; anywhere else it reaps only its own command, and leaves other children alone.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use super::signals::{SignalSource, stops_waiting, unblock_all_in_child};
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

/// How one run of the command ended, with what the runner did to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ran {
    /// How the command's process ended.
    pub exit: Exit,
    /// The time limit was reached and the runner stopped the command (SIGTERM, then SIGKILL
    /// after the grace period); `exit` says which of them, if any, ended it.
    pub timed_out: bool,
    /// A stop signal (SIGTERM, SIGINT, SIGHUP, SIGQUIT) came from outside while it ran and
    /// was forwarded: the kubelet is stopping the container, so the step must not retry.
    pub stopped: Option<i32>,
}

impl Ran {
    /// A run that ended on its own, nobody stopping it.
    pub fn plain(exit: Exit) -> Ran {
        Ran {
            exit,
            timed_out: false,
            stopped: None,
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
    /// Runs `argv` (non-empty), forwarding signals read from `signals`, until it exits; past
    /// `limit` it is stopped (SIGTERM to its group, SIGKILL after the executor's grace).
    fn execute(
        &mut self,
        argv: &[String],
        limit: Option<Duration>,
        signals: &mut dyn SignalSource,
    ) -> Result<Ran, StartError>;
}

/// How long a timed-out command gets between SIGTERM and SIGKILL by default: the kubelet's
/// own default `terminationGracePeriodSeconds` (a Pod's actual value is not visible inside).
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(30);

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
    /// Time between SIGTERM and SIGKILL when the command runs past its limit.
    pub kill_grace: Duration,
}

impl Default for ProcessExecutor {
    fn default() -> Self {
        ProcessExecutor {
            reap_interval: Duration::from_secs(1),
            nofile: None,
            // SAFETY: plain syscall.
            reap_orphans: unsafe { libc::getpid() } == 1,
            kill_grace: DEFAULT_KILL_GRACE,
        }
    }
}

impl Executor for ProcessExecutor {
    fn execute(
        &mut self,
        argv: &[String],
        limit: Option<Duration>,
        signals: &mut dyn SignalSource,
    ) -> Result<Ran, StartError> {
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
        let mut ran = Ran::plain(Exit::Code(0));
        // The next escalation: SIGTERM when the limit is reached, then SIGKILL.
        let started = Instant::now();
        let mut next = limit.map(|l| (started + l, libc::SIGTERM));
        loop {
            if let Some(exit) = reap(pid, self.reap_orphans) {
                ran.exit = exit;
                return Ok(ran);
            }
            let now = Instant::now();
            if let Some((at, sig)) = next
                && now >= at
            {
                ran.timed_out = true;
                // SAFETY: as below; the leader is not reaped yet.
                unsafe { libc::kill(-pid, sig) };
                next = (sig == libc::SIGTERM).then(|| (now + self.kill_grace, libc::SIGKILL));
                continue;
            }
            let wait = next.map_or(self.reap_interval, |(at, _)| {
                self.reap_interval.min(at.saturating_duration_since(now))
            });
            let mut fds = [pollfd(signals.fd())];
            poll(&mut fds, wait).map_err(StartError::Wait)?;
            if fds[0].revents != 0 {
                for sig in signals.drain().map_err(StartError::Wait)? {
                    if sig != libc::SIGCHLD {
                        if stops_waiting(sig) && ran.stopped.is_none() {
                            ran.stopped = Some(sig);
                        }
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
