//! One object: is it selected, where is its pod spec, and what does the operation make of
//! its text. Every edit is checked against the pure conversion before it is accepted, so a
//! text edit that went wrong surfaces as an error result instead of a wrong manifest.

use crate::config::Spec as Config;
use crate::convert::{self, Finding, Plan, Severity};
use crate::edit;
use crate::protocol;
use crate::source::Located;
use crate::yaml::scan::{Scalar, Summary};
use crate::yaml::tree::{self, Body, Node};
use crate::yaml::value::Resolver;
use serde_json::Value;

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

/// The selection annotation as the scan or a full read saw it.
enum Annotation {
    Absent,
    True,
    Other(Value),
}

fn annotation_of(summary: &Summary<'_>, full: Option<&Value>) -> Annotation {
    if let Some(value) = full {
        return match value
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(ANNOTATION))
        {
            None => Annotation::Absent,
            Some(Value::String(s)) if s == "true" => Annotation::True,
            Some(other) => Annotation::Other(other.clone()),
        };
    }
    match &summary.selection {
        None => Annotation::Absent,
        Some(Scalar { text, plain }) => match (text.as_ref(), plain) {
            ("true", false) => Annotation::True,
            ("true" | "True" | "TRUE", true) => Annotation::Other(Value::Bool(true)),
            ("false" | "False" | "FALSE", true) => Annotation::Other(Value::Bool(false)),
            (other, _) => Annotation::Other(Value::String(other.to_string())),
        },
    }
}

/// One object, parsed: its text (indented back to where it stood), its tree and meaning.
struct Parsed {
    /// Column the object's first line stood at (its text is indented back by this much).
    column: usize,
    /// Line of the object's first byte in the input.
    first_line: usize,
    text: String,
    root: Node,
    value: Value,
    /// Anchor ids that some alias in the object (or another object) refers to.
    used_anchors: Vec<usize>,
}

/// Line of the object's first byte in the input, to turn the object's lines into the input's.
fn parse_object(
    text: &str,
    column: usize,
    first_line: usize,
    exported: &[usize],
    start: usize,
) -> Result<Parsed, String> {
    let padded = format!("{}{}", " ".repeat(column), text);
    let shift = |line: usize| line + first_line - 1;
    let mut docs = tree::parse(&padded)
        .map_err(|e| format!("not valid YAML: {} at line {}", e.message, shift(e.line)))?;
    let root = match docs.pop() {
        Some(Some(root)) if docs.is_empty() => root,
        _ => {
            return Err(
                "internal: the object is not one YAML node; please report this input".into(),
            );
        }
    };
    let value = Resolver::new(&root)
        .value(&root)
        .map_err(|e| relines(&e.to_string(), first_line))?;
    let mut used = Vec::new();
    root.walk(&mut |n| {
        if let Body::Alias(id) = n.body {
            used.push(id);
        }
        if n.anchor != 0 && exported.contains(&(n.start + start - column)) {
            used.push(n.anchor);
        }
    });
    Ok(Parsed {
        column,
        first_line,
        text: padded,
        root,
        value,
        used_anchors: used,
    })
}

/// The identity of an object that has no single meaning (a repeated key, say), read from
/// its syntax tree with the last of any repeated key, so the error can still name it.
fn loose_identity(text: &str, column: usize) -> Option<ObjectRef> {
    let padded = format!("{}{}", " ".repeat(column), text);
    let root = tree::parse(&padded).ok()?.pop()??;
    let scalar = |n: Option<&Node>| n.and_then(Node::scalar).map(|s| Value::String(s.into()));
    let meta = root.get("metadata");
    let mut annotations = serde_json::Map::new();
    if let Some(Body::Map { entries, .. }) =
        meta.and_then(|m| m.get("annotations")).map(|a| &a.body)
    {
        for (k, v) in entries {
            if let (Some(k), Some(v)) = (k.scalar(), v.scalar()) {
                annotations.insert(k.into(), Value::String(v.into()));
            }
        }
    }
    let mut value = serde_json::json!({"metadata": {"annotations": annotations}});
    for (key, node) in [
        ("apiVersion", root.get("apiVersion")),
        ("kind", root.get("kind")),
    ] {
        if let Some(v) = scalar(node) {
            value[key] = v;
        }
    }
    for key in ["name", "namespace"] {
        if let Some(v) = scalar(meta.and_then(|m| m.get(key))) {
            value["metadata"][key] = v;
        }
    }
    Some(ObjectRef::of(&value))
}

