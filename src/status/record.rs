//! The runner's outcome record as the kubelet shows it: the JSON termination message of a
//! step container (`src/step/record.rs` writes it). Read with serde here, because this side
//! runs on any OS and the runner's own reader lives in the Linux-only step module.

use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;

/// One step's record; unknown keys are ignored so that newer runners stay readable.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Record {
    /// `Succeeded`, `Failed`, `Skipped`, `PredecessorLost`, `Terminated`, `StartFailed`, or a
    /// reason a newer runner added (kept verbatim).
    pub reason: String,
    pub exit_code: i32,
    #[serde(default)]
    pub signal: Option<i32>,
    /// When waiting ended: the step's true start.
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    #[serde(default)]
    pub message: Option<String>,
    /// Runs of the command (written only when the runner retried it).
    #[serde(default)]
    pub attempts: Option<u32>,
    /// The step failed, yet its successors ran (`onError: continue`, `debug continue`).
    #[serde(default)]
    pub continued: bool,
    /// How a hold for debugging ended (`continue`, `fail`, `retry`, `timeout`, `stopped`).
    #[serde(default)]
    pub debug: Option<String>,
}

impl Record {
    /// The record in a termination message, or `None` when the message is absent or is not
    /// a runner record (the user's program may write its own message there).
    pub(crate) fn from_message(message: Option<&str>) -> Option<Record> {
        let text = message?.trim();
        if !text.starts_with('{') {
            return None;
        }
        serde_json::from_str(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_runner_writes() {
        let r = Record::from_message(Some(
            r#"{"name":"b","reason":"Failed","exitCode":137,"signal":9,"startedAt":"2026-12-02T00:45:17.158217Z","finishedAt":"2026-12-02T00:45:17.955491Z","future":1}"#,
        ))
        .unwrap();
        assert_eq!(
            (r.reason.as_str(), r.exit_code, r.signal),
            ("Failed", 137, Some(9))
        );
        assert_eq!(r.started_at.to_string(), "2026-12-02T00:45:17.158217Z");
    }

    #[test]
    fn reads_attempts_continued_and_debug() {
        let r = Record::from_message(Some(
            r#"{"name":"b","reason":"TimedOut","exitCode":124,"signal":15,"startedAt":"2026-12-02T00:45:17Z","finishedAt":"2026-12-02T00:45:18Z","attempts":3,"continued":true,"debug":"continue"}"#,
        ))
        .unwrap();
        assert_eq!(
            (r.attempts, r.continued, r.debug.as_deref()),
            (Some(3), true, Some("continue"))
        );
    }

    #[test]
    fn a_user_message_is_not_a_record() {
        assert_eq!(Record::from_message(Some("disk full")), None);
        assert_eq!(
            Record::from_message(Some(r#"{"reason":"Succeeded"}"#)),
            None
        );
        assert_eq!(Record::from_message(None), None);
    }
}
