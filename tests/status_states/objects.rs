//! Beyond one converted Pod: a CronJob's newest Job, an unconverted Pod, the JSON form.

use super::*;

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
