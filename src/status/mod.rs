//! Step status as data: which step of a converted Pod runs, which wait, how each ended and
//! when it really started. Read only from what the API server shows (the Pod's container
//! statuses and the runner's JSON termination messages), so it works on a fetched Pod, a
//! saved `kubectl get -o yaml`, or a Pod a controller is watching.
//!
//! # The rules
//!
//! A converted Pod's steps are its `spec.containers` whose command is the runner
//! ([`crate::protocol::RUNNER_PATH`]), in spec order. Each step's state comes from its
//! container status:
//!
//! - **terminated**: the container reason `OOMKilled` gives `OOMKilled`. Otherwise the
//!   runner's record decides: `Succeeded`, `Failed` (and `StartFailed`, a command that could
//!   not start), `Skipped`, `PredecessorLost`, `TimedOut`; a step stopped while waiting
//!   (`Terminated`) never ran, so it is `Skipped`. When the Pod ended with
//!   `DeadlineExceeded` (`activeDeadlineSeconds`), the step killed by a signal is
//!   `TimedOut`. Without a record (the runner itself was killed), exit code 0 is
//!   `Succeeded` and anything else `Failed`, with the kubelet's reason; a container the
//!   kubelet lost (`ContainerStatusUnknown`) is `Failed`, since nothing says how it ended.
//! - **running**: the container runs, but the runner may still be waiting. A running step
//!   is `Running` when every step it waits for is `Succeeded`, and `Waiting` otherwise.
//!   Its start is then the latest finish among those predecessors' records (the moment the
//!   runner stopped waiting, to within its wake-up time), or the container's start when
//!   that is later (a first step, or a step restarted in place). The kubelet reports a finished predecessor up to a second or so late, and
//!   until it does, the next step shows as `Waiting`.
//! - **waiting** or no status yet: `Waiting`, with the kubelet's reason (`PodInitializing`,
//!   `ContainerCreating`, `CrashLoopBackOff`, ...). In a Pod that has ended, a step that never
//!   got to run is `Skipped` with the Pod's reason.
//!
//! ```
//! use k8s_openapi::api::core::v1::Pod;
//! use kueueleuleu::status::{StepState, running_step, step_statuses};
//!
//! // A converted one-step Pod whose step has just started (as `kubectl get -o json` shows it).
//! let pod: Pod = serde_json::from_value(serde_json::json!({
//!     "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "build"},
//!     "spec": {"containers": [{
//!         "name": "compile", "image": "busybox:1.37",
//!         "command": ["/kueueleuleu/bin/kueueleuleu-step"],
//!         "args": ["run", "--name", "compile", "--run-dir", "/kueueleuleu/run/0",
//!                  "--command-len", "1", "--", "make"]}]},
//!     "status": {"phase": "Running", "containerStatuses": [{
//!         "name": "compile", "image": "busybox:1.37", "imageID": "", "ready": true,
//!         "restartCount": 0, "state": {"running": {"startedAt": "2026-12-02T00:45:16Z"}}}]}
//! }))?;
//! let steps = step_statuses(&pod);
//! assert_eq!(steps[0].state, StepState::Running);
//! assert_eq!(running_step(&pod).unwrap().name, "compile");
//! assert_eq!(
//!     serde_json::to_string(&steps[0])?,
//!     r#"{"name":"compile","state":"Running","startedAt":"2026-12-02T00:45:16Z","restarts":0}"#
//! );
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! Times come from the record (`startedAt` is when waiting ended, not when the container
//! started) and fall back to the container's times; `restarts` is the container's
//! `restartCount` (in-place restarts under `restartPolicy: OnFailure`).
//!
//! The per-step controls show as: `TimedOut` (the record's reason, exit code 124) for a
//! step's own `timeout`; `attempts` when the runner retried the command in place
//! (`retries`); `continued: true` for a failed step whose successors ran anyway (its
//! `exitCode` is the command's, while the container exited 0); `debug` with how a hold for
//! debugging ended. A step held for debugging *right now* is a running container with no
//! termination message yet, which the Pod object cannot tell from a running command: from a
//! Pod alone it shows as `Running` with `debug: onFailure`. When `status` fetches from the
//! cluster it also reads the last lines of such a step's log: the hold notice as the
//! runner's last line there makes it `debug: held`, reason `HeldForDebugging`, with the
//! command to go on.

#[doc(hidden)]
pub mod cli;
mod fetch;
mod held;
mod input;
mod owners;
mod record;
mod render;
mod state;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

pub use owners::{cron_job_jobs, job_pods, newest_job, newest_pod};

/// Where a step is in its life. The spelling is what `kueueleuleu status -o json` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StepState {
    /// Not running its command yet: the container is not up, or a predecessor has not
    /// finished.
    Waiting,
    /// Running its command.
    Running,
    /// The command exited 0.
    Succeeded,
    /// The command exited non-zero, died of a signal, or could not start.
    Failed,
    /// Never ran: a predecessor failed or was skipped, or the Pod was stopped first.
    Skipped,
    /// Never ran: a predecessor died without recording how it ended.
    PredecessorLost,
    /// The container went over its memory limit and was killed.
    #[serde(rename = "OOMKilled")]
    OomKilled,
    /// Stopped because its time ran out (the step's timeout or the Pod's deadline).
    TimedOut,
}

