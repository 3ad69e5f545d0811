//! Signals and deaths: a SIGKILLed runner, the kubelet's SIGTERM to a running and to waiting
//! steps, and a shell step whose background jobs must stop with it.

use super::*;

#[test]
fn a_killed_runner_fails_its_successors_fast() {
    if !kubelet::require_sandbox("a_killed_runner_fails_its_successors_fast") {
        return;
    }
    let marker = format!("{}.{}", 30 + std::process::id() % 9, std::process::id());
    let script = format!("echo up; exec sleep {marker}");
    let steps = [
        ("s0", script.as_str()),
        ("s1", "echo s1 ran"),
        ("s2", "echo s2 ran"),
    ];
    let pod = kubelet()
        .start(&convert(&pod("killed", "Never", &steps, "")))
        .unwrap();
    pod.wait_until(DEADLINE, "s0 running and its successors waiting", |p| {
        p.container("s0").live_logs.iter().any(|l| l.text == "up")
            && ["s1", "s2"]
                .iter()
                .all(|n| p.container(n).live_logs.is_empty() && p.container(n).pid.is_some())
    })
    .unwrap();
    let killed_at = Instant::now();
    pod.signal("s0", libc::SIGKILL);
    // Successors end fast, without a record from s0: far sooner than the start grace (the
    // milliseconds it really takes are printed; speed is the benchmarks' business).
    pod.wait_until(Duration::from_secs(10), "s1 and s2 to end", |p| {
        ["s1", "s2"]
            .iter()
            .all(|n| !p.container(n).attempts.is_empty())
    })
    .unwrap();
    eprintln!("successors ended {:?} after the kill", killed_at.elapsed());
    let run = pod.wait(DEADLINE).unwrap();
    assert_eq!(run.phase, Phase::Failed);
    assert_eq!(exit_code(&run, "s0"), 137);
    assert_eq!(
        run.container("s0").last().unwrap().message,
        "",
        "a SIGKILLed runner records nothing"
    );
    assert_eq!(record(&run, "s1")["reason"], "PredecessorLost");
    assert_eq!(record(&run, "s2")["reason"], "Skipped");
    for n in ["s1", "s2"] {
        assert!(!run.container(n).stdout().contains("ran"));
    }
    // The command died with its runner.
    let until = Instant::now() + Duration::from_secs(10);
    while processes_with(&marker) > 0 {
        assert!(
            Instant::now() < until,
            "the step's command outlived its runner"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn sigterm_reaches_the_running_command_and_ends_the_waiting_steps() {
    if !kubelet::require_sandbox("sigterm_reaches_the_running_command_and_ends_the_waiting_steps") {
        return;
    }
    let steps = [
        ("s0", "echo s0 ran"),
        ("s1", "echo running; exec sleep 30"),
        ("s2", "echo s2 ran"),
        ("s3", "echo s3 ran"),
    ];
    let pod = kubelet()
        .start(&convert(&pod("term", "Never", &steps, "")))
        .unwrap();
    pod.wait_until(DEADLINE, "s1 running, s2 and s3 waiting", |p| {
        p.container("s1")
            .live_logs
            .iter()
            .any(|l| l.text == "running")
            && ["s2", "s3"].iter().all(|n| p.container(n).pid.is_some())
    })
    .unwrap();
    // The waiting runners are in their wait once they have claimed their run dirs.
    let until = Instant::now() + DEADLINE;
    while !(2..=3).all(|i| {
        pod.dir()
            .join(format!("volumes/kueueleuleu-run-{i}/started"))
            .exists()
    }) {
        assert!(
            Instant::now() < until,
            "s2 and s3 never claimed their run dirs"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // The waiting steps first, so their outcome cannot be a reaction to s1's failure.
    pod.signal("s3", libc::SIGTERM);
    pod.signal("s2", libc::SIGTERM);
    pod.signal_all(libc::SIGTERM);
    let run = pod.wait(Duration::from_secs(20)).unwrap();
    assert_eq!(run.phase, Phase::Failed);
    assert_eq!(exit_code(&run, "s0"), 0);
    assert_eq!(exit_code(&run, "s1"), 143);
    assert_eq!(record(&run, "s1")["reason"], "Failed");
    assert_eq!(record(&run, "s1")["signal"], 15);
    for n in ["s2", "s3"] {
        assert_eq!(exit_code(&run, n), 143, "{n}");
        assert_eq!(record(&run, n)["reason"], "Terminated", "{n}");
        assert!(!run.container(n).stdout().contains("ran"));
    }
}

#[test]
fn sigterm_stops_a_shell_step_with_its_background_jobs() {
    if !kubelet::require_sandbox("sigterm_stops_a_shell_step_with_its_background_jobs") {
        return;
    }
    // Two background jobs and a `wait`: the shell alone would die and leave them running.
    let marker = format!("{}.{}", 300 + std::process::id() % 9, std::process::id());
    let script = format!("sleep {marker} & sleep {marker} & echo up; wait");
    let steps = [("s0", script.as_str()), ("s1", "echo s1 ran")];
    let pod = kubelet()
        .start(&convert(&pod("group", "Never", &steps, "")))
        .unwrap();
    pod.wait_until(DEADLINE, "s0 running", |p| {
        p.container("s0").live_logs.iter().any(|l| l.text == "up")
    })
    .unwrap();
    pod.signal("s0", libc::SIGTERM);
    let run = pod.wait(DEADLINE).unwrap();
    assert_eq!(exit_code(&run, "s0"), 143);
    assert_eq!(record(&run, "s0")["signal"], 15);
    assert_eq!(record(&run, "s1")["reason"], "Skipped");
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let survivors = processes_with(&marker);
        if survivors == 0 {
            break;
        }
        assert!(
            Instant::now() < until,
            "{survivors} background job(s) outlived the step"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// How many live processes have `marker` in their command line.
pub fn processes_with(marker: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| {
            let path = e.ok()?.path();
            let stat = std::fs::read_to_string(path.join("stat")).ok()?;
            let zombie = stat.rsplit(')').next()?.trim_start().starts_with('Z');
            let cmd = std::fs::read(path.join("cmdline")).ok()?;
            (!zombie && String::from_utf8_lossy(&cmd).contains(marker)).then_some(())
        })
        .count()
}
