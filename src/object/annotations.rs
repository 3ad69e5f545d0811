//! The object's own annotations that steer the conversion: the selection annotation (as the
//! scan or a full read saw it) and the per-step settings.

use super::ANNOTATION;
use crate::step_settings::{STEPS_ANNOTATION, StepsMap, parse_annotation};
use crate::yaml::scan::{Scalar, Summary};
use serde_json::Value;

/// The selection annotation as the scan or a full read saw it.
pub(super) enum Annotation {
    Absent,
    True,
    Other(Value),
}

pub(super) fn annotation_of(summary: &Summary<'_>, full: Option<&Value>) -> Annotation {
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

/// The object's own step settings; an annotation that is not a string or not a settings
/// map is an error message.
pub(super) fn steps_annotation(object: &Value) -> Result<StepsMap, String> {
    match object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(STEPS_ANNOTATION))
    {
        None | Some(Value::Null) => Ok(StepsMap::new()),
        Some(Value::String(text)) => parse_annotation(text),
        Some(_) => Err(format!(
            "annotation values are strings; write the settings as one YAML or JSON string, \
             e.g. {STEPS_ANNOTATION}: '{{\"build\": {{\"timeout\": \"10m\"}}}}'"
        )),
    }
}
