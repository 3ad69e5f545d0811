//! Steps that have not ended: waiting for the Pod, for a predecessor, in a crash loop, or running.

use super::*;

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
