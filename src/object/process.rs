//! The flow for one object, as stages: read what selection needs, decide, read the object
//! whole, plan its pod spec, edit its text. Each stage hands the next what it needs or stops
//! the object with the reports that say why (or quietly: the object is copied as it is).

use super::annotations::{Annotation, annotation_of, steps_annotation};
use super::plan::plan_for;
use super::read::{Parsed, from_tree, loose_identity, parse_object};
use super::shared::owned_nodes_safe;
use super::verify::edit_text;
use super::{ANNOTATION, ObjectRef, Operation, Outcome, Report, pod_spec_path};
use crate::config::Spec as Config;
use crate::convert::{self, Severity};
use crate::protocol;
use crate::source::Located;
use crate::step_settings::STEPS_ANNOTATION;
use crate::yaml::tree::Node;
use serde_json::Value;
use std::cell::OnceCell;

/// Why an object's processing ended before an edit.
enum Stop {
    /// With these reports (errors, or a warning about a kind that cannot be converted).
    Reports(Vec<Report>),
    /// Nothing to say: the object is copied as it is.
    Quiet,
}

impl From<Report> for Stop {
    fn from(report: Report) -> Self {
        Stop::Reports(vec![report])
    }
}

/// The object being processed, and who it is in reports. Its name is read only when a report
/// needs it (copied objects cost nothing), from the whole object when that was read anyway.
struct Subject<'a, 't> {
    input: &'a str,
    found: &'a Located<'t>,
    /// The object's own text.
    text: &'a str,
    /// Who it is as far as selection read it (kind, apiVersion; no name yet).
    selected_as: ObjectRef,
    named: OnceCell<ObjectRef>,
}

impl<'a, 't> Subject<'a, 't> {
    fn new(input: &'a str, found: &'a Located<'t>) -> Self {
        Subject {
            input,
            found,
            text: &input[found.range.clone()],
            selected_as: ObjectRef::of_summary(&found.summary),
            named: OnceCell::new(),
        }
    }

    /// Parses the object's text on its own (when the scan built no tree for it).
    fn parse(&self) -> Result<Parsed<'static>, String> {
        parse_object(
            self.text,
            self.found.column,
            self.found.line,
            &self.found.exported_anchors,
            self.found.range.start,
        )
    }

    /// The object read whole: who it is comes from there from now on.
    fn read_whole(&mut self, value: &Value) {
        self.selected_as = ObjectRef::of(value);
        self.name_from(value);
    }

    fn name_from(&self, value: &Value) {
        let _ = self.named.set(self.at_its_line(ObjectRef::of(value)));
    }

    fn at_its_line(&self, object: ObjectRef) -> ObjectRef {
        ObjectRef {
            line: Some(self.found.line),
            ..object
        }
    }

    /// Who the object is in a report: read now if it was not read yet; a loose read names
    /// an object that does not parse, for the user to find it.
    fn identity(&self) -> ObjectRef {
        self.named
            .get_or_init(|| {
                let read = match self.parse() {
                    Ok(p) => Some(ObjectRef::of(&p.value)),
                    Err(_) => loose_identity(self.text, self.found.column),
                };
                self.at_its_line(read.unwrap_or_else(|| self.selected_as.clone()))
            })
            .clone()
    }

    fn report(&self, severity: Severity, field: Option<String>, message: String) -> Report {
        Report {
            object: self.identity(),
            severity,
            field,
            message,
        }
    }

    fn error(&self, field: Option<String>, message: String) -> Stop {
        self.report(Severity::Error, field, message).into()
    }
}

/// Processes one object of `input` (the whole input text). `tree` is the object's syntax tree
/// when the scan built it (offsets into `input`); without it the object's text is parsed.
pub fn process(
    input: &str,
    found: &Located,
    op: Operation,
    config: &Config,
    json: bool,
    tree: Option<Node>,
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut subject = Subject::new(input, found);
    let run = Run {
        op,
        config,
        json,
        outcome: &mut outcome,
    };
    match run.object(&mut subject, tree) {
        Ok(()) | Err(Stop::Quiet) => {}
        Err(Stop::Reports(reports)) => outcome.reports.extend(reports),
    }
    outcome
}

