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

/// Writes `results:` and its list, block style, with no trailing newline. One result at a
/// time: a run with ten thousand results never holds them all, as values or as text.
pub fn write_block_entry(
    reports: impl IntoIterator<Item = Report>,
    out: &mut impl std::fmt::Write,
) -> std::fmt::Result {
    out.write_str("results:\n")?;
    // The line ends after the last result are left out, so each result's are written only
    // once the next one comes.
    let mut held = String::new();
    for report in reports {
        out.write_str(&held)?;
        let item = emit::block(&Value::Array(vec![to_value(&report)]), 0);
        let body = item.trim_end_matches('\n');
        out.write_str(body)?;
        held = item[body.len()..].to_string();
    }
    Ok(())
}

/// Writes `results: [...]` on one line, for a ResourceList written in flow style (JSON).
pub fn write_flow_entry(
    reports: impl IntoIterator<Item = Report>,
    out: &mut impl std::fmt::Write,
) -> std::fmt::Result {
    out.write_str("\"results\": [")?;
    for (i, report) in reports.into_iter().enumerate() {
        if i > 0 {
            out.write_str(",")?;
        }
        write!(out, "{}", to_value(&report))?;
    }
    out.write_str("]")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::Severity;

    #[test]
    fn results_written_one_at_a_time_are_the_list_written_at_once() {
        let reports: Vec<Report> = (0..5)
            .map(|i| Report {
                object: ObjectRef {
                    api_version: "v1".into(),
                    kind: "Pod".into(),
                    name: format!("p{i}"),
                    ..ObjectRef::default()
                },
                severity: if i == 2 {
                    Severity::Error
                } else {
                    Severity::Info
                },
                field: (i % 2 == 0).then(|| "spec.containers".to_string()),
                message: format!("line one {i}\nline two: {i}\n"),
            })
            .collect();
        let list = Value::Array(reports.iter().map(to_value).collect());
        let mut block = String::new();
        write_block_entry(reports.iter().cloned(), &mut block).unwrap();
        assert_eq!(
            block,
            format!("results:\n{}", emit::block(&list, 0).trim_end_matches('\n'))
        );
        let mut flow = String::new();
        write_flow_entry(reports.iter().cloned(), &mut flow).unwrap();
        assert_eq!(flow, format!("\"results\": {list}"));
    }
}
