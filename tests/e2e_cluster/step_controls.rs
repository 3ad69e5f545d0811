//! Per-step controls on the real cluster, from Pods and Jobs converted with the
//! `kueueleuleu.io/steps` annotation (tests/cluster/step-*.yaml): timeout, onError continue,
//! retries, an `after` graph, debug on failure (continued and failed with `kubectl exec`),
//! podFailurePolicy rules on a step's exit code, and what `kueueleuleu status` shows.

use super::cluster_support::pods::{Step, assert_strict_order, job_condition, phase, steps};
use super::cluster_support::{Namespace, convert, kueueleuleu, manifest};
use super::{BUDGET, cluster};
use serde_json::Value;

macro_rules! namespace {
    ($test:expr) => {
        match cluster($test) {
            Some(c) => c.namespace($test, &[], BUDGET),
            None => return,
        }
    };
}

/// The one document of `file` named `name`, converted.
fn object(file: &str, name: &str) -> String {
    let text = manifest(file);
    let doc = text
        .split("\n---\n")
        .find(|d| d.contains(&format!("\n  name: {name}\n")))
        .unwrap_or_else(|| panic!("{file} has no object {name}"));
    convert(doc)
}

fn step<'a>(steps: &'a [Step], name: &str) -> &'a Step {
    steps.iter().find(|s| s.name == name).unwrap()
}

fn record<'a>(steps: &'a [Step], name: &str) -> &'a Value {
    step(steps, name)
        .record
        .as_ref()
        .unwrap_or_else(|| panic!("{name}: no record"))
}

/// `kueueleuleu status -o json` of a Pod's JSON: its steps by name.
fn status(pod: &Value) -> Vec<Value> {
    let out = kueueleuleu(&["status", "-f", "-", "-o", "json"], &pod.to_string());
    assert!(out.ok, "status failed: {}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("status printed JSON");
    v.as_array()
        .cloned()
        .unwrap_or_else(|| panic!("not a list: {v}"))
}

fn status_of<'a>(all: &'a [Value], name: &str) -> &'a Value {
    all.iter().find(|s| s["name"] == name).unwrap()
}

#[test]
fn a_step_timeout_sends_sigterm_then_sigkill_and_is_timed_out() {
    let ns = namespace!("step-timeout");
    ns.apply(&object("step-controls.yaml", "timeout"));
    let pod = ns.wait_pod_done("timeout");
    assert_eq!(phase(&pod), "Failed", "{}", ns.diagnostics());
    let s = steps(&pod);
    // stubborn ignores SIGTERM: killed after the 2 s grace, and continues (exit 0).
    let stubborn = record(&s, "stubborn");
    assert_eq!(
        (
            &stubborn["reason"],
            &stubborn["exitCode"],
            &stubborn["signal"]
        ),
        (&"TimedOut".into(), &124.into(), &9.into()),
        "{stubborn}"
    );
    assert_eq!(stubborn["continued"], true);
    assert_eq!(step(&s, "stubborn").exit_code(), 0);
    let took = step(&s, "stubborn").time("finishedAt") - step(&s, "stubborn").time("startedAt");
    assert!(
        (4.5..15.0).contains(&took),
        "3 s timeout + 2 s grace took {took:.3}s"
    );
    // polite ends on the SIGTERM: exit 124, the Pod fails, `after` never runs.
    let polite = record(&s, "polite");
    assert_eq!(
        (&polite["reason"], &polite["signal"]),
        (&"TimedOut".into(), &15.into())
    );
    assert_eq!(step(&s, "polite").exit_code(), 124);
    let took = step(&s, "polite").time("finishedAt") - step(&s, "polite").time("startedAt");
    assert!((2.9..8.0).contains(&took), "3 s timeout took {took:.3}s");
    assert_eq!(step(&s, "after").reason(), "Skipped");
    assert_strict_order(&s);
    let st = status(&pod);
    let (stubborn, polite) = (status_of(&st, "stubborn"), status_of(&st, "polite"));
    assert_eq!(
        (&stubborn["state"], &stubborn["continued"]),
        (&"TimedOut".into(), &true.into())
    );
    assert_eq!(
        (&polite["state"], &polite["exitCode"]),
        (&"TimedOut".into(), &124.into())
    );
    assert_eq!(status_of(&st, "after")["state"], "Skipped");
}

#[test]
fn retries_rerun_a_failed_step_in_its_container_and_the_job_completes() {
    let ns = namespace!("step-retries");
    ns.apply(&object("step-controls.yaml", "retries"));
    ns.wait_job_ended("retries", "Complete");
    let (name, pod) = ns.only_job_pod("retries");
    let s = steps(&pod);
    assert_eq!(
        step(&s, "flaky").restart_count,
        0,
        "retried by the runner, not the kubelet"
    );
    assert_eq!(record(&s, "flaky")["attempts"], 3);
    assert_eq!(step(&s, "flaky").reason(), "Succeeded");
    let logs = ns.logs(&name, "flaky");
    for line in [
        "attempt 1\n",
        "kueueleuleu-step: flaky: attempt 1 of 3 ended Failed (exit code 1); retrying in 1s\n",
        "attempt 2\n",
        "kueueleuleu-step: flaky: attempt 2 of 3 ended Failed (exit code 1); retrying in 2s\n",
        "attempt 3\n",
    ] {
        assert!(logs.contains(line), "{line:?} not in:\n{logs}");
    }
    assert_eq!(ns.logs(&name, "after"), "after\n");
    let took = step(&s, "flaky").time("finishedAt") - step(&s, "flaky").time("startedAt");
    assert!(took >= 3.0, "back-off 1 s + 2 s, took {took:.3}s");
    assert_eq!(status_of(&status(&pod), "flaky")["attempts"], 3);
}

