//! The state rules of the module documentation, applied to one Pod.

use k8s_openapi::api::core::v1::{ContainerStateTerminated, ContainerStatus, Pod};
use k8s_openapi::jiff::Timestamp;

use super::record::Record;
use super::{StepState, StepStatus};
use crate::protocol::{RUNNER_PATH, StepArgs};

/// The reason given to a step whose runner is waiting for a predecessor.
pub(crate) const AWAITING: &str = "AwaitingPredecessor";

/// The `debug` of a running step that will be held for debugging if its command fails.
pub(crate) const DEBUG_ARMED: &str = "onFailure";

/// The kubelet's reason for a container it could not find any more.
const STATUS_UNKNOWN: &str = "ContainerStatusUnknown";

/// One step as the spec declares it.
pub(crate) struct Step<'p> {
    pub name: &'p str,
    /// Its run directory and the ones it waits for; empty when the args are unreadable.
    pub run_dir: String,
    pub wait_for: Vec<String>,
    /// `--debug on-failure`: the step is held if its command fails.
    pub debug_on_failure: bool,
}

/// The Pod's step containers, in spec order.
pub(crate) fn steps_of(pod: &Pod) -> Vec<Step<'_>> {
    let Some(spec) = &pod.spec else {
        return Vec::new();
    };
    spec.containers
        .iter()
        .filter(|c| {
            c.command
                .as_deref()
                .is_some_and(|cmd| cmd.len() == 1 && cmd[0] == RUNNER_PATH)
        })
        .map(|c| {
            let args = StepArgs::parse(c.args.as_deref().unwrap_or_default()).ok();
            Step {
                name: &c.name,
                run_dir: args.as_ref().map(|a| a.run_dir.clone()).unwrap_or_default(),
                debug_on_failure: args.as_ref().is_some_and(|a| a.debug_on_failure),
                wait_for: args.map(|a| a.wait_for).unwrap_or_default(),
            }
        })
        .collect()
}

pub(crate) fn statuses(pod: &Pod) -> Vec<StepStatus> {
    let steps = steps_of(pod);
    let status = pod.status.as_ref();
    let containers: &[ContainerStatus] = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
    let pod_ended = matches!(phase, "Succeeded" | "Failed");
    let pod_reason = status.and_then(|s| s.reason.as_deref());
    let deadline = pod_reason == Some("DeadlineExceeded");

    // First pass: everything but running containers, whose state depends on predecessors.
    let mut out: Vec<StepStatus> = steps
        .iter()
        .map(|step| {
            let cs = containers.iter().find(|c| c.name == step.name);
            let mut s = StepStatus {
                name: step.name.to_string(),
                state: StepState::Waiting,
                exit_code: None,
                reason: None,
                started_at: None,
                finished_at: None,
                restarts: cs.map_or(0, |c| c.restart_count),
                attempts: None,
                continued: false,
                debug: None,
                message: None,
            };
            let state = cs.and_then(|c| c.state.as_ref());
            if let Some(t) = state.and_then(|st| st.terminated.as_ref()) {
                terminated(&mut s, t, deadline);
            } else if state.is_some_and(|st| st.running.is_some()) {
                // Decided in the second pass.
            } else if pod_ended {
                s.state = StepState::Skipped;
                s.reason = Some(pod_reason.unwrap_or(phase).to_string());
                s.message = Some("never started: the Pod ended first".into());
            } else {
                let waiting = state.and_then(|st| st.waiting.as_ref());
                s.reason = Some(
                    waiting
                        .and_then(|w| w.reason.clone())
                        .unwrap_or_else(|| pending_reason(pod)),
                );
                s.message = waiting.and_then(|w| w.message.clone());
                let last = cs
                    .and_then(|c| c.last_state.as_ref())
                    .and_then(|l| l.terminated.as_ref());
                if let Some(last) = last {
                    s.message = Some(format!(
                        "restarting after exit code {} ({})",
                        last.exit_code,
                        Record::from_message(last.message.as_deref())
                            .map(|r| r.reason)
                            .or_else(|| last.reason.clone())
                            .unwrap_or_default()
                    ));
                }
            }
            s
        })
        .collect();

    // Second pass: a running container runs its command once every predecessor succeeded.
    for (i, step) in steps.iter().enumerate() {
        let running = containers
            .iter()
            .find(|c| c.name == step.name)
            .and_then(|c| c.state.as_ref())
            .and_then(|st| st.running.as_ref());
        let Some(running) = running else { continue };
        let preds: Vec<usize> = step
            .wait_for
            .iter()
            .filter_map(|dir| {
                steps
                    .iter()
                    .position(|s| !dir.is_empty() && s.run_dir == *dir)
            })
            .collect();
        let pending: Vec<&str> = preds
            .iter()
            // A continued failure lets its successors go on, as a success does.
            .filter(|&&j| out[j].state != StepState::Succeeded && !out[j].continued)
            .map(|&j| steps[j].name)
            .collect();
        if pending.is_empty() {
            // The later of the container's start (a first step, or a step restarted in
            // place after its predecessors ended) and the predecessors' finish (a step whose
            // container started with the Pod and then waited).
            let container = running.started_at.as_ref().map(|t| t.0);
            let preds_done = preds.iter().map(|&j| out[j].finished_at).max().flatten();
            let started = container.max(preds_done);
            out[i].state = StepState::Running;
            out[i].started_at = started;
            if step.debug_on_failure {
                out[i].debug = Some(DEBUG_ARMED.into());
            }
        } else {
            out[i].reason = Some(AWAITING.into());
            out[i].message = Some(format!("waiting for {}", pending.join(", ")));
        }
    }
    // The runner names predecessors by run directory; people know them by step name.
    for s in &mut out {
        if let Some(msg) = &mut s.message {
            for step in steps.iter().filter(|st| !st.run_dir.is_empty()) {
                let dir = format!("predecessor {} ", step.run_dir);
                *msg = msg.replace(&dir, &format!("predecessor {} ", step.name));
            }
        }
    }
    out
}

