//! Which Pods belong to a Job and which Jobs to a CronJob, from lists the caller fetched:
//! the same rules as the Job and CronJob controllers (owner references, then the Job's
//! labels), so the answer matches what `kubectl` shows.

use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The labels the Job controller puts on its Pods: the current one, then the legacy one.
pub(crate) const JOB_NAME_LABELS: [&str; 2] = ["batch.kubernetes.io/job-name", "job-name"];

/// The Job's Pods among `pods`, oldest first: owned by the Job (by uid), or, for documents
/// without owner references, labelled with its name in its namespace.
pub fn job_pods<'a>(job: &Job, pods: &'a [Pod]) -> Vec<&'a Pod> {
    let mut out: Vec<&Pod> = pods
        .iter()
        .filter(|p| owned_by(&p.metadata, &job.metadata, "Job"))
        .collect();
    out.sort_by(|a, b| creation_order(&a.metadata, &b.metadata));
    out
}

/// The Job's newest Pod: the one whose steps say how the Job is doing now.
pub fn newest_pod<'a>(job: &Job, pods: &'a [Pod]) -> Option<&'a Pod> {
    job_pods(job, pods).pop()
}

/// The CronJob's Jobs among `jobs`, oldest first (owned by it, by uid or by name).
pub fn cron_job_jobs<'a>(cron_job: &CronJob, jobs: &'a [Job]) -> Vec<&'a Job> {
    let mut out: Vec<&Job> = jobs
        .iter()
        .filter(|j| owned_by(&j.metadata, &cron_job.metadata, "CronJob"))
        .collect();
    out.sort_by(|a, b| creation_order(&a.metadata, &b.metadata));
    out
}

/// The CronJob's newest Job.
pub fn newest_job<'a>(cron_job: &CronJob, jobs: &'a [Job]) -> Option<&'a Job> {
    cron_job_jobs(cron_job, jobs).pop()
}

fn owned_by(child: &ObjectMeta, owner: &ObjectMeta, kind: &str) -> bool {
    if child.namespace.is_some() && owner.namespace.is_some() && child.namespace != owner.namespace
    {
        return false;
    }
    let Some(name) = owner.name.as_deref() else {
        return false;
    };
    let refs = child.owner_references.as_deref().unwrap_or_default();
    if let Some(r) = refs.iter().find(|r| r.kind == kind && r.name == name) {
        // Same name, other uid: an earlier object of that name, not this one.
        return owner
            .uid
            .as_deref()
            .is_none_or(|uid| r.uid.is_empty() || r.uid == uid);
    }
    kind == "Job"
        && refs.is_empty()
        && child.labels.as_ref().is_some_and(|labels| {
            JOB_NAME_LABELS
                .iter()
                .any(|l| labels.get(*l).is_some_and(|v| v == name))
        })
}

fn creation_order(a: &ObjectMeta, b: &ObjectMeta) -> std::cmp::Ordering {
    let key = |m: &ObjectMeta| (m.creation_timestamp.as_ref().map(|t| t.0), m.name.clone());
    key(a).cmp(&key(b))
}
