//! One object: is it selected, where is its pod spec, and what does the operation make of
//! its text. Every edit is checked against the pure conversion before it is accepted, so a
//! text edit that went wrong surfaces as an error result instead of a wrong manifest.

mod annotations;
mod plan;
mod process;
mod read;
mod reports;
mod shared;
mod verify;

use crate::convert::Severity;
use crate::yaml::scan::{Scalar, Summary};
use serde_json::Value;

pub use process::process;
pub use reports::Reports;

/// The annotation that opts an object in.
pub const ANNOTATION: &str = "kueueleuleu.io/sequential";

/// What to do with the selected objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Into sequential form (idempotent).
    Convert,
    /// Back to what the user wrote, for every object in sequential form.
    Revert,
}

/// Names an object in results, the way kpt's `resourceRef` does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectRef {
    /// Empty when the object has none (itself an error).
    pub api_version: String,
    /// Empty when the object has none (itself an error).
    pub kind: String,
    /// `metadata.name`; empty when unset.
    pub name: String,
    /// `metadata.namespace`, when set.
    pub namespace: Option<String>,
    /// The file the object came from, as kpt/kustomize annotate it, and its index there.
    pub file: Option<(String, Option<u64>)>,
    /// Line of the object's first byte in the input it was read from.
    pub line: Option<usize>,
}

impl ObjectRef {
    /// The apiVersion and kind the scan read; missing parts stay empty.
    pub fn of_summary(s: &Summary<'_>) -> ObjectRef {
        let text = |v: &Option<Scalar<'_>>| v.as_ref().map(|s| s.text.to_string());
        ObjectRef {
            api_version: text(&s.api_version).unwrap_or_default(),
            kind: text(&s.kind).unwrap_or_default(),
            ..ObjectRef::default()
        }
    }

    /// Reads the identity of an object; missing parts stay empty.
    pub fn of(value: &Value) -> ObjectRef {
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let meta = value.get("metadata");
        let ann = meta.and_then(|m| m.get("annotations"));
        let ann_str = |k: &str| s(ann.and_then(|a| a.get(k)));
        let path = ann_str("config.kubernetes.io/path")
            .or_else(|| ann_str("internal.config.kubernetes.io/path"));
        let index = ann_str("config.kubernetes.io/index")
            .or_else(|| ann_str("internal.config.kubernetes.io/index"))
            .and_then(|i| i.parse().ok());
        ObjectRef {
            api_version: s(value.get("apiVersion")).unwrap_or_default(),
            kind: s(value.get("kind")).unwrap_or_default(),
            name: s(meta.and_then(|m| m.get("name"))).unwrap_or_default(),
            namespace: s(meta.and_then(|m| m.get("namespace"))),
            file: path.map(|p| (p, index)),
            line: None,
        }
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.kind.is_empty() {
            "object"
        } else {
            &self.kind
        };
        match (&self.namespace, self.name.as_str()) {
            (_, "") => write!(f, "{kind} (unnamed)"),
            (Some(ns), name) => write!(f, "{kind} {ns}/{name}"),
            (None, name) => write!(f, "{kind} {name}"),
        }
    }
}

/// A finding about one object, with the field path from the object's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Which object; the default (empty) ref for run-wide reports.
    pub object: ObjectRef,
    /// Errors fail the run.
    pub severity: Severity,
    /// Field path from the object's root, as kpt's `field.path`.
    pub field: Option<String>,
    /// What is wrong and the fix.
    pub message: String,
}

/// What happened to one object.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The new text of the object, when it changed.
    pub text: Option<String>,
    /// Findings about this object.
    pub reports: Vec<Report>,
    /// A Pod, Job or CronJob (selected or not): used to hint at the annotation.
    pub is_workload: bool,
    /// Selected for conversion; when no workload is, the user is told about the annotation.
    pub touched: bool,
}

/// Where each supported kind keeps its pod spec.
pub fn pod_spec_path(api_version: &str, kind: &str) -> Option<&'static [&'static str]> {
    match (api_version, kind) {
        ("v1", "Pod") => Some(&["spec"]),
        ("batch/v1", "Job") => Some(&["spec", "template", "spec"]),
        ("batch/v1" | "batch/v1beta1" | "batch/v2alpha1", "CronJob") => {
            Some(&["spec", "jobTemplate", "spec", "template", "spec"])
        }
        _ => None,
    }
}
