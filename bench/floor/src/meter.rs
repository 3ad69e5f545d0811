//! A process meter finer than `/usr/bin/time`: CPU time to the microsecond and peak RSS from
//! `wait4`, so sub-10 ms runs (100 Jobs, the step runner) are measurable at all.
//!
//! Peak RSS caveat: Linux counts the spawning process's pages up to the `exec` in the child's
//! peak, so every figure includes this small meter's own footprint (about 1 MiB), the same for
//! every command; running `/bin/true` under it shows that floor.

use std::fs::File;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall clock in nanoseconds: the only clock two processes share without extra crates.
pub fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// `measure [--in FILE] [--out FILE] [--stamp] -- CMD...` prints one line:
/// `user_s sys_s maxrss_kib wall_s exit_code [start_s]`, where `start_s` (with `--stamp`) is
/// the time from just before the spawn to the moment the final program (`kueueleuleu-bench
/// stamp`, somewhere in CMD) read the clock; CMD's stdout must then be that stamp alone.
pub fn measure(args: &[String]) -> Result<(), String> {
    let (mut input, mut output, mut stamp) = (None, None, false);
    let mut rest = args.iter();
    let command: Vec<&String> = loop {
        match rest.next().map(String::as_str) {
            Some("--in") => input = rest.next(),
            Some("--out") => output = rest.next(),
            Some("--stamp") => stamp = true,
            Some("--") => break rest.collect(),
            other => return Err(format!("measure: unexpected {other:?}")),
        }
    };
    let (program, arguments) = command.split_first().ok_or("measure: no command")?;
    let open = |path: Option<&String>, write: bool| -> Result<Stdio, String> {
        let Some(path) = path else {
            return Ok(Stdio::null());
        };
        let file = if write { File::create(path) } else { File::open(path) };
        file.map(Stdio::from).map_err(|e| format!("{path}: {e}"))
    };
    let mut cmd = Command::new(program);
    cmd.args(arguments).stdin(open(input, false)?);
    cmd.stdout(if stamp { Stdio::piped() } else { open(output, true)? });
    let start = now_ns();
    let mut child = cmd.spawn().map_err(|e| format!("{program}: {e}"))?;
    let mut stamped = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        pipe.read_to_string(&mut stamped).map_err(|e| e.to_string())?;
    }
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: plain syscall on our own child, which std has not reaped (we never call wait).
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = (now_ns() - start) as f64 / 1e9;
    if pid < 0 {
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
        let at: u128 = stamped
            .trim()
            .parse()
            .map_err(|_| format!("measure --stamp: the command printed {stamped:?}, not a stamp"))?;
        line += &format!(" {:.6}", at.saturating_sub(start) as f64 / 1e9);
    }
    println!("{line}");
    Ok(())
}
