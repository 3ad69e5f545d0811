//! Results as data: the KRM `results` list kpt prints and stores, and the one-line form
//! that goes to stderr (kustomize ignores `results`, so errors must be printed too).

use crate::convert::Severity;
use crate::emit;
use crate::object::{ObjectRef, Report};
use serde_json::{Map, Value, json};

impl Severity {
    /// The KRM spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One report as a KRM function result.
pub fn to_value(report: &Report) -> Value {
    let mut out = Map::new();
    out.insert("message".into(), json!(report.message));
    out.insert("severity".into(), json!(report.severity.as_str()));
    let o = &report.object;
    if !o.kind.is_empty() || !o.name.is_empty() {
        let mut r = Map::new();
        r.insert("apiVersion".into(), json!(o.api_version));
        r.insert("kind".into(), json!(o.kind));
        r.insert("name".into(), json!(o.name));
        if let Some(ns) = &o.namespace {
            r.insert("namespace".into(), json!(ns));
        }
        out.insert("resourceRef".into(), Value::Object(r));
    }
    if let Some(field) = &report.field {
        out.insert("field".into(), json!({ "path": field }));
    }
    if let Some((path, index)) = &o.file {
        let mut f = Map::new();
        f.insert("path".into(), json!(path));
        if let Some(i) = index {
            f.insert("index".into(), json!(i));
        }
        out.insert("file".into(), Value::Object(f));
    }
    Value::Object(out)
}

/// `results:` and its list, block style, with no trailing newline. Written one result at a
/// time: a run with ten thousand results never holds them all as values.
pub fn block_entry(reports: impl IntoIterator<Item = Report>) -> String {
    let mut out = String::from("results:\n");
    for report in reports {
        out.push_str(&emit::block(&Value::Array(vec![to_value(&report)]), 0));
    }
    out.truncate(out.trim_end_matches('\n').len());
    out
}

/// `results: [...]` on one line, for a ResourceList written in flow style (JSON).
pub fn flow_entry(reports: impl IntoIterator<Item = Report>) -> String {
    let mut out = String::from("\"results\": [");
    for (i, report) in reports.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&to_value(&report).to_string());
    }
    out.push(']');
    out
}

/// The stderr line for a report; `source` names the file the input came from, if any, and
/// the object's line in it is added.
pub fn line(report: &Report, source: Option<&str>) -> String {
    let mut out = format!("kueueleuleu: {}", report.severity.as_str());
    match (source, report.object.line) {
        (Some(name), Some(line)) => out.push_str(&format!(": {name}:{line}")),
        (Some(name), None) => out.push_str(&format!(": {name}")),
        _ => {}
    }
    let anonymous = ObjectRef {
        line: report.object.line,
        ..ObjectRef::default()
    };
    if report.object != anonymous {
        out.push_str(&format!(": {}", report.object));
    }
    if let Some(field) = &report.field {
        out.push_str(&format!(": {field}"));
    }
    if let Some((path, _)) = &report.object.file {
        out.push_str(&format!(" (in {path})"));
    }
    out.push_str(&format!(": {}", report.message));
    out
}
