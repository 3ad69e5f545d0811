//! Per-step controls under the emulator: `--timeout`, `--on-error continue`, `--retries` and
//! `--debug on-failure` (continued or failed with `kueueleuleu-step debug`, run inside the
//! container as `kubectl exec` would). The Pods set them in the `kueueleuleu.io/steps`
//! annotation and are converted by the real binary, and every run is also read back through
//! `kueueleuleu status`'s rules, from the Pod status the emulator reports.

use super::*;
use k8s_openapi::api::core::v1::Pod;
use kueueleuleu::status::{StepState, StepStatus, step_statuses};

/// Converts `pod_yaml` with its `kueueleuleu.io/steps` annotation set to `steps` (YAML).
pub(super) fn with_steps(pod_yaml: &str, steps: &str) -> String {
    let (head, rest) = pod_yaml.split_once("\nspec:\n").unwrap();
    let annotation = serde_json::to_string(steps).unwrap();
    let yaml =
        format!("{head}\n  annotations:\n    kueueleuleu.io/steps: {annotation}\nspec:\n{rest}");
    convert(&yaml)
}

/// What `kueueleuleu status` shows for the finished run.
pub(super) fn statuses(yaml: &str, run: &PodRun) -> Vec<StepStatus> {
    let mut pod: serde_json::Value = serde_yaml::from_str(yaml).unwrap();
    pod["status"] = run.status();
    let pod: Pod = serde_json::from_value(pod).unwrap();
    step_statuses(&pod)
}

pub(super) fn step<'a>(steps: &'a [StepStatus], name: &str) -> &'a StepStatus {
    steps.iter().find(|s| s.name == name).unwrap()
}

const SHORT_GRACE: &str = "    env:\n    - name: KUEUELEULEU_STEP_KILL_GRACE\n      value: 1s\n";

#[test]
fn a_step_past_its_timeout_is_stopped_and_its_successor_skipped() {
    if !kubelet::require_sandbox("a_step_past_its_timeout_is_stopped_and_its_successor_skipped") {
        return;
    }
    // `slow` ignores SIGTERM (so does its sleep, which inherits it): SIGKILL after the grace.
    let y = with_steps(
        &pod(
            "timeout",
            "Never",
            &[
                ("polite", "sleep 30"),
                ("slow", "trap '' TERM; sleep 30"),
                ("after", "echo after ran"),
            ],
            SHORT_GRACE,
        ),
        "polite: {timeout: 1s, onError: continue}\nslow: {timeout: 1s}",
    );
    let started = Instant::now();
    let run = kubelet().run(&y, DEADLINE).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(run.phase, Phase::Failed);
    let polite = record(&run, "polite");
    assert_eq!(
        (&polite["reason"], &polite["exitCode"], &polite["signal"]),
        (&"TimedOut".into(), &124.into(), &15.into()),
        "{polite}"
    );
    assert_eq!(exit_code(&run, "polite"), 0, "continued after its timeout");
    let slow = record(&run, "slow");
    assert_eq!(
        (&slow["reason"], &slow["signal"]),
        (&"TimedOut".into(), &9.into()),
        "{slow}"
    );
    assert_eq!(exit_code(&run, "slow"), 124);
    let took = gap_ms(time(&slow, "startedAt"), time(&slow, "finishedAt"));
    assert!(
        (1900.0..8000.0).contains(&took),
        "timeout 1s + grace 1s took {took} ms"
    );
    assert_eq!(record(&run, "after")["reason"], "Skipped");
    assert_eq!(run.container("after").stdout(), "");
    let st = statuses(&y, &run);
    assert_eq!(step(&st, "slow").state, StepState::TimedOut);
    assert_eq!(step(&st, "slow").exit_code, Some(124));
    let p = step(&st, "polite");
    assert_eq!(
        (p.state, p.continued, p.exit_code),
        (StepState::TimedOut, true, Some(124))
    );
}