#[test]
fn on_error_continue_records_the_failure_and_the_job_completes() {
    let ns = namespace!("step-continue");
    ns.apply(&object("step-controls.yaml", "continue"));
    ns.wait_job_ended("continue", "Complete");
    let (name, pod) = ns.only_job_pod("continue");
    assert_eq!(phase(&pod), "Succeeded");
    let s = steps(&pod);
    let lint = record(&s, "lint");
    assert_eq!(
        (&lint["reason"], &lint["exitCode"], &lint["continued"]),
        (&"Failed".into(), &3.into(), &true.into()),
        "{lint}"
    );
    assert_eq!(step(&s, "lint").exit_code(), 0, "the container succeeds");
    assert_eq!(ns.logs(&name, "build"), "build\n");
    assert_strict_order(&s);
    let st = status(&pod);
    let lint = status_of(&st, "lint");
    assert_eq!(
        (&lint["state"], &lint["exitCode"], &lint["continued"]),
        (&"Failed".into(), &3.into(), &true.into())
    );
    assert_eq!(status_of(&st, "build")["state"], "Succeeded");
}

#[test]
fn steps_of_a_graph_without_a_path_between_them_run_at_the_same_time() {
    let ns = namespace!("step-dag");
    ns.apply(&object("step-controls.yaml", "dag"));
    let pod = ns.wait_pod_done("dag");
    assert_eq!(phase(&pod), "Succeeded", "{}", ns.diagnostics());
    let s = steps(&pod);
    let (fetch, lint, test, report) = (
        step(&s, "fetch"),
        step(&s, "lint"),
        step(&s, "test"),
        step(&s, "report"),
    );
    for later in [lint, test] {
        assert!(
            later.time("startedAt") >= fetch.time("finishedAt"),
            "{later:?}"
        );
    }
    // Each sleeps 2 s: they overlap by most of it.
    let overlap = lint.time("finishedAt").min(test.time("finishedAt"))
        - lint.time("startedAt").max(test.time("startedAt"));
    assert!(overlap > 1.0, "lint and test overlapped {overlap:.3}s");
    let both = lint.time("finishedAt").max(test.time("finishedAt"));
    assert!(
        report.time("startedAt") >= both,
        "report started before lint and test ended"
    );
    assert_eq!(ns.logs("dag", "report"), "report\n");
}

