//! Reading what the real kubelet reports about converted Pods: phases, each step's
//! container status and the runner's record (its termination message), Job conditions.

use super::Namespace;
use serde_json::{Value, json};

/// An annotated Pod whose steps `s0`, `s1`, ... each echo their name; a step with
/// `Some((cpu, memory))` requests and is limited to them (a Guaranteed step), one with `None`
/// declares nothing (left to a LimitRange's defaults, or Burstable).
pub fn annotated_pod(name: &str, steps: &[Option<(&str, &str)>]) -> Value {
    let containers: Vec<Value> = steps
        .iter()
        .enumerate()
        .map(|(i, res)| {
            let mut c = json!({
                "name": format!("s{i}"),
                "image": "busybox:1.37",
                "command": ["sh", "-c", format!("echo s{i}")],
            });
            if let Some((cpu, memory)) = res {
                let r = json!({"cpu": cpu, "memory": memory});
                c["resources"] = json!({"requests": r, "limits": r});
            }
            c
        })
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "annotations": {"kueueleuleu.io/sequential": "true"}},
        "spec": {"restartPolicy": "Never", "containers": containers},
    })
}

/// One step as the API server reports it, in `spec.containers` order.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    /// The runner's JSON record, from the termination message (absent when the runner
    /// itself died before writing it).
    pub record: Option<Value>,
    /// `state.terminated` of the container.
    pub terminated: Option<Value>,
    pub restart_count: u64,
}

impl Step {
    /// The record's `reason` (`Succeeded`, `Failed`, `Skipped`, ...), or "" without one.
    pub fn reason(&self) -> &str {
        self.record
            .as_ref()
            .and_then(|r| r["reason"].as_str())
            .unwrap_or("")
    }

    /// The container's exit code.
    pub fn exit_code(&self) -> i64 {
        self.terminated
            .as_ref()
            .and_then(|t| t["exitCode"].as_i64())
            .unwrap_or(-1)
    }

    /// The kubelet's reason for the container's end (`Completed`, `Error`, `OOMKilled`).
    pub fn kubelet_reason(&self) -> &str {
        self.terminated
            .as_ref()
            .and_then(|t| t["reason"].as_str())
            .unwrap_or("")
    }

    /// A record timestamp in seconds since the epoch (`startedAt`, `finishedAt`).
    pub fn time(&self, key: &str) -> f64 {
        let rec = self
            .record
            .as_ref()
            .unwrap_or_else(|| panic!("step {} has no record", self.name));
        let text = rec[key]
            .as_str()
            .unwrap_or_else(|| panic!("step {}: record has no {key}: {rec}", self.name));
        parse_rfc3339(text)
    }
}