#[test]
fn on_error_continue_runs_the_successors_and_the_pod_succeeds() {
    if !kubelet::require_sandbox("on_error_continue_runs_the_successors_and_the_pod_succeeds") {
        return;
    }
    let y = with_steps(
        &pod(
            "continue",
            "Never",
            &[("lint", "echo lint; exit 3"), ("build", "echo build ran")],
            "",
        ),
        "lint: {onError: continue}",
    );
    let run = kubelet().run(&y, DEADLINE).unwrap();
    assert_eq!(run.phase, Phase::Succeeded, "{:#}", run.status());
    assert_eq!(exit_code(&run, "lint"), 0);
    let lint = record(&run, "lint");
    assert_eq!(
        (&lint["reason"], &lint["exitCode"], &lint["continued"]),
        (&"Failed".into(), &3.into(), &true.into()),
        "{lint}"
    );
    assert_eq!(run.container("build").stdout(), "build ran\n");
    assert_ordered(&run, &["lint", "build"]);
    let st = statuses(&y, &run);
    let l = step(&st, "lint");
    assert_eq!(
        (l.state, l.exit_code, l.continued),
        (StepState::Failed, Some(3), true)
    );
    assert_eq!(step(&st, "build").state, StepState::Succeeded);
}

#[test]
fn retries_rerun_the_command_in_place_and_count_the_attempts() {
    if !kubelet::require_sandbox("retries_rerun_the_command_in_place_and_count_the_attempts") {
        return;
    }
    // Fails twice, then succeeds: the count lives in the step's own run directory.
    let flaky = "f=/kueueleuleu/run/0/count; n=$(($(cat $f 2>/dev/null || echo 0) + 1)); \
                 echo $n > $f; echo attempt $n; [ $n -ge 3 ]";
    let y = with_steps(
        &pod(
            "retries",
            "Never",
            &[
                ("flaky", flaky),
                ("after", "echo after ran"),
                ("never", "exit 5"),
            ],
            "",
        ),
        "flaky: {retries: 2}\nnever: {retries: 1}",
    );
    let run = kubelet().run(&y, DEADLINE).unwrap();
    assert_eq!(
        run.container("flaky").attempts.len(),
        1,
        "retried in place, no restart"
    );
    assert_eq!(
        run.container("flaky").stdout(),
        "attempt 1\nattempt 2\nattempt 3\n"
    );
    let logs = run.container("flaky").logs();
    assert!(
        logs.contains("attempt 1 of 3 ended Failed (exit code 1); retrying in 1s"),
        "{logs}"
    );
    assert!(
        logs.contains("attempt 2 of 3 ended Failed (exit code 1); retrying in 2s"),
        "{logs}"
    );
    let r = record(&run, "flaky");
    assert_eq!(
        (&r["reason"], &r["attempts"]),
        (&"Succeeded".into(), &3.into()),
        "{r}"
    );
    // Back-off 1 s + 2 s between the attempts.
    let took = gap_ms(time(&r, "startedAt"), time(&r, "finishedAt"));
    assert!(took >= 3000.0, "{took} ms");
    assert_eq!(run.container("after").stdout(), "after ran\n");
    let never = record(&run, "never");
    assert_eq!(
        (&never["exitCode"], &never["attempts"]),
        (&5.into(), &2.into()),
        "{never}"
    );
    assert_eq!(run.phase, Phase::Failed);
    let st = statuses(&y, &run);
    assert_eq!(step(&st, "flaky").attempts, Some(3));
    assert_eq!(step(&st, "never").attempts, Some(2));
    assert_eq!(step(&st, "never").state, StepState::Failed);
}

/// Runs `kueueleuleu-step debug WORD` in the held container: inside its mount namespace
/// (as `kubectl exec` does) when the test may enter it, else with `--run-dir` on the host.
fn debug(pod: &kubelet::RunningPod, name: &str, run_dir: &str, word: &str) -> String {
    let runner = kueueleuleu::protocol::RUNNER_PATH;
    // SAFETY: plain syscall.
    let root = unsafe { libc::geteuid() } == 0;
    let out = if root && Path::new("/usr/bin/nsenter").exists() {
        let pid = pod.pid(name).expect("the held step runs").to_string();
        std::process::Command::new("/usr/bin/nsenter")
            .args(["-t", &pid, "-m", "-r", "--", runner, "debug", word])
            .output()
    } else {
        let dir = pod.dir().join("volumes").join(run_dir);
        std::process::Command::new(env!("CARGO_BIN_EXE_kueueleuleu-step"))
            .args(["debug", word, "--run-dir"])
            .arg(dir)
            .output()
    }
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "debug {word}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn held_pod(name: &str) -> (String, kubelet::RunningPod) {
    let y = with_steps(
        &pod(
            name,
            "Never",
            &[
                ("test", "echo testing; exit 3"),
                ("deploy", "echo deploy ran"),
            ],
            "",
        ),
        "test: {debug: onFailure}",
    );
    let pod = kubelet().start(&y).unwrap();
    pod.wait_until(DEADLINE, "the failed step to be held", |v| {
        v.container("test")
            .live_logs
            .iter()
            .any(|l| l.text.contains("debug continue"))
    })
    .unwrap();
    (y, pod)
}

