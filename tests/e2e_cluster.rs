//! End-to-end tests on a real single-node Kubernetes (kube-apiserver with admission,
//! controller manager, scheduler, kubelet, containerd, runc), started by
//! `scripts/cluster/up.sh` (scripts/test.sh does it). Each scenario converts its manifest
//! (tests/cluster/) with the real `kueueleuleu` binary, applies it with `kubectl` in a
//! namespace of its own, and checks what the API server reports: phases, exit codes, the
//! runner's records (termination messages), logs, order.
//!
//! Without a cluster the tests skip with the reason, or fail when `CI` is set.

mod cluster_support;

use cluster_support::pods::{
    self, assert_all_succeeded_in_order, assert_strict_order, job_condition, phase, steps,
};
use cluster_support::{cluster, convert, manifest};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const BUDGET: Duration = Duration::from_secs(150);

macro_rules! namespace {
    ($test:expr) => {
        namespace!($test, &[])
    };
    ($test:expr, $labels:expr) => {
        match cluster($test) {
            Some(c) => c.namespace($test, $labels, BUDGET),
            None => return,
        }
    };
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn two_step_pod_of_the_readme_runs_in_order() {
    let ns = namespace!("two-steps");
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/pod.yaml"))
            .expect("examples/pod.yaml");
    ns.apply(&convert(&example));
    let pod = ns.wait_pod_done("two-steps");
    assert_eq!(phase(&pod), "Succeeded", "{}", ns.diagnostics());
    let s = steps(&pod);
    for step in &s {
        assert_eq!(step.reason(), "Succeeded", "{step:?}");
        assert_eq!(step.exit_code(), 0, "{step:?}");
    }
    assert_strict_order(&s);
    assert_eq!(ns.logs("two-steps", "step1"), "step1 done\n");
    assert_eq!(ns.logs("two-steps", "step2"), "step2 runs after step1\n");
}

#[test]
fn five_step_pod_runs_in_strict_order() {
    let ns = namespace!("five-steps");
    ns.apply(&convert(&manifest("five-steps.yaml")));
    let pod = ns.wait_pod_done("five-steps");
    assert_eq!(phase(&pod), "Succeeded", "{}", ns.diagnostics());
    let s = steps(&pod);
    assert_eq!(s.len(), 5);
    assert_all_succeeded_in_order(&s);
    assert_eq!(ns.logs("five-steps", "s5"), "s1\ns2\ns3\ns4\ns5\n");
    for i in 1..=4 {
        assert_eq!(
            ns.logs("five-steps", &format!("s{i}")),
            format!("s{i} ran\n")
        );
    }
}

#[test]
fn failing_middle_step_skips_the_rest_and_fails_pod_and_job() {
    let ns = namespace!("middle-fails");
    ns.apply(&convert(&manifest("job-middle-fails.yaml")));
    ns.wait_job_ended("middle-fails", "Failed");
    // backoffLimit 0: one Pod.
    let (name, pod) = ns.only_job_pod("middle-fails");
    assert_eq!(phase(&pod), "Failed");
    let s = steps(&pod);
    assert_eq!((s[0].reason(), s[0].exit_code()), ("Succeeded", 0));
    assert_eq!((s[1].reason(), s[1].exit_code()), ("Failed", 3));
    assert_eq!((s[2].reason(), s[2].exit_code()), ("Skipped", 1));
    assert_eq!(ns.logs(&name, "middle"), "middle fails\n");
    // A skipped step's command never runs; the runner says why on stderr.
    assert_eq!(
        ns.logs(&name, "last"),
        "kueueleuleu-step: last: not run: predecessor /kueueleuleu/run/1 ended Failed\n"
    );
}

#[test]
fn pod_failure_policy_acts_on_the_step_exit_code() {
    let ns = namespace!("pod-failure-policy");
    ns.apply(&convert(&manifest("job-pod-failure-policy.yaml")));
    let fast = ns.wait_job_done("fail-fast");
    assert_eq!(
        job_condition(&fast).unwrap(),
        ("Failed".to_owned(), "PodFailurePolicy".to_owned()),
        "{fast}"
    );
    assert_eq!(ns.job_pods("fail-fast").len(), 1, "FailJob: no retry");
    let retried = ns.wait_job_done("retried");
    assert_eq!(
        job_condition(&retried).unwrap(),
        ("Failed".to_owned(), "BackoffLimitExceeded".to_owned()),
        "{retried}"
    );
    let pods = ns.job_pods("retried");
    assert_eq!(pods.len(), 2, "backoffLimit 1: the Pod is retried once");
    for pod in pods {
        let name = pod["metadata"]["name"].as_str().unwrap().to_owned();
        let s = steps(&ns.wait_pod_done(&name));
        assert_eq!((s[1].reason(), s[1].exit_code()), ("Failed", 7));
        assert_eq!(s[2].reason(), "Skipped");
    }
}

/// Waits until the first step's `sleep` runs, kills it with `kill`, and checks that the
/// successors ended within a second of the kill (with the reason `successor`) and the
/// Pod failed.
fn check_sigkill(
    test: &str,
    successor: &str,
    // Gets the namespace and the container status of the step `long`.
    kill: impl FnOnce(&cluster_support::Namespace, &serde_json::Value),
) -> Option<Vec<pods::Step>> {
    let ns = cluster(test)?.namespace(test, &[], BUDGET);
    let pod = "sigkill";
    ns.apply(&convert(&manifest("sigkill.yaml")));
    let mut status = serde_json::Value::Null;
    ns.wait_until("the long step's command to run", || {
        status = ns.get(&["pod", pod]);
        // containerStatuses are not in spec order: find the step by name.
        status = status["status"]["containerStatuses"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["name"] == "long").cloned())
            .unwrap_or_default();
        status["state"]["running"].is_object()
            && ns
                .kubectl(&["exec", pod, "-c", "long", "--", "pidof", "sleep"], None)
                .ok
    });
    // The kill happened between these two instants. `ctr`/`kubectl exec` themselves take
    // hundreds of ms on a loaded machine, so the lag is measured from the end of the kill
    // command (a lower bound of the true lag; the upper bound is printed).
    let before_kill = now();
    kill(&ns, &status);
    let killed_at = now();
    let done = ns.wait_pod_done(pod);
    let ended = now();
    assert_eq!(phase(&done), "Failed", "{}", ns.diagnostics());
    let s = steps(&done);
    for step in &s[1..] {
        let lag = step.time("finishedAt") - killed_at;
        let upper = step.time("finishedAt") - before_kill;
        eprintln!(
            "{test}: {} ended {lag:.3}s..{upper:.3}s after the kill",
            step.name
        );
        assert!(lag < 1.0, "{} ended {lag:.3}s after the kill", step.name);
        assert_eq!(step.exit_code(), 1, "{step:?}");
    }
    assert_eq!(s[1].reason(), successor, "{:?}", s[1]);
    assert_eq!(s[2].reason(), "Skipped", "{:?}", s[2]);
    assert_eq!(s[0].exit_code(), 137, "{:?}", s[0]);
    eprintln!(
        "{test}: Pod reported Failed {:.2}s after the kill",
        ended - killed_at
    );
    Some(s)
}