/// Seconds since the epoch of `YYYY-MM-DDTHH:MM:SS[.frac]Z` (the runner's and the API
/// server's UTC timestamps).
pub fn parse_rfc3339(text: &str) -> f64 {
    let bad = format!("not an RFC 3339 UTC time: {text:?}");
    let t = text.strip_suffix('Z').expect(&bad);
    let (date, time) = t.split_once('T').expect(&bad);
    let d: Vec<i64> = date.split('-').map(|p| p.parse().unwrap()).collect();
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let h: Vec<i64> = hms.split(':').map(|p| p.parse().unwrap()).collect();
    // Days from civil (Howard Hinnant's algorithm).
    let (y, m) = if d[1] <= 2 {
        (d[0] - 1, d[1] + 9)
    } else {
        (d[0], d[1] - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d[2] - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h[0] * 3600 + h[1] * 60 + h[2];
    secs as f64 + format!("0.{frac}").parse::<f64>().unwrap()
}

/// The steps of `pod` (its JSON), in spec order.
pub fn steps(pod: &Value) -> Vec<Step> {
    let statuses = pod["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    pod["spec"]["containers"]
        .as_array()
        .expect("spec.containers")
        .iter()
        .map(|c| {
            let name = c["name"].as_str().unwrap().to_owned();
            let status = statuses
                .iter()
                .find(|s| s["name"] == name.as_str())
                .cloned()
                .unwrap_or(Value::Null);
            let terminated = status["state"]["terminated"].clone();
            let record = terminated["message"]
                .as_str()
                .and_then(|m| serde_json::from_str(m).ok());
            Step {
                name,
                record,
                terminated: (!terminated.is_null()).then_some(terminated),
                restart_count: status["restartCount"].as_u64().unwrap_or(0),
            }
        })
        .collect()
}

/// Phase of a Pod's JSON.
pub fn phase(pod: &Value) -> &str {
    pod["status"]["phase"].as_str().unwrap_or("")
}

impl Namespace {
    /// Waits until Pod `name` is `Succeeded` or `Failed`; its JSON.
    pub fn wait_pod_done(&self, name: &str) -> Value {
        let mut pod = Value::Null;
        self.wait_until(&format!("Pod {name} to finish"), || {
            let out = self.kubectl(&["get", "pod", name, "-o", "json"], None);
            if !out.ok {
                return false;
            }
            pod = serde_json::from_str(&out.stdout).expect("pod JSON");
            matches!(phase(&pod), "Succeeded" | "Failed")
        });
        pod
    }

    /// Waits until Job `name` has a `Complete` or `Failed` condition; its JSON.
    pub fn wait_job_done(&self, name: &str) -> Value {
        let mut job = Value::Null;
        self.wait_until(&format!("Job {name} to finish"), || {
            job = self.get(&["job", name]);
            job_condition(&job).is_some()
        });
        job
    }

    /// Waits until Job `name` has ended, and asserts it ended with condition `want`
    /// (`Complete` or `Failed`), printing the namespace's diagnostics otherwise; its JSON.
    pub fn wait_job_ended(&self, name: &str, want: &str) -> Value {
        let job = self.wait_job_done(name);
        assert_eq!(
            job_condition(&job).map(|c| c.0).as_deref(),
            Some(want),
            "Job {name}\n{}",
            self.diagnostics()
        );
        job
    }

    /// The one Pod of Job `job` once it has finished: its name and JSON. A Job that made
    /// more than one Pod fails the test (its steps were meant to run in one Pod).
    pub fn only_job_pod(&self, job: &str) -> (String, Value) {
        let pods = self.job_pods(job);
        assert_eq!(
            pods.len(),
            1,
            "Job {job}: one Pod expected\n{}",
            self.diagnostics()
        );
        let name = pods[0]["metadata"]["name"].as_str().unwrap().to_owned();
        let pod = self.wait_pod_done(&name);
        (name, pod)
    }

    /// The Pods of Job `name`, oldest first.
    pub fn job_pods(&self, name: &str) -> Vec<Value> {
        let list = self.get(&[
            "pods",
            "-l",
            &format!("batch.kubernetes.io/job-name={name}"),
            "--sort-by=.metadata.creationTimestamp",
        ]);
        list["items"].as_array().cloned().unwrap_or_default()
    }

    /// `kubectl logs POD -c CONTAINER`.
    pub fn logs(&self, pod: &str, container: &str) -> String {
        self.ok(&["logs", pod, "-c", container], None)
    }
}

/// Asserts that every step succeeded (exit code 0, the runner's `Succeeded`) and that the
/// steps ran one after the other.
pub fn assert_all_succeeded_in_order(steps: &[Step]) {
    for step in steps {
        assert_eq!(
            (step.reason(), step.exit_code()),
            ("Succeeded", 0),
            "{step:?}"
        );
    }
    assert_strict_order(steps);
}

/// The terminal condition of a Job (`Complete` or `Failed`) that is `True`, with its reason.
pub fn job_condition(job: &Value) -> Option<(String, String)> {
    job["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| (c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True")
        .map(|c| {
            (
                c["type"].as_str().unwrap_or("").to_owned(),
                c["reason"].as_str().unwrap_or("").to_owned(),
            )
        })
}

/// Asserts the steps ran strictly one after the other: each started (after waiting)
/// no earlier than its predecessor finished.
pub fn assert_strict_order(steps: &[Step]) {
    for pair in steps.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            b.time("startedAt") >= a.time("finishedAt"),
            "step {} started at {} before step {} finished at {}",
            b.name,
            b.record.as_ref().unwrap()["startedAt"],
            a.name,
            a.record.as_ref().unwrap()["finishedAt"]
        );
    }
}
