//! Running the command the way a container runtime would have: PATH lookup, inherited
//! stdio, its own process group, signals forwarded, every child reaped (the runner is PID 1
//! of its container, so orphans end up with it).

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
}

impl Default for ProcessExecutor {
    fn default() -> Self {
        ProcessExecutor {
            reap_interval: Duration::from_secs(1),
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
        // SAFETY: the closure only makes async-signal-safe syscalls.
        unsafe {
            cmd.pre_exec(move || {
                unblock_all_in_child();
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
        drop(child); // reaped below with waitpid(-1), together with any orphans
        give_terminal_to(pid);
        loop {
            if let Some(exit) = reap_all(pid) {
                return Ok(exit);
            }
            let mut fds = [pollfd(signals.fd())];
            poll(&mut fds, self.reap_interval).map_err(StartError::Wait)?;
            if fds[0].revents != 0 {
                for sig in signals.drain().map_err(StartError::Wait)? {
                    if sig != libc::SIGCHLD {
                        // SAFETY: plain syscall; the child is not reaped yet, so pid is valid.
                        unsafe { libc::kill(pid, sig) };
                    }
                }
            }
        }
    }
}

/// Reaps every exited child; returns the command's exit once it is among them.
fn reap_all(command: libc::pid_t) -> Option<Exit> {
    let mut found = None;
    loop {
        let mut status = 0;
        // SAFETY: plain syscall with a live out-pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return found;
        }
        if pid == command {
            found = Some(if libc::WIFSIGNALED(status) {
                Exit::Signal(libc::WTERMSIG(status))
            } else {
                Exit::Code(libc::WEXITSTATUS(status))
            });
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
mod tests {
    use super::*;
    use crate::step::signals::PipeSignals;

    /// The executor reaps with `waitpid(-1)` (it is alone in its process in production); in
    /// the multi-threaded test harness the tests that spawn must not reap each other's children.
    static SPAWN: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn run(argv: &[&str]) -> Result<Exit, StartError> {
        let _guard = SPAWN.lock().unwrap_or_else(|e| e.into_inner());
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        let mut exec = ProcessExecutor {
            reap_interval: Duration::from_millis(5),
        };
        exec.execute(&argv, &mut PipeSignals::new())
    }

    #[test]
    fn passes_exit_codes_and_signals_through() {
        assert_eq!(run(&["true"]).unwrap(), Exit::Code(0));
        assert_eq!(run(&["sh", "-c", "exit 3"]).unwrap(), Exit::Code(3));
        assert_eq!(run(&["sh", "-c", "kill -9 $$"]).unwrap(), Exit::Signal(9));
        assert_eq!(Exit::Signal(9).code(), 137);
    }

    #[test]
    fn start_failures_look_like_a_shell() {
        let e = run(&["kueueleuleu-no-such-command"]).unwrap_err();
        assert!(matches!(e, StartError::NotFound { .. }), "{e:?}");
        assert_eq!(e.exit_code(), 127);
        let plain = std::env::temp_dir().join(format!("kueueleuleu-noexec-{}", std::process::id()));
        std::fs::write(&plain, b"#!/bin/sh\n").unwrap();
        let e = run(&[plain.to_str().unwrap()]).unwrap_err();
        assert_eq!(e.exit_code(), 126, "{e:?}");
        std::fs::remove_file(&plain).unwrap();
    }

    #[test]
    fn forwards_signals_to_the_command() {
        let _guard = SPAWN.lock().unwrap_or_else(|e| e.into_inner());
        let argv: Vec<String> = [
            "sh",
            "-c",
            "trap 'exit 42' USR1; while :; do sleep 0.01; done",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut sig = PipeSignals::new();
        let send = sig.sender();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            send(libc::SIGUSR1);
        });
        let mut exec = ProcessExecutor {
            reap_interval: Duration::from_millis(5),
        };
        assert_eq!(exec.execute(&argv, &mut sig).unwrap(), Exit::Code(42));
        t.join().unwrap();
    }
}
