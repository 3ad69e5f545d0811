//! The outcome record: what a step leaves in its run directory (`done`) for its successors,
//! and what the kubelet shows as the container's termination message. One flat JSON object,
//! written and read here without serde so the runner binary stays small.
//!
//! ```json
//! {"name":"build","reason":"Succeeded","exitCode":0,"startedAt":"2025-01-01T00:00:00.000000Z","finishedAt":"2025-01-01T00:00:01.500000Z"}
//! ```
//! Optional keys: `signal` (the command, or the waiting runner, died of it), `message`
//! (why the runner decided, e.g. which predecessor failed), `attempts` (runs of the command,
//! when `--retries` re-ran it), `continued` (`true`: the step failed but its successors go on,
//! by `--on-error continue` or `debug continue`) and `debug` (how a hold for debugging ended:
//! `continue`, `fail`, `retry`, `timeout` or `stopped`). Readers ignore unknown keys.

use std::fmt::Write as _;
use std::time::SystemTime;

use super::clock::{format_rfc3339, parse_rfc3339};
use super::json::{Value, escape_into, parse_flat_object};
use crate::protocol::Reason;

/// The kubelet reads at most 4 KiB of a termination message; the record never exceeds it.
pub const MAX_LEN: usize = 4096;
/// Names are DNS labels in practice; a longer one is cut so the record stays bounded.
const MAX_NAME: usize = 253;

/// How one run of a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The container name, so a termination message is readable on its own.
    pub name: String,
    /// Why the step ended.
    pub reason: Reason,
    /// The container's exit code (the command's, or the runner's own for runner decisions).
    pub exit_code: i32,
    /// The signal that ended the command (or the waiting runner), if any.
    pub signal: Option<i32>,
    /// When waiting ended and the command was (or would have been) started.
    pub started_at: SystemTime,
    /// When the outcome was known.
    pub finished_at: SystemTime,
    /// Why the runner decided, for outcomes other than the command's own.
    pub message: Option<String>,
    /// How many times the command ran: 1 unless `--retries` (or `debug retry`) re-ran it, and
    /// 1 too for a step whose command never ran (only counts above 1 are written).
    pub attempts: u32,
    /// The step failed, yet its successors run as if it had succeeded.
    pub continued: bool,
    /// How a hold for debugging ended, when there was one.
    pub debug: Option<String>,
}

