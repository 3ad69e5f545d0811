//! Running the `kueueleuleu` binary the way a pipeline does: arguments, bytes on stdin, and
//! everything it wrote and its exit status captured. Stdin is written from a thread so that a
//! large input and a large output cannot block each other.

use std::ffi::OsStr;
use std::io::Write;
use std::process::{Command, Stdio};

/// What one run wrote, and how it ended.
pub struct Run {
    pub stdout: Vec<u8>,
    pub stderr: String,
    /// `None` when a signal ended it.
    pub code: Option<i32>,
}

#[allow(dead_code)] // each test file uses a few of these
impl Run {
    /// Stdout as text; the converter only ever writes UTF-8.
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.stdout).expect("stdout is UTF-8")
    }

    /// The exit code; a run ended by a signal is a test failure.
    pub fn exit(&self) -> i32 {
        self.code.expect("exited, not killed by a signal")
    }
}

/// The command for the binary under test, to add environment or arguments to.
#[allow(dead_code)]
pub fn command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kueueleuleu"))
}

/// Runs the binary with `args` and `stdin`.
#[allow(dead_code)]
pub fn kueueleuleu<S: AsRef<OsStr>>(args: &[S], stdin: &[u8]) -> Run {
    let mut cmd = command();
    cmd.args(args);
    run(cmd, stdin)
}

/// Runs `cmd` with `stdin` piped in and stdout and stderr captured.
pub fn run(mut cmd: Command, stdin: &[u8]) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kueueleuleu starts");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // The binary may stop reading early (a refused input): that is not our failure.
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("kueueleuleu runs");
    writer.join().expect("the stdin writer does not panic");
    Run {
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    }
}
