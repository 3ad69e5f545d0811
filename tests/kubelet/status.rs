//! The Pod's `status` as the API server shows it, from a finished run.

use std::time::SystemTime;

use super::{Attempt, ContainerState, Phase, PodRun};

fn api_time(t: SystemTime) -> String {
    let full = kueueleuleu::step::clock::format_rfc3339(t);
    format!("{}Z", &full[..19])
}

fn terminated(a: &Attempt) -> serde_json::Value {
    let mut t = serde_json::json!({
        "exitCode": a.exit_code,
        "reason": a.reason,
        "startedAt": api_time(a.started_at),
        "finishedAt": api_time(a.finished_at),
    });
    if !a.message.is_empty() {
        t["message"] = a.message.clone().into();
    }
    if let Some(sig) = a.signal {
        t["signal"] = sig.into();
    }
    serde_json::json!({ "terminated": t })
}

impl PodRun {
    /// A container by name (init or regular).
    pub fn container(&self, name: &str) -> &ContainerState {
        self.containers
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no container {name}"))
    }

    /// The Pod's `status` as the API server shows it.
    pub fn status(&self) -> serde_json::Value {
        let cs = |init: bool| -> Vec<serde_json::Value> {
            self.containers
                .iter()
                .filter(|c| c.init == init)
                .map(|c| {
                    let n = c.attempts.len();
                    serde_json::json!({
                        "name": c.name,
                        "image": c.image,
                        "ready": false,
                        "started": false,
                        "restartCount": n.saturating_sub(1),
                        "state": c.last().map(terminated).unwrap_or_else(|| serde_json::json!({"waiting": {"reason": "PodInitializing"}})),
                        "lastState": if n >= 2 { terminated(&c.attempts[n - 2]) } else { serde_json::json!({}) },
                    })
                })
                .collect()
        };
        serde_json::json!({
            "phase": match self.phase { Phase::Running => "Running", Phase::Succeeded => "Succeeded", Phase::Failed => "Failed" },
            "initContainerStatuses": cs(true),
            "containerStatuses": cs(false),
        })
    }
}
