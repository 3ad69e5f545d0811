//! The runner binary on its own, without the emulator: command lines it must refuse (S6), a
//! predecessor directory that does not exist (S3), and a termination path that is a FIFO
//! (S4). Each must end at once, with an outcome recorded where one can be.

use super::*;
use std::process::{Command, Output};

fn runner(args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_kueueleuleu-step"))
        .args(args)
        .output()
        .expect("run kueueleuleu-step");
    (out, start.elapsed())
}

fn scratch(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("e2e-step-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("run")).unwrap();
    dir
}

fn done(run_dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(run_dir.join("done")).unwrap()).unwrap()
}

#[test]
fn waiting_for_its_own_run_dir_is_a_usage_error_recorded_for_successors() {
    let dir = scratch("self");
    let run = dir.join("run");
    let r = run.to_str().unwrap();
    let own = format!("{r}/");
    let term = dir.join("term");
    let (out, took) = runner(&[
        "run",
        "--name",
        "s",
        "--run-dir",
        r,
        "--wait-for",
        &own,
        "--termination-path",
        term.to_str().unwrap(),
        "--command-len",
        "1",
        "--",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(done(&run)["reason"], "StartFailed");
    assert!(String::from_utf8_lossy(&out.stderr).contains("wait for itself"));
    assert!(out.stdout.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_empty_run_dir_is_a_usage_error_that_writes_nothing() {
    let dir = scratch("empty");
    let (out, _) = Command::new(env!("CARGO_BIN_EXE_kueueleuleu-step"))
        .args([
            "run",
            "--name",
            "s",
            "--run-dir",
            "",
            "--command-len",
            "1",
            "--",
            "true",
        ])
        .current_dir(&dir)
        .output()
        .map(|o| (o, ()))
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("absolute"));
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("run")],
        "wrote into the cwd"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_predecessor_dir_that_does_not_exist_fails_at_once() {
    let dir = scratch("missing");
    let run = dir.join("run");
    let missing = dir.join("not-mounted");
    let term = dir.join("term");
    let (out, took) = runner(&[
        "run",
        "--name",
        "s",
        "--run-dir",
        run.to_str().unwrap(),
        "--wait-for",
        missing.to_str().unwrap(),
        "--termination-path",
        term.to_str().unwrap(),
        "--command-len",
        "1",
        "--",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let rec = done(&run);
    assert_eq!(rec["reason"], "PredecessorLost");
    assert!(
        rec["message"].as_str().unwrap().contains("does not exist"),
        "{rec}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_fifo_termination_path_does_not_block_the_runner() {
    let dir = scratch("fifo");
    let run = dir.join("run");
    let fifo = dir.join("term");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let mut child = Command::new(env!("CARGO_BIN_EXE_kueueleuleu-step"))
        .args(["run", "--name", "s", "--run-dir", run.to_str().unwrap()])
        .args(["--termination-path", fifo.to_str().unwrap()])
        .args(["--command-len", "1", "--", "true"])
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("the runner blocked on a FIFO termination path");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(0));
    assert_eq!(done(&run)["reason"], "Succeeded");
    std::fs::remove_dir_all(&dir).unwrap();
}