/// Fills a step from its terminated container and the runner's record in it.
fn terminated(s: &mut StepStatus, t: &ContainerStateTerminated, deadline: bool) {
    let record = Record::from_message(t.message.as_deref());
    s.exit_code = Some(t.exit_code);
    s.started_at = record
        .as_ref()
        .map(|r| r.started_at)
        .or_else(|| time(t.started_at.as_ref()));
    s.finished_at = record
        .as_ref()
        .map(|r| r.finished_at)
        .or_else(|| time(t.finished_at.as_ref()));
    let kubelet_reason = t.reason.clone();
    let killed = record
        .as_ref()
        .map_or(t.exit_code > 128, |r| r.signal.is_some());
    let (state, reason) = match record.as_ref().map(|r| r.reason.as_str()) {
        _ if kubelet_reason.as_deref() == Some("OOMKilled") => {
            (StepState::OomKilled, kubelet_reason)
        }
        Some("Failed") | None
            if deadline && killed && kubelet_reason.as_deref() != Some(STATUS_UNKNOWN) =>
        {
            (StepState::TimedOut, Some("DeadlineExceeded".into()))
        }
        Some(r @ ("Succeeded" | "Failed" | "Skipped" | "PredecessorLost" | "TimedOut")) => (
            match r {
                "Succeeded" => StepState::Succeeded,
                "Failed" => StepState::Failed,
                "Skipped" => StepState::Skipped,
                "PredecessorLost" => StepState::PredecessorLost,
                _ => StepState::TimedOut,
            },
            Some(r.to_string()),
        ),
        Some("Terminated") => (StepState::Skipped, Some("Terminated".into())),
        Some(other) => (
            if t.exit_code == 0 {
                StepState::Succeeded
            } else {
                StepState::Failed
            },
            Some(other.to_string()),
        ),
        None if t.exit_code == 0 => (StepState::Succeeded, kubelet_reason),
        // The kubelet lost the container (the Pod ended while it was stopping it): no
        // outcome is known, not even whether the step ran.
        None if kubelet_reason.as_deref() == Some(STATUS_UNKNOWN) => {
            (StepState::Failed, kubelet_reason)
        }
        None => {
            s.message = Some(
                match t.exit_code - crate::protocol::exit_code::SIGNAL_BASE {
                    sig @ 1..=64 => format!("the runner left no record: killed by signal {sig}"),
                    _ => "the runner left no record".to_string(),
                },
            );
            (StepState::Failed, kubelet_reason)
        }
    };
    s.state = state;
    s.reason = reason;
    if let Some(r) = &record {
        s.attempts = r.attempts.filter(|n| *n > 1);
        s.continued = r.continued;
        s.debug = r.debug.clone();
        if r.continued {
            // The container exited 0 so the Pod went on; the command's own code is the news.
            s.exit_code = Some(r.exit_code);
        }
    }
    if let Some(msg) = record.and_then(|r| r.message) {
        s.message = Some(msg);
    } else if s.message.is_none() {
        s.message = t
            .message
            .clone()
            .filter(|m| !m.trim_start().starts_with('{'));
    }
}

fn time(t: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>) -> Option<Timestamp> {
    t.map(|t| t.0)
}

/// Why a Pod without container statuses waits: its scheduling condition, or `Pending`.
fn pending_reason(pod: &Pod) -> String {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        })
        .and_then(|c| c.reason.clone())
        .unwrap_or_else(|| "Pending".into())
}
