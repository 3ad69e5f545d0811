//! A YAML emitter for the values kueueleuleu writes itself.
//!
//! Kubernetes tooling reads YAML 1.1 (Go's yaml.v2 behind kubectl and kustomize), where bare
//! `on`, `yes`, `y`, `no`, `off` are booleans, `0123` is octal and `12:30` is a base-60
//! integer. serde-style emitters write those bare and change what a manifest means. So every
//! string we write goes through [`scalar`], which leaves a string plain only when no YAML 1.1
//! or 1.2 reader can take it for anything but that string, and double-quotes it otherwise.

use serde_json::Value;
use std::fmt::Write as _;

/// Words a YAML 1.1 reader resolves to a bool or null (matched case-insensitively).
const RESERVED_WORDS: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
];

/// The text of `s` as a YAML scalar that reads back as exactly `s` in YAML 1.1 and 1.2.
pub fn scalar(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_string()
    } else {
        double_quoted(s)
    }
}

/// Plain only for a conservative shape: starts with a letter, `/`, `_` or a `-`/`--` flag
/// prefix followed by a letter, continues with `[A-Za-z0-9_./-]`, and is no reserved word.
/// No digit start (numbers, octal, sexagesimal, dates), no `:` or `#`, no spaces.
fn is_plain_safe(s: &str) -> bool {
    let body = s
        .strip_prefix("--")
        .or_else(|| s.strip_prefix('-'))
        .unwrap_or(s);
    let mut chars = body.chars();
    let first_ok = match chars.next() {
        Some(c) => c.is_ascii_alphabetic() || ((c == '/' || c == '_') && body.len() == s.len()),
        None => false,
    };
    first_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'))
        && !RESERVED_WORDS.iter().any(|w| w.eq_ignore_ascii_case(s))
}

/// A double-quoted scalar. Escapes everything YAML does not allow raw or would fold: control
/// characters and the YAML 1.1 line breaks NEL, LS and PS, plus the byte order mark.
pub fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn needs_escape(c: char) -> bool {
    let cp = c as u32;
    cp < 0x20
        || cp == 0x7F
        || (0x80..=0x9F).contains(&cp)
        || cp == 0x2028
        || cp == 0x2029
        || cp == 0xFEFF
        || cp == 0xFFFE
        || cp == 0xFFFF
}

/// A value as block-style YAML, every line indented by `indent` spaces; mapping keys in the
/// order the value holds them (serde_json's `preserve_order`), so output is stable.
pub fn block(value: &Value, indent: usize) -> String {
    let mut out = String::new();
    write_block(&mut out, value, indent);
    out
}

fn write_block(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let _ = write!(out, "{pad}{}:", scalar(k));
                write_nested(out, v, indent, false);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                let _ = write!(out, "{pad}-");
                write_nested(out, item, indent, true);
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", inline(other));
        }
    }
}

/// Writes what follows `key:` or `-`: inline for scalars and empty collections, otherwise on
/// the next lines. A mapping inside a sequence item starts on the dash's line (`- name: x`).
fn write_nested(out: &mut String, value: &Value, indent: usize, in_sequence: bool) {
    match value {
        Value::Object(map) if !map.is_empty() && in_sequence => {
            let nested = block(value, indent + 2);
            out.push(' ');
            out.push_str(nested.trim_start());
            let _ = map;
        }
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_block(out, value, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            // Sequences under a key sit at the key's column (kubectl's style).
            write_block(out, value, if in_sequence { indent + 2 } else { indent });
        }
        other => {
            let _ = writeln!(out, " {}", inline(other));
        }
    }
}

/// A value in flow style, on one line.
pub fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar(s),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", scalar(k), inline(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Strings a YAML 1.1 reader would take for something else must come out quoted.
    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "on",
            "ON",
            "yes",
            "Y",
            "n",
            "no",
            "off",
            "true",
            "null",
            "~",
            "0123",
            "1e3",
            "12:30",
            "0x1F",
            "-1",
            "+1",
            ".5",
            "1_000",
            "",
            " lead",
            "a: b",
            "#c",
            "--",
            "-",
            "{x}",
            "[x]",
            "*a",
            "&a",
            "!t",
            "%p",
            "@x",
            "`x",
            "a b",
            "=",
            "<<",
            ".inf",
            "2001-12-14",
            "99999999999999999999",
        ] {
            let out = scalar(s);
            assert!(out.starts_with('"'), "{s:?} came out as {out}");
            let back: String = serde_yaml::from_str(&out).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn safe_strings_stay_plain() {
        for s in [
            "run",
            "--name",
            "-c",
            "/kueueleuleu/bin/kueueleuleu-step",
            "busybox",
            "a.b-c_d",
        ] {
            assert_eq!(scalar(s), s);
        }
    }

    #[test]
    fn escapes_read_back() {
        let s = "tab\there \"q\" back\\slash\nnel\u{85}ls\u{2028}bom\u{feff}bell\u{7}é→😀";
        let back: String = serde_yaml::from_str(&double_quoted(s)).unwrap();
        assert_eq!(back, s);
        assert!(!double_quoted(s).contains('\u{85}'));
    }

    #[test]
    fn block_reads_back_as_the_same_value() {
        let v = json!({
            "name": "kueueleuleu-init",
            "command": ["a", "on"],
            "securityContext": {"capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true},
            "volumeMounts": [{"name": "x", "mountPath": "/x"}],
            "empty": {}, "none": [], "n": 3
        });
        let text = block(&v, 0);
        let back: Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(back, v, "{text}");
        let indented = block(&json!([v.clone()]), 4);
        let back: Value = serde_yaml::from_str(&indented).unwrap();
        assert_eq!(back, json!([v]), "{indented}");
    }
}
