//! Reading what `status` shows: Pods, Jobs, CronJobs and Lists of them, as YAML or JSON
//! (what `kubectl get -o yaml|json` prints), and choosing the Pods whose steps to show.

use anyhow::{Context, Result, anyhow, bail};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;

use super::owners::{JOB_NAME_LABELS, cron_job_jobs, job_pods, newest_job};

/// Everything the input held, Lists flattened.
#[derive(Default)]
pub(crate) struct Objects {
    pub pods: Vec<Pod>,
    pub jobs: Vec<Job>,
    pub cron_jobs: Vec<CronJob>,
    /// The input was one Pod, not a List or a stream: its steps print as one list.
    pub single_pod: bool,
    /// The input held a List (never "one Pod", even with one item).
    pub in_list: bool,
}

impl Objects {
    pub(crate) fn is_empty(&self) -> bool {
        self.pods.is_empty() && self.jobs.is_empty() && self.cron_jobs.is_empty()
    }
}

/// The Pods to show, oldest first, and whether they print as one list or one per Pod.
pub(crate) struct Selection {
    pub pods: Vec<Pod>,
    pub single: bool,
}

/// Parses `text` (`what` names it in errors: a file name, `stdin`, `kubectl get ...`).
pub(crate) fn parse(text: &str, what: &str) -> Result<Objects> {
    let text = text.trim_start_matches('\u{feff}');
    let docs: Vec<Value> = if text.trim_start().starts_with('{') {
        // One JSON document, or several back to back (`cat a.json b.json`).
        serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .with_context(|| format!("{what}: not valid JSON"))?
    } else {
        let roots = crate::yaml::tree::parse(text)
            .map_err(|e| anyhow!("{what}: not valid YAML or JSON: {e}"))?;
        roots
            .iter()
            .flatten()
            .map(|root| {
                crate::yaml::value::Resolver::new(root)
                    .value(root)
                    .map_err(|e| anyhow!("{what}: {e}"))
            })
            .collect::<Result<_>>()?
    };
    let mut objects = Objects::default();
    let mut count = 0;
    for doc in docs {
        add(&mut objects, doc, what, &mut count, 0)?;
    }
    objects.single_pod = count == 1 && objects.pods.len() == 1 && !objects.in_list;
    Ok(objects)
}

fn add(
    objects: &mut Objects,
    doc: Value,
    what: &str,
    count: &mut usize,
    depth: usize,
) -> Result<()> {
    if doc.is_null() {
        return Ok(());
    }
    let kind = doc
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)")
        .to_string();
    let api = doc
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match (api, kind.as_str()) {
        (_, k) if k.ends_with("List") && depth == 0 => {
            objects.in_list = true;
            let items = match doc.get("items") {
                Some(Value::Array(items)) => items.clone(),
                Some(Value::Null) | None => Vec::new(),
                Some(_) => bail!("{what}: {kind}: `items` is not a list"),
            };
            for item in items {
                add(objects, item, what, count, depth + 1)?;
            }
            return Ok(());
        }
        ("v1", "Pod") => objects.pods.push(typed(doc, what, &kind, &name)?),
        ("batch/v1", "Job") => objects.jobs.push(typed(doc, what, &kind, &name)?),
        ("batch/v1", "CronJob") => objects.cron_jobs.push(typed(doc, what, &kind, &name)?),
        _ => bail!(
            "{what}: {} {name} is not something `status` reads: give a v1 Pod, a batch/v1 Job \
             or CronJob, or a List of them (`kubectl get pod NAME -o yaml`)",
            if kind.is_empty() {
                "an object without `kind`".to_string()
            } else {
                format!("{api} {kind}")
            }
        ),
    }
    *count += 1;
    Ok(())
}

fn typed<T: serde::de::DeserializeOwned>(
    doc: Value,
    what: &str,
    kind: &str,
    name: &str,
) -> Result<T> {
    serde_path_to_error::deserialize(doc).map_err(|e| {
        anyhow!(
            "{what}: {kind} {name}: {}: {}; is this what `kubectl get {} {name} -o yaml` prints?",
            e.path(),
            e.inner(),
            kind.to_lowercase()
        )
    })
}

/// The Pods to show: those of each CronJob's newest Job, of each other Job, and every Pod
/// that belongs to no Job of the input. A Job given without its Pods is an error that says
/// how to get them, unless `fetched` (kubectl found none: the Job has not made one yet).
pub(crate) fn select(objects: Objects, fetched: bool) -> Result<Selection> {
    let Objects {
        pods,
        jobs,
        cron_jobs,
        single_pod,
        ..
    } = objects;
    let mut wanted: Vec<&Job> = Vec::new();
    for cj in &cron_jobs {
        let name = display_name(&cj.metadata);
        match newest_job(cj, &jobs) {
            Some(job) => wanted.push(job),
            None => bail!(
                "CronJob {name} has no Job in the input: it has not run yet, or its Jobs were \
                 left out; give them too (`kubectl get cronjob,jobs -o yaml`) or run \
                 `kueueleuleu status cronjob/{}`",
                cj.metadata.name.as_deref().unwrap_or_default()
            ),
        }
    }
    for job in &jobs {
        let by_cron = cron_jobs.iter().any(|cj| {
            cron_job_jobs(cj, &jobs)
                .iter()
                .any(|j| std::ptr::eq(*j, job))
        });
        if !by_cron {
            wanted.push(job);
        }
    }
    let mut chosen: Vec<Pod> = Vec::new();
    for job in &wanted {
        let mine = job_pods(job, &pods);
        if mine.is_empty() && !fetched {
            let job_name = job.metadata.name.as_deref().unwrap_or_default();
            bail!(
                "Job {} has no Pod in the input; give its Pods too (`kubectl get job,pods -l \
                 {}={job_name} -o yaml`) or run `kueueleuleu status job/{job_name}`",
                display_name(&job.metadata),
                JOB_NAME_LABELS[0]
            );
        }
        chosen.extend(mine.into_iter().cloned());
    }
    for pod in &pods {
        if !jobs
            .iter()
            .any(|j| job_pods(j, std::slice::from_ref(pod)).len() == 1)
        {
            chosen.push(pod.clone());
        }
    }
    Ok(Selection {
        pods: chosen,
        single: single_pod,
    })
}

/// `namespace/name`, or `name` when the namespace is not known.
pub(crate) fn display_name(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> String {
    match (&meta.namespace, &meta.name) {
        (Some(ns), Some(name)) => format!("{ns}/{name}"),
        (None, Some(name)) => name.clone(),
        (_, None) => "(unnamed)".into(),
    }
}