#[test]
fn sigkill_of_a_step_command_ends_the_pod_at_once() {
    let Some(s) = check_sigkill("sigkill-command", "Skipped", |ns, _| {
        let kill = "kill -KILL $(pidof sleep)";
        ns.ok(
            &["exec", "sigkill", "-c", "long", "--", "sh", "-c", kill],
            None,
        );
    }) else {
        return;
    };
    // The runner survived its command and recorded the signal.
    assert_eq!(s[0].reason(), "Failed", "{:?}", s[0]);
    assert_eq!(s[0].record.as_ref().unwrap()["signal"], 9, "{:?}", s[0]);
}

#[test]
fn sigkill_of_a_step_runner_ends_the_pod_at_once() {
    // The runner died without a record; its successor sees the dropped lock.
    check_sigkill("sigkill-runner", "PredecessorLost", |ns, long| {
        let id = long["containerID"]
            .as_str()
            .and_then(|id| id.strip_prefix("containerd://"))
            .expect("a containerd container id")
            .to_owned();
        let sock = ns.cluster.containerd_sock.to_str().unwrap();
        let out = cluster_support::run(
            std::path::Path::new("ctr"),
            &[
                "--address",
                sock,
                "-n",
                "k8s.io",
                "tasks",
                "kill",
                "-s",
                "SIGKILL",
                &id,
            ],
            None,
            Duration::from_secs(20),
        );
        assert!(out.ok, "ctr tasks kill: {}", out.stderr);
    });
}

