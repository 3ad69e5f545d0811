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

#[path = "status_states/ended.rs"]
mod ended;
#[path = "status_states/objects.rs"]
mod objects;
#[path = "status_states/waiting.rs"]
mod waiting;