/// Messages from a lone object count lines from its start; make them the input's lines.
fn relines(message: &str, first_line: usize) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(at) = rest.find("line") {
        let (head, tail) = rest.split_at(at);
        out.push_str(head);
        let word_len = if tail.starts_with("lines ") {
            6
        } else if tail.starts_with("line ") {
            5
        } else {
            4
        };
        out.push_str(&tail[..word_len]);
        rest = &tail[word_len..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            let n: usize = rest[..digits].parse().unwrap_or(0);
            out.push_str(&(n + first_line - 1).to_string());
            rest = &rest[digits..];
            if let Some(more) = rest.strip_prefix(" and ") {
                let d = more.len() - more.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                if d > 0 {
                    let n: usize = more[..d].parse().unwrap_or(0);
                    out.push_str(&format!(" and {}", n + first_line - 1));
                    rest = &more[d..];
                }
            }
        }
    }
    out.push_str(rest);
    out
}

/// Processes one object of `input` (the whole input text).
pub fn process(input: &str, obj: &Located, op: Operation, config: &Config, json: bool) -> Outcome {
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
    if found.summary.needs_full_read {
        match parse() {
            Ok(p) => full = Some(p),
            Err(message) => {
                outcome.reports.push(Report {
                    object: ObjectRef {
                        line: Some(first_line),
                        ..ObjectRef::of_summary(&found.summary)
                    },
                    severity: Severity::Error,
                    field: None,
                    message,
                });
                return outcome;
            }
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
        None => match parse() {
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
    let plan = match plan_for(spec_value, op, config) {
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

/// Kinds named like the supported ones, whatever their API version.
fn known_workload_kind(kind: &str) -> bool {
    matches!(kind, "Pod" | "Job" | "CronJob")
}

/// The pod spec node, when nothing the conversion edits is shared through an anchor, reached
/// through an alias or filled by a merge key (editing it would change another place's meaning,
/// or miss fields the merge supplies). Otherwise the field and what to do.
fn owned_nodes_safe<'p>(parsed: &'p Parsed, path: &[&str]) -> Result<&'p Node, (String, String)> {
    let used = |n: &Node| n.anchor != 0 && parsed.used_anchors.contains(&n.anchor);
    let anchor_name = |n: &Node| {
        let before = &parsed.text[..n.start];
        before.rfind('&').map_or_else(String::new, |at| {
            before[at..]
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string()
        })
    };
    let refuse_anchor = |field: &str, n: &Node| {
        (
            field.to_string(),
            format!(
                "this field holds anchor {} which is also used elsewhere (*{}); converting would \
                 change every place that uses it; copy the value where it is used instead of the alias",
                anchor_name(n),
                anchor_name(n).trim_start_matches('&')
            ),
        )
    };
    let refuse_alias = |field: &str| {
        (
            field.to_string(),
            "this field is an alias (*name) of a value defined elsewhere; converting would have to \
             edit the shared value; write the value out here instead of the alias"
                .to_string(),
        )
    };
    let refuse_merge = |field: &str| {
        (
            field.to_string(),
            "this mapping takes keys from a merge key (<<: *name), and the conversion edits its keys; \
             write the merged keys out in this mapping"
                .to_string(),
        )
    };
    let has_merge = |n: &Node| matches!(&n.body, Body::Map { entries, .. } if entries.iter().any(|(k, _)| k.scalar() == Some("<<")));
    let mut node = &parsed.root;
    let mut field = String::new();
    for key in path {
        if used(node) {
            return Err(refuse_anchor(&field, node));
        }
        if has_merge(node) {
            return Err(refuse_merge(&field));
        }
        node = node
            .get(key)
            .ok_or_else(|| (field.clone(), "missing".to_string()))?;
        field = if field.is_empty() {
            (*key).to_string()
        } else {
            format!("{field}.{key}")
        };
        if matches!(node.body, Body::Alias(_)) {
            return Err(refuse_alias(""));
        }
    }
    let spec = node;
    if used(spec) {
        return Err(refuse_anchor("", spec));
    }
    if has_merge(spec) {
        return Err(refuse_merge(""));
    }
    for key in ["containers", "initContainers", "volumes", "restartPolicy"] {
        let Some(v) = spec.get(key) else { continue };
        if matches!(v.body, Body::Alias(_)) {
            return Err(refuse_alias(key));
        }
        if used(v) {
            return Err(refuse_anchor(key, v));
        }
        if v.tag.is_some() {
            return Err((
                key.into(),
                "tagged values cannot be converted here; remove the tag".into(),
            ));
        }
    }
    for (i, c) in spec
        .get("containers")
        .and_then(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let at = format!("containers[{i}]");
        if matches!(c.body, Body::Alias(_)) {
            return Err(refuse_alias(&at));
        }
        if used(c) {
            return Err(refuse_anchor(&at, c));
        }
        if has_merge(c) {
            return Err(refuse_merge(&at));
        }
        for key in ["command", "args", "volumeMounts"] {
            let Some(v) = c.get(key) else { continue };
            let mut bad = None;
            v.walk(&mut |n| {
                if bad.is_none()
                    && (matches!(n.body, Body::Alias(_))
                        || used(n)
                        || (n.tag.is_some() && key != "volumeMounts"))
                {
                    bad = Some(n);
                }
            });
            if let Some(n) = bad {
                let field = format!("{at}.{key}");
                return Err(if matches!(n.body, Body::Alias(_)) {
                    refuse_alias(&field)
                } else if n.tag.is_some() && n.anchor == 0 {
                    (
                        field,
                        "tagged values cannot be converted here; remove the tag".into(),
                    )
                } else {
                    refuse_anchor(&field, n)
                });
            }
        }
    }
    Ok(spec)
}

fn join(prefix: &str, field: &str) -> String {
    if field.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

/// The plan for a pod spec, or `None` when the operation leaves it alone.
fn plan_for(spec: &Value, op: Operation, config: &Config) -> Result<Option<Plan>, Vec<Finding>> {
    match op {
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
    parsed: &Parsed,
    path: &[&str],
    spec_node: &Node,
    spec: &Value,
    plan: &Plan,
    json: bool,
) -> Result<(String, Vec<edit::Reinterpreted>), String> {
    let (column, first_line) = (parsed.column, parsed.first_line);
    let mut expected = parsed.value.clone();
    let target = path
        .iter()
        .try_fold(&mut expected, |v, key| v.get_mut(*key))
        .ok_or("internal: pod spec vanished")?;
    *target = convert::apply_json(spec, plan);
    if json {
        return Ok((json_text(&expected, &parsed.text, column), Vec::new()));
    }
    let (edited, notes) =
        edit::apply(&parsed.text, spec_node, spec, plan).map_err(|e| e.to_string())?;
    let new_text = edited
        .strip_prefix(&" ".repeat(column))
        .ok_or("internal: the edit changed the object's first line")?
        .to_string();
    if std::env::var_os("KUEUELEULEU_DEBUG_EDIT").is_some() {
        eprintln!("--- edited object ---\n{new_text}\n---");
    }
    let reread = parse_object(&new_text, column, first_line, &[], 0).map_err(|e| {
        format!("internal: the edited object does not read back ({e}); the object was left unchanged, please report this input")
    })?;
    if reread.value != expected {
        if std::env::var_os("KUEUELEULEU_DEBUG_EDIT").is_some() {
            eprintln!("expected: {expected}\nreread:   {}", reread.value);
        }
        return Err("internal: the edited YAML does not match the planned conversion; the object was left unchanged, please report this input".into());
    }
    Ok((new_text, notes))
}

/// A converted object of JSON input, as JSON in the indentation the input used (kubectl's
/// four spaces when it cannot be told), its lines shifted to where the object stood.
fn json_text(value: &Value, padded: &str, column: usize) -> String {
    use serde::Serialize;
    if !padded.trim_end().contains('\n') {
        return value.to_string();
    }
    let unit = padded
        .lines()
        .nth(1)
        .map(|l| l.len() - l.trim_start().len())
        .filter(|&n| n > column)
        .map_or(4, |n| n - column);
    let indent = " ".repeat(unit);
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes()),
    );
    if value.serialize(&mut ser).is_err() {
        return String::new();
    }
    let text = String::from_utf8(out).unwrap_or_default();
    let pad = " ".repeat(column);
    let mut lines = text.split('\n');
    let mut result = lines.next().unwrap_or_default().to_string();
    for line in lines {
        result.push('\n');
        result.push_str(&pad);
        result.push_str(line);
    }
    result
}