#[test]
fn a_held_step_goes_on_with_debug_continue() {
    if !kubelet::require_sandbox("a_held_step_goes_on_with_debug_continue") {
        return;
    }
    let (y, pod) = held_pod("debug-continue");
    // Held: the container is still up, the successor still waits, the marker says why.
    std::thread::sleep(Duration::from_millis(300));
    let marker = pod.dir().join("volumes/kueueleuleu-run-0/debug");
    let notice = std::fs::read_to_string(&marker).unwrap();
    assert!(notice.contains("ended Failed (exit code 3)"), "{notice}");
    assert!(
        notice.contains(" -c test -- /kueueleuleu/bin/kueueleuleu-step debug continue"),
        "{notice}"
    );
    assert!(pod.pid("test").is_some());
    assert!(!pod.dir().join("volumes/kueueleuleu-run-1/done").exists());
    assert!(debug(&pod, "test", "kueueleuleu-run-0", "status").contains("held for debugging"));
    debug(&pod, "test", "kueueleuleu-run-0", "continue");
    let run = pod.wait(DEADLINE).unwrap();
    assert_eq!(run.phase, Phase::Succeeded, "{:#}", run.status());
    assert_eq!(exit_code(&run, "test"), 0);
    let r = record(&run, "test");
    assert_eq!(
        (&r["reason"], &r["exitCode"], &r["continued"], &r["debug"]),
        (
            &"Failed".into(),
            &3.into(),
            &true.into(),
            &"continue".into()
        ),
        "{r}"
    );
    assert_eq!(run.container("deploy").stdout(), "deploy ran\n");
    assert!(!marker.exists(), "the marker outlived the hold");
    let logs = run.container("test").logs();
    assert!(
        logs.contains("kueueleuleu-step: test: hold ended: continue\n"),
        "{logs}"
    );
    let st = statuses(&y, &run);
    let t = step(&st, "test");
    assert_eq!((t.continued, t.debug.as_deref()), (true, Some("continue")));
}

#[test]
fn a_held_step_fails_with_debug_fail() {
    if !kubelet::require_sandbox("a_held_step_fails_with_debug_fail") {
        return;
    }
    let (y, pod) = held_pod("debug-fail");
    debug(&pod, "test", "kueueleuleu-run-0", "fail");
    let run = pod.wait(DEADLINE).unwrap();
    assert_eq!(run.phase, Phase::Failed);
    assert_eq!(exit_code(&run, "test"), 3);
    let r = record(&run, "test");
    assert_eq!(
        (&r["debug"], r.get("continued")),
        (&"fail".into(), None),
        "{r}"
    );
    assert_eq!(record(&run, "deploy")["reason"], "Skipped");
    assert_eq!(run.container("deploy").stdout(), "");
    let st = statuses(&y, &run);
    assert_eq!(step(&st, "test").debug.as_deref(), Some("fail"));
    assert_eq!(step(&st, "deploy").state, StepState::Skipped);
}

#[test]
fn a_held_step_gives_up_after_the_debug_timeout() {
    if !kubelet::require_sandbox("a_held_step_gives_up_after_the_debug_timeout") {
        return;
    }
    let env = "    env:\n    - name: KUEUELEULEU_STEP_DEBUG_TIMEOUT\n      value: 1s\n";
    let y = with_steps(
        &pod("debug-timeout", "Never", &[("test", "exit 3")], env),
        "test: {debug: onFailure}",
    );
    let run = kubelet().run(&y, DEADLINE).unwrap();
    assert_eq!(exit_code(&run, "test"), 3);
    let r = record(&run, "test");
    assert_eq!(r["debug"], "timeout", "{r}");
    assert!(gap_ms(time(&r, "startedAt"), time(&r, "finishedAt")) >= 1000.0);
}

#[test]
fn debug_outside_a_hold_says_why_and_fails() {
    let dir = std::env::temp_dir().join(format!("e2e-debug-none-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kueueleuleu-step"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["debug", "continue", "--run-dir", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no step in this container is held for debugging"),
        "{err}"
    );
    assert!(
        !dir.join("debug-decision").exists(),
        "a decision was left behind"
    );
    let out = run(&["debug", "maybe"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: kueueleuleu-step debug"));
    std::fs::remove_dir_all(&dir).unwrap();
}