#[test]
fn oom_killed_step_ends_the_pod_with_the_reason_visible() {
    let ns = namespace!("oom");
    ns.apply(&convert(&manifest("oom.yaml")));
    let pod = ns.wait_pod_done("oom");
    assert_eq!(phase(&pod), "Failed", "{}", ns.diagnostics());
    let s = steps(&pod);
    assert_eq!(s[0].reason(), "Succeeded");
    assert_eq!(s[1].kubelet_reason(), "OOMKilled", "{:?}", s[1]);
    assert_eq!(s[1].exit_code(), 137, "{:?}", s[1]);
    assert_eq!(s[2].reason(), "Skipped", "{:?}", s[2]);
    let lag = s[2].time("finishedAt")
        - pods::parse_rfc3339(
            s[1].terminated.as_ref().unwrap()["finishedAt"]
                .as_str()
                .unwrap(),
        );
    assert!(
        lag < 2.0,
        "the successor ended {lag:.3}s after the OOM kill"
    );
}

#[test]
fn on_failure_restarts_a_flaky_step_in_place() {
    let ns = namespace!("onfailure");
    ns.apply(&convert(&manifest("job-onfailure.yaml")));
    ns.wait_job_ended("flaky", "Complete");
    // Restarts happen in place, in one Pod.
    let (name, pod) = ns.only_job_pod("flaky");
    let s = steps(&pod);
    let restarts: Vec<u64> = s.iter().map(|s| s.restart_count).collect();
    assert_eq!(restarts, [0, 1, 0], "{s:?}");
    assert_eq!(ns.logs(&name, "flaky"), "attempt 2\n");
    assert_eq!(
        ns.logs(&name, "last"),
        "first\nlast\n",
        "first and last ran once"
    );
    assert_strict_order(&s);
}

#[test]
fn cronjob_runs_through_create_job_from() {
    let ns = namespace!("cronjob");
    ns.apply(&convert(&manifest("cronjob.yaml")));
    ns.ok(
        &["create", "job", "--from=cronjob/nightly", "nightly-now"],
        None,
    );
    ns.wait_job_ended("nightly-now", "Complete");
    let (name, pod) = ns.only_job_pod("nightly-now");
    assert_strict_order(&steps(&pod));
    assert_eq!(ns.logs(&name, "load"), "extract\ntransform\nload\n");
}

#[test]
fn restricted_pod_security_admits_and_runs_the_converted_pod() {
    let labels = [
        ("pod-security.kubernetes.io/enforce", "restricted"),
        ("pod-security.kubernetes.io/warn", "restricted"),
    ];
    let ns = namespace!("restricted", &labels);
    let out = ns.kubectl(
        &["apply", "-f", "-"],
        Some(&convert(&manifest("restricted.yaml"))),
    );
    assert!(
        out.ok,
        "restricted namespace refused the converted Pod: {}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("Warning"),
        "Pod Security warnings: {}",
        out.stderr
    );
    let pod = ns.wait_pod_done("restricted");
    assert_eq!(phase(&pod), "Succeeded", "{}", ns.diagnostics());
    assert_strict_order(&steps(&pod));
    assert_eq!(ns.logs("restricted", "two"), "two after uid 1000\n");
}

#[test]
fn native_sidecar_runs_beside_the_steps_and_the_job_completes() {
    let ns = namespace!("sidecar");
    ns.apply(&convert(&manifest("sidecar.yaml")));
    ns.wait_job_ended("with-sidecar", "Complete");
    let (name, pod) = ns.only_job_pod("with-sidecar");
    assert_eq!(phase(&pod), "Succeeded");
    assert_strict_order(&steps(&pod));
    assert_eq!(ns.logs(&name, "two"), "two saw the sidecar\n");
}

#[path = "e2e_cluster/admission.rs"]
mod admission;

#[path = "e2e_cluster/gate_off.rs"]
mod gate_off;
#[path = "e2e_cluster/image_volume.rs"]
mod image_volume;
#[path = "e2e_cluster/resolved_stock.rs"]
mod resolved_stock;
#[path = "e2e_cluster/resources_max.rs"]
mod resources_max;
#[path = "e2e_cluster/sidecars.rs"]
mod sidecars;
#[path = "e2e_cluster/step_controls.rs"]
mod step_controls;
