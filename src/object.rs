//! One object: is it selected, where is its pod spec, and what does the operation make of
//! its text. Every edit is checked against the pure conversion before it is accepted, so a
//! text edit that went wrong surfaces as an error result instead of a wrong manifest.

use crate::config::Spec as Config;
use crate::convert::{self, Finding, Plan, Severity};
use crate::edit;
use serde::Deserialize;
use serde_json::Value;
use std::str::FromStr;
use yaml_edit::{Document, Mapping};

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
}

impl ObjectRef {
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
        ("batch/v1", "CronJob") => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

/// Processes one object: `value` is its meaning, `text` its YAML (first line starting at
/// `column`, which the text is re-indented by while it is edited on its own).
pub fn process(
    value: &Value,
    text: &str,
    column: usize,
    op: Operation,
    config: &Config,
) -> Outcome {
    let object = ObjectRef::of(value);
    let report = |severity, field: Option<String>, message: String| Report {
        object: object.clone(),
        severity,
        field,
        message,
    };
    if object.api_version.is_empty() || object.kind.is_empty() {
        return Outcome {
            reports: vec![report(
                Severity::Error,
                Some(if object.api_version.is_empty() { "apiVersion" } else { "kind" }.into()),
                "every item must be a Kubernetes object with apiVersion and kind; add the missing field".into(),
            )],
            ..Default::default()
        };
    }
    let annotation = value
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(ANNOTATION));
    let annotated = annotation.and_then(Value::as_str) == Some("true");
    let mut outcome = Outcome::default();
    if let Some(other) =
        annotation.filter(|a| a.as_str() != Some("true") && a.as_str() != Some("false"))
    {
        outcome.reports.push(report(
            Severity::Warning,
            Some(format!("metadata.annotations.{ANNOTATION}")),
            match other {
                Value::Bool(_) => format!(
                    "annotation value {other} is a YAML boolean, but annotation values are strings \
                     (the API server rejects this object); write `{ANNOTATION}: \"true\"` with quotes"
                ),
                _ => format!("annotation value {other} is neither \"true\" nor \"false\"; the object is left as is"),
            },
        ));
    }
    let Some(path) = pod_spec_path(&object.api_version, &object.kind) else {
        if annotated && op == Operation::Convert {
            outcome.reports.push(report(
                Severity::Error,
                Some(format!("metadata.annotations.{ANNOTATION}")),
                format!(
                    "{} {} cannot run its containers in sequence: only v1 Pod, batch/v1 Job and \
                     batch/v1 CronJob can (a controller such as a Deployment restarts finished \
                     containers); remove the annotation or move the steps into a Job",
                    object.api_version, object.kind
                ),
            ));
        }
        return outcome;
    };
    outcome.is_workload = true;
    let field_prefix = path.join(".");
    let Some(spec) = path.iter().try_fold(value, |v, key| v.get(key)) else {
        if annotated {
            outcome.reports.push(report(
                Severity::Error,
                Some(field_prefix.clone()),
                format!("{} has no pod spec at {field_prefix}; add one", object),
            ));
        }
        return outcome;
    };
    let selected = config.select_all || annotated;
    outcome.touched = op == Operation::Convert && selected;
    let plan = match plan_for(spec, op, selected, config) {
        Ok(Some(plan)) => plan,
        Ok(None) => return outcome,
        Err(findings) => {
            outcome.reports.extend(
                findings
                    .into_iter()
                    .map(|f| report(f.severity, Some(join(&field_prefix, &f.field)), f.message)),
            );
            return outcome;
        }
    };
    for note in &plan.notes {
        outcome.reports.push(report(
            note.severity,
            Some(join(&field_prefix, &note.field)),
            note.message.clone(),
        ));
    }
    match edit_text(value, text, column, path, spec, &plan) {
        Ok(new_text) => outcome.text = (new_text != text).then_some(new_text),
        Err(message) => outcome
            .reports
            .push(report(Severity::Error, Some(field_prefix), message)),
    }
    outcome
}

fn join(prefix: &str, field: &str) -> String {
    if field.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

/// The plan for a pod spec, or `None` when the operation leaves it alone.
fn plan_for(
    spec: &Value,
    op: Operation,
    selected: bool,
    config: &Config,
) -> Result<Option<Plan>, Vec<Finding>> {
    match op {
        Operation::Convert if !selected => Ok(None),
        Operation::Convert => {
            let original = convert::unwrap(spec)?;
            convert::wrap(&original, config).map(Some)
        }
        Operation::Revert => {
            let original = convert::unwrap(spec)?;
            Ok(original.was_converted.then(|| convert::revert(&original)))
        }
    }
}

/// Edits the object's text and checks the result means exactly what the plan says.
fn edit_text(
    value: &Value,
    text: &str,
    column: usize,
    path: &[&str],
    spec: &Value,
    plan: &Plan,
) -> Result<String, String> {
    let indented = format!("{}{}", " ".repeat(column), text);
    let doc = Document::from_str(&indented)
        .map_err(|e| format!("internal: could not re-read the object: {e}"))?;
    let root = doc
        .as_mapping()
        .ok_or("internal: the object is not a mapping in the YAML text")?;
    let spec_map = path
        .iter()
        .try_fold(root, |m: Mapping, key| m.get_mapping(key))
        .ok_or("internal: the pod spec is not a block or flow mapping in the YAML text")?;
    edit::apply(&spec_map, spec, plan, &path.join(".")).map_err(|e| e.to_string())?;
    let edited = doc.to_string();
    let new_text = edited
        .strip_prefix(&" ".repeat(column))
        .ok_or("internal: the edit changed the object's first line")?
        .to_string();
    let mut expected = value.clone();
    let target = path
        .iter()
        .try_fold(&mut expected, |v, key| v.get_mut(*key))
        .ok_or("internal: pod spec vanished")?;
    *target = convert::apply_json(spec, plan);
    let reread = Value::deserialize(serde_yaml::Deserializer::from_str(&edited)).map_err(|e| {
        format!("internal: the edited object is not valid YAML ({e}); please report this input")
    })?;
    if reread != expected {
        return Err("internal: the edited YAML does not match the planned conversion; the object was left unchanged, please report this input".into());
    }
    Ok(new_text)
}
