//! One object: is it selected, where is its pod spec, and what does the operation make of
//! its text. Every edit is checked against the pure conversion before it is accepted, so a
//! text edit that went wrong surfaces as an error result instead of a wrong manifest.

mod annotations;
mod read;
mod reports;
mod shared;
mod verify;

use crate::config::Spec as Config;
use crate::convert::{self, Finding, Plan, Severity};
use crate::protocol;
use crate::source::Located;
use crate::step_settings::{STEPS_ANNOTATION, StepsMap};
use crate::yaml::scan::{Scalar, Summary};
use crate::yaml::tree::Node;
use serde_json::Value;

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

/// Processes one object of `input` (the whole input text). `tree` is the object's syntax tree
/// when the scan built it (offsets into `input`); without it the object's text is parsed.
pub fn process(
    input: &str,
    obj: &Located,
    op: Operation,
    config: &Config,
    json: bool,
    tree: Option<Node>,
) -> Outcome {
    let found = obj;
    let object_text = &input[found.range.clone()];
    let first_line = found.line;
    let parse = || {
        parse_object(
            object_text,
            found.column,
            first_line,
            &found.exported_anchors,
            found.range.start,
        )
    };
    let mut outcome = Outcome::default();
    let mut full: Option<Parsed> = None;
    let mut unreadable = None;
    if found.summary.needs_full_read {
        match parse() {
            Ok(p) => full = Some(p),
            Err(message) => unreadable = Some(message),
        }
    }
    // What selection needs comes from the scan; the name and file annotations only matter
    // for a report, so they are read then.
    let object = match &full {
        Some(p) => ObjectRef::of(&p.value),
        None => ObjectRef::of_summary(&found.summary),
    };
    let named = std::cell::OnceCell::new();
    let with_line = |o: ObjectRef| ObjectRef {
        line: Some(first_line),
        ..o
    };
    if let Some(p) = &full {
        let _ = named.set(with_line(ObjectRef::of(&p.value)));
    }
    let identity = || {
        named
            .get_or_init(|| {
                let read = match parse() {
                    Ok(p) => Some(ObjectRef::of(&p.value)),
                    Err(_) => loose_identity(object_text, found.column),
                };
                with_line(read.unwrap_or_else(|| object.clone()))
            })
            .clone()
    };
    let report = |severity, field: Option<String>, message: String| Report {
        object: identity(),
        severity,
        field,
        message,
    };
    if let Some(message) = unreadable {
        // Named all the same when a loose read finds the name, for the user to find it.
        outcome.reports.push(report(Severity::Error, None, message));
        return outcome;
    }
    if object.api_version.is_empty() || object.kind.is_empty() {
        outcome.reports.push(report(
            Severity::Error,
            Some(if object.api_version.is_empty() { "apiVersion" } else { "kind" }.into()),
            format!("every item must be a Kubernetes object with apiVersion and kind (the object at line {first_line} has none); add the missing field"),
        ));
        return outcome;
    }
    let annotation = annotation_of(&found.summary, full.as_ref().map(|p| &p.value));
    let annotated = matches!(annotation, Annotation::True);
    if let Annotation::Other(other) = &annotation
        && other.as_str() != Some("false")
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
        if op == Operation::Convert
            && (annotated || (config.select_all && known_workload_kind(&object.kind)))
        {
            let why = if annotated {
                ""
            } else {
                " (selectAll: it is a Pod, Job or CronJob of another API version)"
            };
            outcome.reports.push(report(
                if annotated { Severity::Error } else { Severity::Warning },
                Some(if annotated { format!("metadata.annotations.{ANNOTATION}") } else { "apiVersion".into() }),
                format!(
                    "{} {} cannot run its containers in sequence{why}: only v1 Pod, batch/v1 Job and \
                     batch/v1 or batch/v1beta1 CronJob can (a controller such as a Deployment restarts finished \
                     containers); {}",
                    object.api_version,
                    object.kind,
                    if annotated { "remove the annotation or move the steps into a Job" } else { "it was left unchanged; move it to a supported API version" }
                ),
            ));
        }
        return outcome;
    };
    outcome.is_workload = true;
    let selected = config.select_all || annotated;
    outcome.touched = op == Operation::Convert && selected;
    let worth_reading = match op {
        Operation::Convert => selected,
        Operation::Revert => {
            object_text.contains(protocol::RUNNER_PATH)
                || object_text.contains(protocol::INIT_CONTAINER)
        }
    };
    if !worth_reading {
        return outcome;
    }
    let field_prefix = path.join(".");
    if found.imports_alias {
        outcome.reports.push(report(
            Severity::Error,
            None,
            "this object uses an alias (*name) whose anchor is defined in another object; \
             write the aliased value out in this object so it can be converted on its own"
                .into(),
        ));
        return outcome;
    }
    let parsed = match full {
        Some(p) => p,
        None => match tree.map_or_else(parse, |root| from_tree(input, found, root)) {
            Ok(p) => {
                let _ = named.set(with_line(ObjectRef::of(&p.value)));
                p
            }
            Err(message) => {
                outcome.reports.push(report(Severity::Error, None, message));
                return outcome;
            }
        },
    };
    let Some(spec_value) = path.iter().try_fold(&parsed.value, |v, key| v.get(key)) else {
        if annotated {
            outcome.reports.push(report(
                Severity::Error,
                Some(field_prefix.clone()),
                format!("{object} has no pod spec at {field_prefix}; add one"),
            ));
        }
        return outcome;
    };
    let steps = match op {
        Operation::Convert => steps_annotation(&parsed.value),
        Operation::Revert => Ok(StepsMap::new()),
    };
    let steps = match steps {
        Ok(steps) => steps,
        Err(message) => {
            outcome.reports.push(report(
                Severity::Error,
                Some(format!("metadata.annotations.{STEPS_ANNOTATION}")),
                message,
            ));
            return outcome;
        }
    };
    let sidecars = match op {
        Operation::Convert => convert::sidecars::annotation_of(&parsed.value),
        Operation::Revert => Ok(None),
    };
    let sidecars = match sidecars {
        Ok(s) => s,
        Err(message) => {
            outcome.reports.push(report(
                Severity::Error,
                Some(format!(
                    "metadata.annotations.{}",
                    convert::sidecars::SIDECARS_ANNOTATION
                )),
                message,
            ));
            return outcome;
        }
    };
    let spec_tree = path.iter().try_fold(&parsed.root, |n, key| n.get(key));
    let written = spec_tree.map(|node| (&parsed.text[..], node));
    let plan = match plan_for(spec_value, op, config, (&steps, sidecars), written) {
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
    let spec_node = match owned_nodes_safe(&parsed, path) {
        Ok(node) => node,
        Err((field, message)) => {
            outcome.reports.push(report(
                Severity::Error,
                Some(join(&field_prefix, &field)),
                message,
            ));
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
    match edit_text(&parsed, path, spec_node, spec_value, &plan, json) {
        Ok((new_text, notes)) => {
            for n in notes {
                outcome.reports.push(report(
                    Severity::Warning,
                    Some(join(&field_prefix, &n.field)),
                    format!(
                        "{:?} is written without quotes, so kubectl and other YAML 1.1 readers take it for {} \
                         (and would reject or change this container); it was kept as the string {:?} and is now quoted",
                        n.text, n.reading, n.text
                    ),
                ));
            }
            outcome.text = (new_text != object_text).then_some(new_text);
        }
        Err(message) => outcome
            .reports
            .push(report(Severity::Error, Some(field_prefix), message)),
    }
    outcome
}

/// Replaces each recorded literal (`null`, `[]`) with the value's text as written (`~`,
/// `[ ]`, or nothing at all after `args:`), so that revert gives back the same bytes.
fn exact_literals(text: &str, spec: &Node, literals: &mut convert::Literals) {
    for (path, literal) in literals.iter_mut() {
        let node = match path.split_once("].") {
            Some((container, key)) => container
                .strip_prefix("containers[")
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| spec.get("containers")?.items()?.get(i))
                .and_then(|c| c.get(key)),
            None => spec.get(path),
        };
        if let Some(n) = node.filter(|n| n.anchor == 0 && n.tag.is_none())
            && let Some(written) = text.get(n.start..n.end)
            && !written.contains(['\n', '#'])
        {
            *literal = written.to_string();
        }
    }
}

/// Kinds named like the supported ones, whatever their API version.
fn known_workload_kind(kind: &str) -> bool {
    matches!(kind, "Pod" | "Job" | "CronJob")
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
    config: &Config,
    (steps, sidecars): (&StepsMap, Option<Vec<String>>),
    written: Option<(&str, &Node)>,
) -> Result<Option<Plan>, Vec<Finding>> {
    match op {
        Operation::Convert => {
            let mut original = convert::unwrap(spec)?;
            original.moved.annotation = sidecars;
            if let Some((text, node)) = written {
                convert::probes::exact_texts(text, node, &mut original);
            }
            if !original.was_converted
                && let Some((text, node)) = written
            {
                exact_literals(text, node, &mut original.literals);
                original.resources.texts = crate::edit::written_texts(text, node);
            }
            convert::wrap(&original, config, steps).map(Some)
        }
        Operation::Revert => {
            let original = convert::unwrap(spec)?;
            Ok(original.was_converted.then(|| convert::revert(&original)))
        }
    }
}

use annotations::{Annotation, annotation_of, steps_annotation};
use read::{Parsed, from_tree, loose_identity, parse_object};
use shared::owned_nodes_safe;
use verify::edit_text;