/// One object's run: the operation, and the outcome it fills in on the way.
struct Run<'o, 'c> {
    op: Operation,
    config: &'c Config,
    json: bool,
    outcome: &'o mut Outcome,
}

impl Run<'_, '_> {
    fn object(mut self, subject: &mut Subject<'_, '_>, tree: Option<Node>) -> Result<(), Stop> {
        // What selection needs comes from the scan, unless only a full read says it.
        let full = if subject.found.summary.needs_full_read {
            let parsed = subject.parse().map_err(|m| subject.error(None, m))?;
            subject.read_whole(&parsed.value);
            Some(parsed)
        } else {
            None
        };
        let object = subject.selected_as.clone();
        if object.api_version.is_empty() || object.kind.is_empty() {
            let missing = if object.api_version.is_empty() {
                "apiVersion"
            } else {
                "kind"
            };
            return Err(subject.error(
                Some(missing.into()),
                format!(
                    "every item must be a Kubernetes object with apiVersion and kind (the object \
                     at line {} has none); add the missing field",
                    subject.found.line
                ),
            ));
        }
        let annotated = self.annotation(subject, full.as_ref().map(|p| &p.value));
        let path = self.pod_spec_path(subject, &object, annotated)?;
        self.outcome.is_workload = true;
        let selected = self.config.select_all || annotated;
        self.outcome.touched = self.op == Operation::Convert && selected;
        let worth_reading = match self.op {
            Operation::Convert => selected,
            Operation::Revert => {
                subject.text.contains(protocol::RUNNER_PATH)
                    || subject.text.contains(protocol::INIT_CONTAINER)
            }
        };
        if !worth_reading {
            return Err(Stop::Quiet);
        }
        if subject.found.imports_alias {
            return Err(subject.error(
                None,
                "this object uses an alias (*name) whose anchor is defined in another object; \
                 write the aliased value out in this object so it can be converted on its own"
                    .into(),
            ));
        }
        let parsed = match full {
            Some(p) => p,
            None => {
                let read = match tree {
                    Some(root) => from_tree(subject.input, subject.found, root),
                    None => subject.parse(),
                };
                let p = read.map_err(|m| subject.error(None, m))?;
                subject.name_from(&p.value);
                p
            }
        };
        self.pod_spec(subject, &parsed, path, annotated)
    }

    /// Whether the selection annotation says `"true"`; warns about any value other than
    /// `"true"` and `"false"` (a bare `true` is a boolean the API server rejects).
    fn annotation(&mut self, subject: &Subject<'_, '_>, full: Option<&Value>) -> bool {
        let annotation = annotation_of(&subject.found.summary, full);
        if let Annotation::Other(other) = &annotation
            && other.as_str() != Some("false")
        {
            let message = match other {
                Value::Bool(_) => format!(
                    "annotation value {other} is a YAML boolean, but annotation values are strings \
                     (the API server rejects this object); write `{ANNOTATION}: \"true\"` with quotes"
                ),
                _ => format!(
                    "annotation value {other} is neither \"true\" nor \"false\"; the object is left as is"
                ),
            };
            self.outcome.reports.push(subject.report(
                Severity::Warning,
                Some(format!("metadata.annotations.{ANNOTATION}")),
                message,
            ));
        }
        matches!(annotation, Annotation::True)
    }

