//! Fetching from the cluster by running `kubectl` itself, so that kubeconfig, contexts and
//! exec-auth plugins behave exactly as the user's own `kubectl` does.

use anyhow::{Context, Result, anyhow, bail};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use super::input::{Objects, parse};
use super::owners::{JOB_NAME_LABELS, newest_job};

/// What to fetch, as `kubectl` spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Pod(String),
    Job(String),
    CronJob(String),
}

impl Target {
    /// `pod/NAME`, `job/NAME`, `cronjob/NAME` (and kubectl's other spellings); a bare
    /// `NAME` is a Pod.
    pub(crate) fn parse(s: &str) -> Result<Target> {
        let (kind, name) = s.split_once('/').unwrap_or(("pod", s));
        if name.is_empty() || name.contains('/') {
            bail!("{s:?}: give pod/NAME, job/NAME or cronjob/NAME");
        }
        let name = name.to_string();
        Ok(match kind.to_ascii_lowercase().as_str() {
            "pod" | "pods" | "po" => Target::Pod(name),
            "job" | "jobs" | "job.batch" | "jobs.batch" => Target::Job(name),
            "cronjob" | "cronjobs" | "cj" | "cronjob.batch" | "cronjobs.batch" => {
                Target::CronJob(name)
            }
            other => bail!(
                "{s:?}: `status` shows Pods, Jobs and CronJobs, not {other:?}; give pod/NAME, \
                 job/NAME or cronjob/NAME"
            ),
        })
    }
}

/// How to run kubectl: the binary (`KUBECTL`, else `kubectl` on PATH) and the flags that
/// choose the cluster and namespace, passed on as given.
pub(crate) struct Kubectl {
    pub bin: OsString,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
}

impl Kubectl {
    /// `kubectl get ARGS -o json`, parsed.
    fn get(&self, args: &[&str]) -> Result<Objects> {
        let mut cmd = Command::new(&self.bin);
        if let Some(k) = &self.kubeconfig {
            cmd.arg("--kubeconfig").arg(k);
        }
        if let Some(c) = &self.context {
            cmd.args(["--context", c]);
        }
        if let Some(n) = &self.namespace {
            cmd.args(["--namespace", n]);
        }
        cmd.arg("get").args(args).args(["-o", "json"]);
        let shown = format!("kubectl get {}", args.join(" "));
        let out = cmd.output().map_err(|e| {
            anyhow!(
                "running {:?}: {e}; install kubectl or set KUBECTL to its path",
                self.bin
            )
        })?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            bail!("{shown} failed: {}", err.trim());
        }
        let text = String::from_utf8(out.stdout).context("kubectl printed non-UTF-8 output")?;
        parse(&text, &shown)
    }

    /// The last `lines` of a container's log, or `None` when they cannot be read (no RBAC
    /// for `pods/log`, the container gone): only ever a hint, never an error.
    pub(crate) fn log_tail(
        &self,
        namespace: Option<&str>,
        pod: &str,
        container: &str,
        lines: usize,
    ) -> Option<String> {
        let mut cmd = Command::new(&self.bin);
        if let Some(k) = &self.kubeconfig {
            cmd.arg("--kubeconfig").arg(k);
        }
        if let Some(c) = &self.context {
            cmd.args(["--context", c]);
        }
        if let Some(n) = namespace.or(self.namespace.as_deref()) {
            cmd.args(["--namespace", n]);
        }
        let tail = format!("--tail={lines}");
        cmd.args(["logs", pod, "-c", container, &tail]);
        let out = cmd.stderr(std::process::Stdio::null()).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The target and what `status` needs with it: a Job's Pods, a CronJob's newest Job and
    /// its Pods. `done` tells `--watch` when to stop.
    pub(crate) fn fetch(&self, target: &Target) -> Result<(Objects, bool)> {
        match target {
            Target::Pod(name) => {
                let objects = self.get(&["pod", name])?;
                let done = objects.pods.iter().all(pod_ended);
                Ok((objects, done))
            }
            Target::Job(name) => {
                let mut objects = self.get(&["job", name])?;
                objects.pods = self.job_pods(name)?;
                let done = objects.jobs.iter().all(job_ended);
                Ok((objects, done))
            }
            Target::CronJob(name) => {
                let mut objects = self.get(&["cronjob", name])?;
                let jobs = self.get(&["jobs"])?.jobs;
                let newest = objects
                    .cron_jobs
                    .first()
                    .and_then(|cj| newest_job(cj, &jobs))
                    .cloned();
                let Some(job) = newest else {
                    bail!(
                        "CronJob {name} has no Job yet: it has not been scheduled; run one \
                         now with `kubectl create job --from=cronjob/{name} {name}-manual`"
                    );
                };
                let job_name = job.metadata.name.clone().unwrap_or_default();
                objects.pods = self.job_pods(&job_name)?;
                let done = job_ended(&job);
                objects.jobs = vec![job];
                Ok((objects, done))
            }
        }
    }

    fn job_pods(&self, job: &str) -> Result<Vec<k8s_openapi::api::core::v1::Pod>> {
        for label in JOB_NAME_LABELS {
            let pods = self.get(&["pods", "-l", &format!("{label}={job}")])?.pods;
            if !pods.is_empty() {
                return Ok(pods);
            }
        }
        Ok(Vec::new())
    }
}

fn pod_ended(pod: &k8s_openapi::api::core::v1::Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    matches!(phase, Some("Succeeded" | "Failed"))
}

fn job_ended(job: &k8s_openapi::api::batch::v1::Job) -> bool {
    let conditions = job.status.as_ref().and_then(|s| s.conditions.as_deref());
    conditions
        .unwrap_or_default()
        .iter()
        .any(|c| matches!(c.type_.as_str(), "Complete" | "Failed") && c.status == "True")
}