/// Applies the debug Pod as `name`, waits until `test` is held, checks what is visible
/// meanwhile, and runs `kueueleuleu-step debug WORD` in it with `kubectl exec`.
fn held_then(ns: &Namespace, name: &str, word: &str) -> Vec<Step> {
    let pod_yaml = manifest("step-debug.yaml").replace("name: NAME", &format!("name: {name}"));
    ns.apply(&convert(&pod_yaml));
    ns.wait_until("the failed step to be held", || {
        let out = ns.kubectl(&["logs", name, "-c", "test"], None);
        out.ok && out.stdout.contains("debug continue")
    });
    let logs = ns.logs(name, "test");
    // The command's stdout and the runner's stderr are read apart: their order is loose.
    assert!(logs.contains("tests failed\n"), "{logs}");
    assert!(
        logs.contains(&format!(
            "kubectl exec {name} -n {} -c test -- /kueueleuleu/bin/kueueleuleu-step debug continue",
            ns.name
        )) || logs.contains(&format!(
            "kubectl exec {name} -c test -- /kueueleuleu/bin/kueueleuleu-step debug continue"
        )),
        "{logs}"
    );
    // Held: running, no record yet; the successor waits for it.
    let pod = ns.get(&["pod", name]);
    assert_eq!(phase(&pod), "Running");
    let st = status(&pod);
    let test = status_of(&st, "test");
    assert_eq!(
        (&test["state"], &test["debug"]),
        (&"Running".into(), &"onFailure".into())
    );
    assert_eq!(status_of(&st, "deploy")["state"], "Waiting");
    // Fetched from the cluster, `status` also reads the held step's log and says so.
    let live = std::process::Command::new(env!("CARGO_BIN_EXE_kueueleuleu"))
        .args([
            "status",
            &format!("pod/{name}"),
            "-n",
            &ns.name,
            "-o",
            "json",
        ])
        .arg("--kubeconfig")
        .arg(&ns.cluster.kubeconfig)
        .env("KUBECTL", &ns.cluster.kubectl)
        .output()
        .unwrap();
    assert!(
        live.status.success(),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    let live: Vec<Value> = serde_json::from_slice(&live.stdout).unwrap();
    let test = status_of(&live, "test");
    assert_eq!(
        (&test["state"], &test["debug"], &test["reason"]),
        (
            &"Running".into(),
            &"held".into(),
            &"HeldForDebugging".into()
        ),
        "{test}"
    );
    let runner = "/kueueleuleu/bin/kueueleuleu-step";
    let shown = ns.ok(
        &["exec", name, "-c", "test", "--", runner, "debug", "status"],
        None,
    );
    assert!(shown.contains("held for debugging"), "{shown}");
    ns.ok(
        &["exec", name, "-c", "test", "--", runner, "debug", word],
        None,
    );
    let done = ns.wait_pod_done(name);
    let st = status(&done);
    assert_eq!(status_of(&st, "test")["debug"], word);
    steps(&done)
}

#[test]
fn a_held_step_goes_on_after_debug_continue_through_kubectl_exec() {
    let ns = namespace!("step-debug-continue");
    let s = held_then(&ns, "held", "continue");
    let test = record(&s, "test");
    assert_eq!(
        (
            &test["reason"],
            &test["exitCode"],
            &test["continued"],
            &test["debug"]
        ),
        (
            &"Failed".into(),
            &3.into(),
            &true.into(),
            &"continue".into()
        ),
        "{test}"
    );
    assert_eq!(step(&s, "test").exit_code(), 0);
    assert_eq!(ns.logs("held", "deploy"), "deploy\n");
    assert_strict_order(&s);
    assert_eq!(phase(&ns.get(&["pod", "held"])), "Succeeded");
}

#[test]
fn a_held_step_fails_after_debug_fail_through_kubectl_exec() {
    let ns = namespace!("step-debug-fail");
    let s = held_then(&ns, "held", "fail");
    assert_eq!(step(&s, "test").exit_code(), 3);
    assert_eq!(record(&s, "test")["debug"], "fail");
    assert_eq!(step(&s, "deploy").reason(), "Skipped");
    assert_eq!(phase(&ns.get(&["pod", "held"])), "Failed");
}

#[test]
fn pod_failure_policy_rules_see_the_step_exit_code_after_its_controls() {
    let ns = namespace!("step-pod-failure-policy");
    let file = "step-pod-failure-policy.yaml";
    for job in ["validate-42", "slow", "tolerated"] {
        ns.apply(&object(file, job));
    }
    // Retried in place, then 42: FailJob at once, one Pod despite backoffLimit 3.
    let job = ns.wait_job_done("validate-42");
    assert_eq!(
        job_condition(&job).unwrap(),
        ("Failed".to_owned(), "PodFailurePolicy".to_owned()),
        "{}",
        ns.diagnostics()
    );
    let (_, pod) = ns.only_job_pod("validate-42");
    let s = steps(&pod);
    assert_eq!(
        (
            step(&s, "validate").exit_code(),
            &record(&s, "validate")["attempts"]
        ),
        (42, &2.into())
    );
    // A timeout is exit 124, which the rule names.
    let job = ns.wait_job_done("slow");
    assert_eq!(
        job_condition(&job).unwrap(),
        ("Failed".to_owned(), "PodFailurePolicy".to_owned())
    );
    let (_, pod) = ns.only_job_pod("slow");
    assert_eq!(steps(&pod)[0].exit_code(), 124);
    // onError: continue makes the container exit 0: the rule never fires.
    let job = ns.wait_job_done("tolerated");
    assert_eq!(job_condition(&job).unwrap().0, "Complete");
    let (name, pod) = ns.only_job_pod("tolerated");
    assert_eq!(record(&steps(&pod), "validate")["exitCode"], 42);
    assert_eq!(ns.logs(&name, "deploy"), "deploying\n");
}

#[test]
fn restart_policy_rules_restart_a_step_too_late_for_its_successor() {
    // What the README says about per-container restart rules: the kubelet restarts `flaky`
    // in place after its exit 42 and it then succeeds, but `after` was skipped on the
    // failure the runner recorded first, and the Pod fails. The runner's `retries` do not
    // have this problem (retries_rerun_a_failed_step_in_its_container_...).
    let ns = namespace!("step-restart-rules");
    ns.apply(&convert(&manifest("step-restart-rules.yaml")));
    let pod = ns.wait_pod_done("rules");
    assert_eq!(phase(&pod), "Failed", "{}", ns.diagnostics());
    let s = steps(&pod);
    let flaky = step(&s, "flaky");
    assert_eq!(
        flaky.restart_count, 1,
        "restarted in place by its rule: {flaky:?}"
    );
    assert_eq!((flaky.reason(), flaky.exit_code()), ("Succeeded", 0));
    let after = step(&s, "after");
    assert_eq!(
        (after.reason(), after.exit_code()),
        ("Skipped", 1),
        "{after:?}"
    );
    assert_eq!(
        ns.logs("rules", "after"),
        "kueueleuleu-step: after: not run: predecessor /kueueleuleu/run/0 ended Failed\n"
    );
}
