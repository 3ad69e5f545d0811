//! `kueueleuleu status` on Pods that use the per-step controls, captured from the real
//! cluster (tests/cluster/step-controls.yaml and step-debug.yaml, converted and run; see
//! tests/status/README.md): timed out, retried, continued after failure, held for debugging
//! and continued by `debug continue`, and a graph. The library's view is asserted field by
//! field; the table is compared whole with `tests/expected/status/steps-*.txt`
//! (`UPDATE_EXPECTED=1` rewrites them).

use k8s_openapi::api::core::v1::Pod;
use kueueleuleu::status::{StepState, StepStatus, running_step, step_statuses};
use std::path::Path;

fn pod(name: &str) -> Pod {
    let path = format!("{}/tests/status/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn step<'a>(steps: &'a [StepStatus], name: &str) -> &'a StepStatus {
    steps.iter().find(|s| s.name == name).unwrap()
}

/// Durations of running steps are measured to this instant (just after the capture).
const NOW: &str = "2026-12-02T03:34:27Z";

/// The table `kueueleuleu status -f DOC` prints, against its expected file.
fn check_table(name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kueueleuleu"))
        .args(["status", "-f", &format!("{name}.json"), "--now", NOW])
        .current_dir(dir.join("tests/status"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let actual = String::from_utf8(out.stdout).unwrap();
    let path = dir.join(format!("tests/expected/status/{name}.txt"));
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if actual != expected {
        let diff = similar::TextDiff::from_lines(&expected, &actual);
        panic!(
            "{} differs (UPDATE_EXPECTED=1 rewrites it):\n{}",
            path.display(),
            diff.unified_diff().header("expected", "actual")
        );
    }
}

#[test]
fn timed_out_steps_show_the_timeout_and_a_continued_one_says_so() {
    let steps = step_statuses(&pod("steps-timeout"));
    let stubborn = step(&steps, "stubborn");
    assert_eq!(
        (stubborn.state, stubborn.exit_code, stubborn.continued),
        (StepState::TimedOut, Some(124), true)
    );
    let msg = stubborn.message.as_deref().unwrap();
    assert!(msg.contains("SIGKILL after the grace period"), "{msg}");
    let polite = step(&steps, "polite");
    assert_eq!(
        (polite.state, polite.exit_code, polite.continued),
        (StepState::TimedOut, Some(124), false)
    );
    assert!(polite.state.is_failure());
    assert_eq!(step(&steps, "after").state, StepState::Skipped);
    check_table("steps-timeout");
}

#[test]
fn retried_steps_count_their_attempts() {
    let steps = step_statuses(&pod("steps-retries"));
    let flaky = step(&steps, "flaky");
    assert_eq!(
        (flaky.state, flaky.attempts, flaky.restarts),
        (StepState::Succeeded, Some(3), 0)
    );
    assert_eq!(
        step(&steps, "after").attempts,
        None,
        "one attempt is not news"
    );
    let json = serde_json::to_value(flaky).unwrap();
    assert_eq!(json["attempts"], 3);
    assert!(json.get("continued").is_none() && json.get("debug").is_none());
    check_table("steps-retries");
}

#[test]
fn a_continued_failure_shows_the_commands_exit_code() {
    let steps = step_statuses(&pod("steps-continue"));
    let lint = step(&steps, "lint");
    // The container exited 0; the command's 3 is what the user needs.
    assert_eq!(
        (lint.state, lint.exit_code, lint.continued),
        (StepState::Failed, Some(3), true)
    );
    assert_eq!(step(&steps, "build").state, StepState::Succeeded);
    assert_eq!(serde_json::to_value(lint).unwrap()["continued"], true);
    check_table("steps-continue");
}

#[test]
fn a_step_held_for_debugging_runs_and_its_successor_waits() {
    let held = pod("steps-debug-held");
    let steps = step_statuses(&held);
    let test = step(&steps, "test");
    // The Pod object cannot tell a hold from a running command: Running, armed for debug.
    assert_eq!(
        (test.state, test.debug.as_deref(), test.exit_code),
        (StepState::Running, Some("onFailure"), None)
    );
    let deploy = step(&steps, "deploy");
    assert_eq!(deploy.state, StepState::Waiting);
    assert_eq!(deploy.message.as_deref(), Some("waiting for test"));
    assert_eq!(running_step(&held).unwrap().name, "test");
    check_table("steps-debug-held");
}

#[test]
fn debug_continue_is_recorded_and_the_successor_ran() {
    let steps = step_statuses(&pod("steps-debug-continued"));
    let test = step(&steps, "test");
    assert_eq!(
        (
            test.state,
            test.exit_code,
            test.continued,
            test.debug.as_deref()
        ),
        (StepState::Failed, Some(3), true, Some("continue"))
    );
    let deploy = step(&steps, "deploy");
    assert_eq!(deploy.state, StepState::Succeeded);
    assert!(deploy.started_at.unwrap() >= test.finished_at.unwrap());
    check_table("steps-debug-continued");
}

#[test]
fn steps_of_a_graph_overlap_and_the_join_starts_after_both() {
    let steps = step_statuses(&pod("steps-dag"));
    let (lint, test, report) = (
        step(&steps, "lint"),
        step(&steps, "test"),
        step(&steps, "report"),
    );
    assert!(lint.started_at.unwrap() < test.finished_at.unwrap());
    assert!(test.started_at.unwrap() < lint.finished_at.unwrap());
    assert!(report.started_at.unwrap() >= lint.finished_at.unwrap().max(test.finished_at.unwrap()));
    assert!(steps.iter().all(|s| s.state == StepState::Succeeded));
    check_table("steps-dag");
}

/// `kueueleuleu status pod/held` against a stand-in `kubectl` serving the captured Pod and,
/// when `logs` is true, the held step's captured log; returns the table.
#[cfg(unix)]
fn status_from_cluster(logs: bool) -> String {
    use std::os::unix::fs::PermissionsExt;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/status");
    let dir = std::env::temp_dir().join(format!("kll-held-{}-{logs}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubectl = dir.join("kubectl");
    let log_case = if logs {
        format!(
            "*\"logs held -c test --tail=20\"*) cat {}/steps-debug-held.log ;;",
            data.display()
        )
    } else {
        "*logs*) echo 'pods \"held\" is forbidden' >&2; exit 1 ;;".to_string()
    };
    let script = format!(
        "#!/bin/sh\necho \"$*\" >> {log}\ncase \"$*\" in\n  *\"get pod held -o json\"*) cat {data}/steps-debug-held.json ;;\n  {log_case}\n  *) echo \"unexpected: $*\" >&2; exit 1 ;;\nesac\n",
        log = dir.join("calls").display(),
        data = data.display()
    );
    std::fs::write(&kubectl, script).unwrap();
    std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kueueleuleu"))
        .args(["status", "pod/held", "--now", NOW])
        .env("KUBECTL", &kubectl)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = std::fs::read_to_string(dir.join("calls")).unwrap();
    assert!(
        calls.contains("--namespace r12-scratch logs held -c test --tail=20"),
        "{calls}"
    );
    assert!(
        !calls.contains("-c deploy"),
        "a waiting step's log was read: {calls}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[cfg(unix)]
#[test]
fn fetched_from_the_cluster_a_held_step_shows_as_held_with_the_command_to_go_on() {
    let table = status_from_cluster(true);
    let test = table.lines().find(|l| l.starts_with("test ")).unwrap();
    assert!(test.contains("Running (held for debugging)"), "{table}");
    assert!(
        test.contains("HeldForDebugging: go on with: kubectl exec held -n r12-scratch -c test -- /kueueleuleu/bin/kueueleuleu-step debug continue"),
        "{table}"
    );
    // Without access to the log, the Pod alone says only that it may be held.
    let table = status_from_cluster(false);
    assert!(table.contains("Running (debug on failure)"), "{table}");
    assert!(!table.contains("HeldForDebugging"), "{table}");
}