    /// Where the object keeps its pod spec; a kind without one stops it, with an error when
    /// it was annotated (or a warning when `selectAll` would have taken it).
    fn pod_spec_path(
        &self,
        subject: &Subject<'_, '_>,
        object: &ObjectRef,
        annotated: bool,
    ) -> Result<&'static [&'static str], Stop> {
        if let Some(path) = pod_spec_path(&object.api_version, &object.kind) {
            return Ok(path);
        }
        let wanted = annotated || (self.config.select_all && known_workload_kind(&object.kind));
        if self.op != Operation::Convert || !wanted {
            return Err(Stop::Quiet);
        }
        let (severity, field, why, fix) = if annotated {
            (
                Severity::Error,
                format!("metadata.annotations.{ANNOTATION}"),
                "",
                "remove the annotation or move the steps into a Job",
            )
        } else {
            (
                Severity::Warning,
                "apiVersion".into(),
                " (selectAll: it is a Pod, Job or CronJob of another API version)",
                "it was left unchanged; move it to a supported API version",
            )
        };
        Err(subject
            .report(
                severity,
                Some(field),
                format!(
                    "{} {} cannot run its containers in sequence{why}: only v1 Pod, batch/v1 Job \
                     and batch/v1 or batch/v1beta1 CronJob can (a controller such as a Deployment \
                     restarts finished containers); {fix}",
                    object.api_version, object.kind,
                ),
            )
            .into())
    }

    /// Plans the object's pod spec and edits its text.
    fn pod_spec(
        self,
        subject: &Subject<'_, '_>,
        parsed: &Parsed<'_>,
        path: &[&str],
        annotated: bool,
    ) -> Result<(), Stop> {
        let prefix = path.join(".");
        let at = |field: &str| Some(join(&prefix, field));
        let Some(spec_value) = path.iter().try_fold(&parsed.value, |v, key| v.get(key)) else {
            if !annotated {
                return Err(Stop::Quiet);
            }
            return Err(subject.error(
                Some(prefix.clone()),
                format!(
                    "there is no pod spec here; add `{prefix}` with the containers to run in sequence"
                ),
            ));
        };
        let (steps, sidecars) = match self.op {
            Operation::Convert => {
                let steps = steps_annotation(&parsed.value).map_err(|m| {
                    subject.error(Some(format!("metadata.annotations.{STEPS_ANNOTATION}")), m)
                })?;
                let sidecars = convert::sidecars::annotation_of(&parsed.value).map_err(|m| {
                    let field = convert::sidecars::SIDECARS_ANNOTATION;
                    subject.error(Some(format!("metadata.annotations.{field}")), m)
                })?;
                (steps, sidecars)
            }
            Operation::Revert => (Default::default(), None),
        };
        let spec_tree = path.iter().try_fold(&parsed.root, |n, key| n.get(key));
        let written = spec_tree.map(|node| (&parsed.text[..], node));
        let plan = plan_for(
            spec_value,
            self.op,
            self.config,
            (&steps, sidecars),
            written,
        )
        .map_err(|findings| {
            Stop::Reports(
                findings
                    .into_iter()
                    .map(|f| subject.report(f.severity, at(&f.field), f.message))
                    .collect(),
            )
        })?
        .ok_or(Stop::Quiet)?;
        let spec_node = owned_nodes_safe(parsed, path)
            .map_err(|(field, message)| subject.error(at(&field), message))?;
        for note in &plan.notes {
            let report = subject.report(note.severity, at(&note.field), note.message.clone());
            self.outcome.reports.push(report);
        }
        let (new_text, notes) = edit_text(parsed, path, spec_node, spec_value, &plan, self.json)
            .map_err(|message| subject.error(Some(prefix.clone()), message))?;
        for n in notes {
            self.outcome.reports.push(subject.report(
                Severity::Warning,
                at(&n.field),
                format!(
                    "{:?} is written without quotes, so kubectl and other YAML 1.1 readers take it \
                     for {} (and would reject or change this container); it was kept as the \
                     string {:?} and is now quoted",
                    n.text, n.reading, n.text
                ),
            ));
        }
        self.outcome.text = (new_text != subject.text).then_some(new_text);
        Ok(())
    }
}

/// Kinds named like the supported ones, whatever their API version.
fn known_workload_kind(kind: &str) -> bool {
    matches!(kind, "Pod" | "Job" | "CronJob")
}

/// A field path below the pod spec's path.
fn join(prefix: &str, field: &str) -> String {
    if field.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}