impl StepState {
    /// The spelling used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Waiting => "Waiting",
            StepState::Running => "Running",
            StepState::Succeeded => "Succeeded",
            StepState::Failed => "Failed",
            StepState::Skipped => "Skipped",
            StepState::PredecessorLost => "PredecessorLost",
            StepState::OomKilled => "OOMKilled",
            StepState::TimedOut => "TimedOut",
        }
    }

    /// True once the step will not change any more (short of an in-place restart).
    pub fn is_final(self) -> bool {
        !matches!(self, StepState::Waiting | StepState::Running)
    }

    /// True for the outcomes a user has to look at: the step itself went wrong.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            StepState::Failed | StepState::OomKilled | StepState::TimedOut
        )
    }
}

impl std::fmt::Display for StepState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step of a converted Pod. Serializes to the documented JSON form
/// `{"name","state","exitCode","reason","startedAt","finishedAt","restarts"}`, with
/// RFC 3339 times and unknown values left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepStatus {
    /// The container name.
    pub name: String,
    pub state: StepState,
    /// The container's exit code, once it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// A one-word reason: the runner's record reason when there is one, else the kubelet's
    /// (`OOMKilled`, `Error`, `PodInitializing`, ...), or `AwaitingPredecessor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the step stopped waiting and started its command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    /// When the step's outcome was known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// In-place restarts of the container (`restartPolicy: OnFailure`).
    #[serde(default)]
    pub restarts: i32,
    /// Runs of the command in the container's last run, when the runner retried it in place
    /// (`retries`); absent for a single run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// The step failed (its `state` and `exitCode` say how), yet its successors ran and the
    /// container exited 0: `onError: continue`, or `debug continue`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub continued: bool,
    /// How a hold for debugging ended (`continue`, `fail`, `retry`, `timeout`, `stopped`);
    /// for a running step, `onFailure` (it will be held if its command fails) or `held` (it
    /// is held now, which only its log shows: read when `status` fetches from the cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug: Option<String>,
    /// Why, in words (which predecessor failed, what is awaited); for people, not scripts.
    #[serde(skip)]
    pub message: Option<String>,
}

impl StepStatus {
    /// How long the step ran: start to finish, or start to `now` while it runs.
    pub fn duration(&self, now: Timestamp) -> Option<SignedDuration> {
        let start = self.started_at?;
        let end = match (self.finished_at, self.state) {
            (Some(end), _) => end,
            (None, StepState::Running) => now,
            (None, _) => return None,
        };
        Some(end.duration_since(start))
    }
}

/// True when the Pod has steps (at least one container runs the step runner); the full
/// check of the sequential form is [`crate::is_converted`].
pub(crate) fn has_steps(pod: &Pod) -> bool {
    !state::steps_of(pod).is_empty()
}

/// The status of every step of a converted Pod, in spec order; empty for a Pod that is not
/// converted (see [`crate::is_converted`]).
pub fn step_statuses(pod: &Pod) -> Vec<StepStatus> {
    state::statuses(pod)
}

/// The step running its command now: the first one in spec order, should several run.
pub fn running_step(pod: &Pod) -> Option<StepStatus> {
    step_statuses(pod)
        .into_iter()
        .find(|s| s.state == StepState::Running)
}
