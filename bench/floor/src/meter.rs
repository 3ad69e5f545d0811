//! A process meter finer than `/usr/bin/time`: CPU time to the microsecond and peak RSS from
//! `wait4`, so sub-10 ms runs (100 Jobs, the step runner) are measurable at all.
//!
//! Peak RSS caveat: Linux counts the pages a child inherits up to its `exec` in its peak, so
//! every figure includes a small floor from this meter (what it shows for `/bin/true`).

use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd};
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall clock in nanoseconds: the only clock two processes share without extra crates.
pub fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// `measure [--in FILE] [--out FILE] [--err FILE] [--stamp] -- CMD...` (standard streams
/// default to /dev/null; the command is looked up in PATH) prints one line:
/// `user_s sys_s maxrss_kib wall_s exit_code [start_s]`, where `start_s` (with `--stamp`) is
/// the time from just before the spawn to the moment the final program (`kueueleuleu-bench
/// stamp`, somewhere in CMD) read the clock; CMD's stdout must then be that stamp alone.
pub fn measure(args: &[String]) -> Result<(), String> {
    let (mut input, mut output, mut errors, mut stamp) = (None, None, None, false);
    let mut rest = args.iter();
    let command: Vec<&String> = loop {
        match rest.next().map(String::as_str) {
            Some("--in") => input = rest.next(),
            Some("--out") => output = rest.next(),
            Some("--err") => errors = rest.next(),
            Some("--stamp") => stamp = true,
            Some("--") => break rest.collect(),
            other => return Err(format!("measure: unexpected {other:?}")),
        }
    };
    if command.is_empty() {
        return Err("measure: no command".into());
    }
    let argv: Vec<CString> = command
        .iter()
        .map(|a| CString::new(a.as_bytes()).map_err(|_| format!("{a:?} holds a NUL")))
        .collect::<Result<_, _>>()?;
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let open = |path: Option<&String>, write: bool| -> Result<File, String> {
        let path = path.map_or("/dev/null", String::as_str);
        let file = if write {
            File::create(path)
        } else {
            File::open(path)
        };
        file.map_err(|e| format!("{path}: {e}"))
    };
    let stdin = open(input, false)?;
    let stdout = open(output, true)?;
    let stderr = open(errors, true)?;
    let mut pipe = [-1; 2];
    // SAFETY: plain syscall filling a two-int array.
    if stamp && unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe: {}", std::io::Error::last_os_error()));
    }
    let child_out = if stamp { pipe[1] } else { stdout.as_raw_fd() };
    let start = now_ns();
    // A real fork, not posix_spawn: a vfork-style spawn shares this process's memory until the
    // exec, and Linux would then charge all of it to the child's peak RSS; a fork's child only
    // carries this process's few anonymous pages.
    // SAFETY: single-threaded process; the child only calls async-signal-safe functions.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: in the child, dup2/execvp/_exit only.
        unsafe {
            libc::dup2(stdin.as_raw_fd(), 0);
            libc::dup2(child_out, 1);
            libc::dup2(stderr.as_raw_fd(), 2);
            libc::execvp(argv_ptrs[0], argv_ptrs.as_ptr());
            libc::_exit(127);
        }
    }
    if pid < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    let mut stamped = String::new();
    if stamp {
        // SAFETY: we own both ends of the pipe; the write end must close here for EOF.
        unsafe { libc::close(pipe[1]) };
        // SAFETY: the read end is ours alone from here on.
        let mut reader = unsafe { File::from_raw_fd(pipe[0]) };
        reader
            .read_to_string(&mut stamped)
            .map_err(|e| e.to_string())?;
    }
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: plain syscall on our own child.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = (now_ns() - start) as f64 / 1e9;
    if waited < 0 {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let mut line = format!(
        "{:.6} {:.6} {} {wall:.6} {code}",
        secs(usage.ru_utime),
        secs(usage.ru_stime),
        usage.ru_maxrss
    );
    if stamp {
        let at: u128 = stamped.trim().parse().map_err(|_| {
            format!("measure --stamp: the command printed {stamped:?}, not a stamp")
        })?;
        line += &format!(" {:.6}", at.saturating_sub(start) as f64 / 1e9);
    }
    println!("{line}");
    Ok(())
}
