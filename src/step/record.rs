//! The outcome record: what a step leaves in its run directory (`done`) for its successors,
//! and what the kubelet shows as the container's termination message. One flat JSON object,
//! written and read here without serde so the runner binary stays small.
//!
//! ```json
//! {"name":"build","reason":"Succeeded","exitCode":0,"startedAt":"2025-01-01T00:00:00.000000Z","finishedAt":"2025-01-01T00:00:01.500000Z"}
//! ```
//! Optional keys: `signal` (the command, or the waiting runner, died of it) and `message`
//! (why the runner decided, e.g. which predecessor failed). Readers ignore unknown keys.

use std::fmt::Write as _;
use std::time::SystemTime;

use super::clock::{format_rfc3339, parse_rfc3339};
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
        self.reason == Reason::Succeeded
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
        })
    }
}

/// Appends `s` JSON-escaped, stopping (at a character boundary) before `budget` bytes.
fn escape_into(out: &mut String, s: &str, budget: usize) {
    let mut used = 0;
    let mut buf = [0u8; 4];
    for c in s.chars() {
        let piece: &str = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => {
                let esc = format!("\\u{:04x}", c as u32);
                if used + esc.len() > budget {
                    return;
                }
                used += esc.len();
                out.push_str(&esc);
                continue;
            }
            c => c.encode_utf8(&mut buf),
        };
        if used + piece.len() > budget {
            return;
        }
        used += piece.len();
        out.push_str(piece);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Str(String),
    Int(i64),
}

/// A parser for exactly what records need: one object of string and integer values.
fn parse_flat_object(text: &str) -> Result<Vec<(String, Value)>, RecordError> {
    let mut p = Cursor {
        s: text.as_bytes(),
        i: 0,
    };
    let mut fields = Vec::new();
    p.ws();
    p.expect(b'{')?;
    p.ws();
    if p.peek() == Some(b'}') {
        p.i += 1;
    } else {
        loop {
            p.ws();
            let key = p.string()?;
            p.ws();
            p.expect(b':')?;
            p.ws();
            let value = match p.peek() {
                Some(b'"') => Value::Str(p.string()?),
                Some(b'-' | b'0'..=b'9') => Value::Int(p.int()?),
                _ => {
                    return Err(RecordError::Syntax(
                        "value is neither a string nor an integer",
                    ));
                }
            };
            fields.push((key, value));
            p.ws();
            match p.next() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => return Err(RecordError::Syntax("expected `,` or `}`")),
            }
        }
    }
    p.ws();
    if p.i != p.s.len() {
        return Err(RecordError::Syntax("trailing data"));
    }
    Ok(fields)
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let c = self.peek();
        self.i += 1;
        c
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
    }
    fn expect(&mut self, c: u8) -> Result<(), RecordError> {
        if self.next() == Some(c) {
            Ok(())
        } else {
            Err(RecordError::Syntax("unexpected character"))
        }
    }
    fn int(&mut self) -> Result<i64, RecordError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or(RecordError::Syntax("bad integer"))
    }
    fn hex4(&mut self) -> Result<u32, RecordError> {
        let part = self
            .s
            .get(self.i..self.i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or(RecordError::Syntax("bad \\u escape"))?;
        self.i += 4;
        Ok(part)
    }
    fn string(&mut self) -> Result<String, RecordError> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            match self.next() {
                None => return Err(RecordError::Syntax("unterminated string")),
                Some(b'"') => break,
                Some(b'\\') => {
                    let c = match self.next() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi)
                                && self.s.get(self.i..self.i + 2) == Some(b"\\u")
                            {
                                self.i += 2;
                                let lo = self.hex4()?;
                                0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF)
                            } else {
                                hi
                            };
                            char::from_u32(code).unwrap_or('\u{FFFD}')
                        }
                        _ => return Err(RecordError::Syntax("bad escape")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                Some(c) => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|_| RecordError::Syntax("string is not UTF-8"))
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
