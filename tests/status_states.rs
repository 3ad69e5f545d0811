//! Step states read from Pod documents captured on the real test cluster
//! (`tests/status/capture.sh`), one document per state of the module's rules. The few
//! variants no cluster run can produce yet (the runner's own `TimedOut` record, a
//! termination message that is not a record) are derived from captured documents in the
//! test itself, and say so.

use StepState::*;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kueueleuleu::status::{
    StepState, StepStatus, cron_job_jobs, job_pods, newest_job, newest_pod, running_step,
    step_statuses,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

fn doc(name: &str) -> Value {
    let path = format!("{}/tests/status/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn typed<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn pod(name: &str) -> Pod {
    typed(doc(name))
}

fn items<T: DeserializeOwned>(name: &str) -> Vec<T> {
    typed(doc(name)["items"].clone())
}

fn states(steps: &[StepStatus]) -> Vec<(&str, StepState, Option<i32>)> {
    steps
        .iter()
        .map(|s| (s.name.as_str(), s.state, s.exit_code))
        .collect()
}

fn reason(s: &StepStatus) -> &str {
    s.reason.as_deref().unwrap_or_default()
}

/// A container's status in the raw document (statuses are not in spec order).
fn container(pod: &Value, name: &str) -> Value {
    pod["status"]["containerStatuses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
        .clone()
}

fn ts(v: &Value) -> Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

#[test]
fn initializing_pod_has_every_step_waiting() {
    let s = step_statuses(&pod("pod-initializing"));
    assert_eq!(
        states(&s),
        [
            ("prepare", Waiting, None),
            ("work", Waiting, None),
            ("publish", Waiting, None)
        ]
    );
    assert!(
        s.iter()
            .all(|s| reason(s) == "PodInitializing" && s.started_at.is_none())
    );
    assert_eq!(running_step(&pod("pod-initializing")), None);
}

#[test]
fn unscheduled_pod_waits_with_the_scheduler_reason() {
    let s = step_statuses(&pod("pod-unschedulable"));
    assert_eq!(
        states(&s),
        [("first", Waiting, None), ("second", Waiting, None)]
    );
    assert!(s.iter().all(|s| reason(s) == "Unschedulable"), "{s:?}");
}

#[test]
fn first_step_runs_while_the_others_wait_in_running_containers() {
    let raw = doc("pod-first-running");
    // Every step container is up: the runner, not the kubelet, holds the later ones back.
    assert!(container(&raw, "work")["state"]["running"].is_object());
    let p: Pod = typed(raw.clone());
    let s = step_statuses(&p);
    assert_eq!(
        states(&s),
        [
            ("prepare", Running, None),
            ("work", Waiting, None),
            ("publish", Waiting, None)
        ]
    );
    assert_eq!(reason(&s[1]), "AwaitingPredecessor");
    assert_eq!(s[1].message.as_deref(), Some("waiting for prepare"));
    assert_eq!(
        s[0].started_at,
        Some(ts(
            &container(&raw, "prepare")["state"]["running"]["startedAt"]
        ))
    );
    assert_eq!(running_step(&p).unwrap().name, "prepare");
}

#[test]
fn a_running_step_started_when_its_predecessor_finished_not_when_its_container_did() {
    let raw = doc("pod-second-running");
    let p: Pod = typed(raw.clone());
    let s = step_statuses(&p);
    assert_eq!(
        states(&s),
        [
            ("prepare", Succeeded, Some(0)),
            ("work", Running, None),
            ("publish", Waiting, None)
        ]
    );
    let container_start = ts(&container(&raw, "work")["state"]["running"]["startedAt"]);
    let true_start = s[1].started_at.unwrap();
    assert_eq!(Some(true_start), s[0].finished_at);
    assert!(
        true_start.duration_since(container_start).as_secs_f64() > 1.0,
        "work waited seconds for prepare: container {container_start}, start {true_start}"
    );
    assert_eq!(running_step(&p).unwrap().name, "work");
    assert_eq!(s[1].finished_at, None);
    let later = true_start + k8s_openapi::jiff::SignedDuration::from_secs(2);
    assert_eq!(s[1].duration(later).unwrap().as_secs(), 2);
}

#[test]
fn succeeded_pod_has_true_starts_in_order() {
    let s = step_statuses(&pod("pod-succeeded"));
    assert_eq!(
        states(&s),
        [
            ("prepare", Succeeded, Some(0)),
            ("work", Succeeded, Some(0)),
            ("publish", Succeeded, Some(0))
        ]
    );
    for pair in s.windows(2) {
        assert!(pair[1].started_at >= pair[0].finished_at, "{pair:?}");
    }
    let work = s[1].duration(Timestamp::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!((6.0..7.0).contains(&work), "work sleeps 6 s, took {work}");
    assert_eq!(running_step(&pod("pod-succeeded")), None);
}

#[test]
fn failed_middle_step_of_a_job_skips_the_last() {
    let job: Job = typed(doc("job-middle-fails"));
    let pods: Vec<Pod> = items("job-middle-fails-pods");
    assert_eq!(job_pods(&job, &pods).len(), 1);
    let s = step_statuses(newest_pod(&job, &pods).unwrap());
    assert_eq!(
        states(&s),
        [
            ("first", Succeeded, Some(0)),
            ("middle", Failed, Some(3)),
            ("last", Skipped, Some(1))
        ]
    );
    assert_eq!(reason(&s[1]), "Failed");
    assert_eq!(
        s[2].message.as_deref(),
        Some("not run: predecessor middle ended Failed")
    );
}

#[test]
fn a_killed_runner_is_failed_without_record_and_its_successor_lost_it() {
    let s = step_statuses(&pod("pod-predecessor-lost"));
    assert_eq!(
        states(&s),
        [
            ("long", Failed, Some(137)),
            ("next", PredecessorLost, Some(1)),
            ("last", Skipped, Some(1))
        ]
    );
    assert_eq!(reason(&s[0]), "Error");
    assert_eq!(
        s[0].message.as_deref(),
        Some("the runner left no record: killed by signal 9")
    );
    assert!(
        s[1].message
            .as_deref()
            .unwrap()
            .contains("predecessor long died"),
        "{:?}",
        s[1]
    );
}

#[test]
fn oom_killed_step_is_named_so() {
    let s = step_statuses(&pod("pod-oom-killed"));
    assert_eq!(
        states(&s),
        [
            ("before", Succeeded, Some(0)),
            ("hog", OomKilled, Some(137)),
            ("after", Skipped, Some(1))
        ]
    );
    assert_eq!(reason(&s[1]), "OOMKilled");
}

#[test]
fn pod_deadline_times_out_the_running_step() {
    let p = pod("pod-deadline-exceeded");
    assert_eq!(
        p.status.as_ref().unwrap().reason.as_deref(),
        Some("DeadlineExceeded")
    );
    let s = step_statuses(&p);
    assert_eq!(
        states(&s)[..2],
        [("quick", Succeeded, Some(0)), ("slow", TimedOut, Some(143))]
    );
    assert_eq!(reason(&s[1]), "DeadlineExceeded");
    // The last step never ran, whichever the runner saw first: the failure or the SIGTERM.
    assert_eq!(s[2].state, Skipped, "{:?}", s[2]);
}

/// Captured too: a Pod ended by its deadline whose containers the kubelet could no longer
/// find. Nothing says which step ran, so none is called timed out or succeeded.
#[test]
fn containers_lost_by_the_kubelet_are_failed_with_its_reason() {
    let s = step_statuses(&pod("pod-deadline-status-unknown"));
    assert_eq!(
        states(&s),
        [
            ("quick", Failed, Some(137)),
            ("slow", Failed, Some(137)),
            ("never", Failed, Some(137))
        ]
    );
    for step in &s {
        assert_eq!(reason(step), "ContainerStatusUnknown");
        assert_eq!(
            step.message.as_deref(),
            Some("The container could not be located when the pod was terminated")
        );
        assert_eq!((step.started_at, step.finished_at), (None, None));
    }
}

#[test]
fn on_failure_restarts_are_counted_and_the_last_attempt_wins() {
    let pods: Vec<Pod> = items("job-flaky-pods");
    let job: Job = typed(doc("job-flaky"));
    let s = step_statuses(newest_pod(&job, &pods).unwrap());
    assert_eq!(
        states(&s),
        [
            ("first", Succeeded, Some(0)),
            ("flaky", Succeeded, Some(0)),
            ("last", Succeeded, Some(0))
        ]
    );
    assert_eq!(s.iter().map(|s| s.restarts).collect::<Vec<_>>(), [0, 1, 0]);
}

#[test]
fn a_step_in_crash_loop_back_off_waits_and_so_does_its_successor() {
    let pods: Vec<Pod> = items("job-crashloop-pods");
    let s = step_statuses(&pods[0]);
    assert_eq!(
        states(&s),
        [
            ("first", Succeeded, Some(0)),
            ("broken", Waiting, None),
            ("last", Waiting, None)
        ]
    );
    assert_eq!(reason(&s[1]), "CrashLoopBackOff");
    assert!(s[1].restarts >= 1, "{:?}", s[1]);
    assert_eq!(
        s[1].message.as_deref(),
        Some("restarting after exit code 2 (Failed)")
    );
    assert_eq!(s[2].message.as_deref(), Some("waiting for broken"));
    assert_eq!(running_step(&pods[0]), None);
}

#[test]
fn cron_job_shows_its_newest_job() {
    let cj: CronJob = typed(doc("cronjob-nightly"));
    let jobs: Vec<Job> = items("cronjob-nightly-jobs");
    let pods: Vec<Pod> = items("cronjob-nightly-pods");
    assert_eq!(cron_job_jobs(&cj, &jobs).len(), 1);
    let job = newest_job(&cj, &jobs).unwrap();
    assert_eq!(job.metadata.name.as_deref(), Some("nightly-manual"));
    let s = step_statuses(newest_pod(job, &pods).unwrap());
    assert_eq!(
        states(&s),
        [
            ("extract", Succeeded, Some(0)),
            ("load", Succeeded, Some(0))
        ]
    );
}

#[test]
fn a_pod_that_is_not_converted_has_no_steps() {
    let p = pod("pod-not-converted");
    assert!(!kueueleuleu::is_converted(p.spec.as_ref().unwrap()));
    assert!(step_statuses(&p).is_empty());
    assert!(kueueleuleu::is_converted(
        pod("pod-succeeded").spec.as_ref().unwrap()
    ));
}

/// Derived: the runner of the per-step timeout work records `TimedOut`; until it runs on the
/// cluster, the captured failed step's record is rewritten to what that runner writes.
#[test]
fn a_timed_out_record_is_timed_out() {
    let mut raw = doc("job-middle-fails-pods")["items"][0].clone();
    for c in raw["status"]["containerStatuses"].as_array_mut().unwrap() {
        if c["name"] == "middle" {
            let t = &mut c["state"]["terminated"];
            let mut record: Value = serde_json::from_str(t["message"].as_str().unwrap()).unwrap();
            record["reason"] = "TimedOut".into();
            record["exitCode"] = 143.into();
            record["signal"] = 15.into();
            t["message"] = record.to_string().into();
            t["exitCode"] = 143.into();
        }
    }
    let s = step_statuses(&typed(raw));
    assert_eq!(
        (s[1].state, s[1].exit_code, reason(&s[1])),
        (TimedOut, Some(143), "TimedOut")
    );
}

/// Derived: a step whose program wrote its own termination message (no runner record):
/// the kubelet's exit code and times decide.
#[test]
fn without_a_record_the_kubelet_decides() {
    let mut raw = doc("pod-succeeded");
    for c in raw["status"]["containerStatuses"].as_array_mut().unwrap() {
        c["state"]["terminated"]["message"] = "all good".into();
    }
    let s = step_statuses(&typed(raw.clone()));
    assert!(
        s.iter()
            .all(|s| s.state == Succeeded && reason(s) == "Completed"),
        "{s:?}"
    );
    let prepare = container(&raw, "prepare");
    assert_eq!(
        s[0].started_at,
        Some(ts(&prepare["state"]["terminated"]["startedAt"]))
    );
    assert_eq!(s[0].message.as_deref(), Some("all good"));
}

#[test]
fn json_form_is_the_documented_one() {
    let s = step_statuses(&pod("pod-second-running"));
    let v = serde_json::to_value(&s).unwrap();
    let keys = |i: usize| {
        v[i].as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(0),
        [
            "name",
            "state",
            "exitCode",
            "reason",
            "startedAt",
            "finishedAt",
            "restarts"
        ]
    );
    assert_eq!(keys(1), ["name", "state", "startedAt", "restarts"]);
    assert_eq!(keys(2), ["name", "state", "reason", "restarts"]);
    assert_eq!(v[2]["state"], "Waiting");
    let started = v[0]["startedAt"].as_str().unwrap();
    assert!(
        started.ends_with('Z') && started.parse::<Timestamp>().is_ok(),
        "{started}"
    );
    let back: Vec<StepStatus> = serde_json::from_value(v).unwrap();
    assert_eq!(back[0].started_at, s[0].started_at);
    assert_eq!(
        serde_json::to_value(StepState::OomKilled).unwrap(),
        "OOMKilled"
    );
}

/// Derived: the captured restarted step, caught while its second attempt runs (its
/// container restarted after its predecessor ended, so the restart is its true start).
#[test]
fn a_step_restarted_in_place_started_when_its_container_restarted() {
    let mut raw = doc("job-flaky-pods")["items"][0].clone();
    let mut restart = None;
    for c in raw["status"]["containerStatuses"].as_array_mut().unwrap() {
        if c["name"] == "flaky" {
            restart = Some(c["state"]["terminated"]["startedAt"].clone());
            c["state"] = serde_json::json!({"running": {"startedAt": restart.clone().unwrap()}});
        }
        if c["name"] == "last" {
            c["state"] = serde_json::json!({"running": {"startedAt": c["state"]["terminated"]["startedAt"].clone()}});
        }
    }
    let s = step_statuses(&typed(raw));
    assert_eq!(
        states(&s),
        [
            ("first", Succeeded, Some(0)),
            ("flaky", Running, None),
            ("last", Waiting, None)
        ]
    );
    assert_eq!(s[1].restarts, 1);
    assert_eq!(s[1].started_at, Some(ts(&restart.unwrap())));
    assert!(s[1].started_at > s[0].finished_at, "{s:?}");
}
