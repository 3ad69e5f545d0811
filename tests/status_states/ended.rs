//! How steps end: succeeded, failed, skipped, lost, OOM-killed, timed out, restarted.

use super::*;

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