/// Why a `done` file could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("not a flat JSON object: {0}")]
    Syntax(&'static str),
    #[error("missing or invalid field {0:?}")]
    Field(&'static str),
}

impl Record {
    /// True when successors may go ahead.
    pub fn succeeded(&self) -> bool {
        self.reason == Reason::Succeeded || self.continued
    }

    /// The JSON form, at most [`MAX_LEN`] bytes: the message is cut first, then the name.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("{\"name\":\"");
        escape_into(&mut out, &self.name, MAX_NAME);
        let _ = write!(
            out,
            "\",\"reason\":\"{}\",\"exitCode\":{}",
            self.reason, self.exit_code
        );
        if let Some(sig) = self.signal {
            let _ = write!(out, ",\"signal\":{sig}");
        }
        let _ = write!(
            out,
            ",\"startedAt\":\"{}\",\"finishedAt\":\"{}\"",
            format_rfc3339(self.started_at),
            format_rfc3339(self.finished_at)
        );
        if self.attempts > 1 {
            let _ = write!(out, ",\"attempts\":{}", self.attempts);
        }
        if self.continued {
            out.push_str(",\"continued\":true");
        }
        if let Some(debug) = &self.debug {
            out.push_str(",\"debug\":\"");
            escape_into(&mut out, debug, 16);
            out.push('"');
        }
        if let Some(msg) = &self.message {
            out.push_str(",\"message\":\"");
            let budget = MAX_LEN.saturating_sub(out.len() + 2);
            escape_into(&mut out, msg, budget);
            out.push('"');
        }
        out.push('}');
        out
    }

    /// Reads what [`Record::to_json`] writes; unknown keys are ignored for forward compatibility.
    pub fn from_json(text: &str) -> Result<Record, RecordError> {
        let fields = parse_flat_object(text)?;
        let get = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let string = |key: &'static str| match get(key) {
            Some(Value::Str(s)) => Ok(s.clone()),
            _ => Err(RecordError::Field(key)),
        };
        let int = |key: &'static str| match get(key) {
            Some(Value::Int(n)) => i32::try_from(*n).map_err(|_| RecordError::Field(key)),
            _ => Err(RecordError::Field(key)),
        };
        let time = |key: &'static str| {
            string(key).and_then(|s| parse_rfc3339(&s).ok_or(RecordError::Field(key)))
        };
        Ok(Record {
            name: string("name").unwrap_or_default(),
            reason: Reason::parse(&string("reason")?).ok_or(RecordError::Field("reason"))?,
            exit_code: int("exitCode")?,
            signal: match get("signal") {
                None => None,
                Some(_) => Some(int("signal")?),
            },
            started_at: time("startedAt")?,
            finished_at: time("finishedAt")?,
            message: match get("message") {
                None => None,
                Some(_) => Some(string("message")?),
            },
            attempts: match get("attempts") {
                None => 1,
                Some(Value::Int(n)) => {
                    u32::try_from(*n).map_err(|_| RecordError::Field("attempts"))?
                }
                Some(_) => return Err(RecordError::Field("attempts")),
            },
            continued: match get("continued") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(RecordError::Field("continued")),
            },
            debug: match get("debug") {
                None => None,
                Some(_) => Some(string("debug")?),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn sample() -> Record {
        Record {
            name: "build".into(),
            reason: Reason::Failed,
            exit_code: 137,
            signal: Some(9),
            started_at: UNIX_EPOCH + Duration::new(1_700_000_000, 1_000),
            finished_at: UNIX_EPOCH + Duration::new(1_700_000_001, 500_000_000),
            message: Some("quote \" backslash \\ newline \n bell \u{7} é".into()),
            attempts: 1,
            continued: false,
            debug: None,
        }
    }

    #[test]
    fn json_round_trips() {
        let r = sample();
        let json = r.to_json();
        assert!(
            json.starts_with(
                "{\"name\":\"build\",\"reason\":\"Failed\",\"exitCode\":137,\"signal\":9,"
            ),
            "{json}"
        );
        assert_eq!(Record::from_json(&json).unwrap(), r);
        let plain = Record {
            signal: None,
            message: None,
            reason: Reason::Succeeded,
            exit_code: 0,
            ..r
        };
        assert_eq!(Record::from_json(&plain.to_json()).unwrap(), plain);
    }

    #[test]
    fn attempts_continued_and_debug_round_trip() {
        let r = Record {
            reason: Reason::TimedOut,
            exit_code: 124,
            signal: Some(15),
            attempts: 3,
            continued: true,
            debug: Some("continue".into()),
            ..sample()
        };
        let json = r.to_json();
        assert!(
            json.contains(",\"attempts\":3,\"continued\":true,\"debug\":\"continue\","),
            "{json}"
        );
        assert_eq!(Record::from_json(&json).unwrap(), r);
        assert!(r.succeeded(), "a continued failure lets successors go on");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            (v["continued"].as_bool(), v["attempts"].as_u64()),
            (Some(true), Some(3))
        );
        // One attempt and no continuation are the defaults: not written, read back as such.
        assert!(!sample().to_json().contains("attempts"));
        let bad = json.replace("\"continued\":true", "\"continued\":tru");
        assert!(Record::from_json(&bad).is_err());
        let bad = json.replace("\"attempts\":3", "\"attempts\":\"3\"");
        assert_eq!(Record::from_json(&bad), Err(RecordError::Field("attempts")));
    }

    #[test]
    fn json_is_what_serde_json_reads() {
        let v: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(v["exitCode"], 137);
        assert_eq!(
            v["message"],
            "quote \" backslash \\ newline \n bell \u{7} é"
        );
        assert_eq!(v["startedAt"], "2023-11-14T22:13:20.000001Z");
    }

    #[test]
    fn long_messages_are_cut_to_the_kubelet_limit() {
        let r = Record {
            message: Some("\"é".repeat(5000)),
            name: "n".repeat(1000),
            ..sample()
        };
        let json = r.to_json();
        assert!(json.len() <= MAX_LEN, "{}", json.len());
        assert!(json.len() > MAX_LEN - 8, "{}", json.len());
        let back = Record::from_json(&json).unwrap();
        assert_eq!(back.name.len(), MAX_NAME);
        assert!(back.message.unwrap().starts_with("\"é\"é"));
    }

    #[test]
    fn reader_ignores_unknown_keys_and_rejects_broken_records() {
        let json = sample()
            .to_json()
            .replacen('{', "{\"future\":\"x\",\"n\":-1,", 1);
        assert_eq!(Record::from_json(&json).unwrap(), sample());
        assert!(Record::from_json("").is_err());
        assert!(Record::from_json("{\"reason\":\"Succeeded\"}").is_err());
        assert!(Record::from_json(&sample().to_json()[..40]).is_err());
        let bad_reason = sample().to_json().replace("Failed", "Exploded");
        assert_eq!(
            Record::from_json(&bad_reason),
            Err(RecordError::Field("reason"))
        );
        assert!(Record::from_json(&format!("{} x", sample().to_json())).is_err());
    }
}
