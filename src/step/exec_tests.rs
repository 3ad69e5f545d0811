use super::*;
use crate::step::signals::PipeSignals;

fn executor() -> ProcessExecutor {
    ProcessExecutor {
        reap_interval: Duration::from_millis(5),
        nofile: None,
        reap_orphans: false,
        kill_grace: Duration::from_millis(300),
    }
}

fn run(argv: &[&str]) -> Result<Exit, StartError> {
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    executor()
        .execute(&argv, None, &mut PipeSignals::new())
        .map(|r| r.exit)
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
    let ran = executor().execute(&argv, None, &mut sig).unwrap();
    assert_eq!(ran, Ran::plain(Exit::Code(42)), "USR1 is not a stop signal");
    t.join().unwrap();
}

fn alive(pid: libc::pid_t) -> bool {
    // A zombie is dead for this purpose: its state letter is Z.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

#[test]
fn signals_reach_the_whole_process_group() {
    // `sh -c 'sleep & wait'`: the background sleep is stopped together with the shell.
    let dir = crate::step::test_support::fresh_dir("exec-group");
    let pidfile = dir.join("bg");
    let script = format!("sleep 300 & echo $! > {}; wait", pidfile.display());
    let argv: Vec<String> = vec!["sh".into(), "-c".into(), script];
    let mut sig = PipeSignals::new();
    let send = sig.sender();
    let file = pidfile.clone();
    let t = std::thread::spawn(move || {
        while std::fs::read_to_string(&file).map_or(true, |s| !s.ends_with('\n')) {
            std::thread::sleep(Duration::from_millis(5));
        }
        send(libc::SIGTERM);
    });
    let ran = executor().execute(&argv, None, &mut sig).unwrap();
    assert_eq!(ran.exit, Exit::Signal(libc::SIGTERM));
    assert_eq!(
        ran.stopped,
        Some(libc::SIGTERM),
        "the kubelet's stop is noted"
    );
    assert!(!ran.timed_out);
    t.join().unwrap();
    let bg: libc::pid_t = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while alive(bg) {
        assert!(
            std::time::Instant::now() < until,
            "the background job {bg} outlived SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_runner_that_is_not_pid_1_reaps_only_its_own_command() {
    let mut other = std::process::Command::new("sh")
        .args(["-c", "exit 7"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(100)); // `other` has exited, unreaped
    assert_eq!(run(&["sh", "-c", "sleep 0.05"]).unwrap(), Exit::Code(0));
    // Its status is still ours to collect: the executor did not steal it.
    assert_eq!(other.wait().unwrap().code(), Some(7));
}

#[test]
fn the_command_gets_the_open_files_limit_it_was_given() {
    let mut exec = executor();
    exec.nofile = Some(libc::rlimit {
        rlim_cur: 77,
        rlim_max: libc::RLIM_INFINITY,
    });
    let argv: Vec<String> = ["sh", "-c", "test \"$(ulimit -n)\" = 77"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    // rlim_max may be lower than infinity here; setrlimit then fails and the limit stays.
    let mut current = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: live out-pointer.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut current) };
    exec.nofile.as_mut().unwrap().rlim_max = current.rlim_max;
    assert_eq!(
        exec.execute(&argv, None, &mut PipeSignals::new())
            .unwrap()
            .exit,
        Exit::Code(0)
    );
}

fn argv(script: &str) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}

#[test]
fn a_command_past_its_limit_gets_sigterm() {
    let started = Instant::now();
    let ran = executor()
        .execute(
            &argv("sleep 30"),
            Some(Duration::from_millis(200)),
            &mut PipeSignals::new(),
        )
        .unwrap();
    assert_eq!(ran.exit, Exit::Signal(libc::SIGTERM));
    assert!(ran.timed_out && ran.stopped.is_none(), "{ran:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_command_that_ignores_sigterm_gets_sigkill_after_the_grace() {
    // The shell traps TERM and goes on; its background sleep is in the same group and dies
    // of TERM, so the shell's loop is what must be killed.
    let script = "trap 'echo term' TERM; while :; do sleep 0.05; done";
    let ran = executor()
        .execute(
            &argv(script),
            Some(Duration::from_millis(100)),
            &mut PipeSignals::new(),
        )
        .unwrap();
    assert_eq!(ran.exit, Exit::Signal(libc::SIGKILL));
    assert!(ran.timed_out);
}

#[test]
fn a_command_within_its_limit_is_left_alone() {
    let ran = executor()
        .execute(
            &argv("exit 4"),
            Some(Duration::from_secs(30)),
            &mut PipeSignals::new(),
        )
        .unwrap();
    assert_eq!(ran, Ran::plain(Exit::Code(4)));
}

#[test]
fn a_command_that_exits_cleanly_on_sigterm_still_timed_out() {
    let ran = executor()
        .execute(
            &argv("trap 'exit 0' TERM; while :; do sleep 0.02; done"),
            Some(Duration::from_millis(100)),
            &mut PipeSignals::new(),
        )
        .unwrap();
    assert_eq!(ran.exit, Exit::Code(0));
    assert!(ran.timed_out, "ending after the limit is still a timeout");
}
