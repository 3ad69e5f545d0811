//! The list of sidecar names, as the config and the annotation write it.

use super::SIDECARS_ANNOTATION;
use serde_json::Value;

/// Reads a list of container names: a YAML or JSON list, or names separated by commas.
pub fn parse_names(text: &str) -> Result<Vec<String>, String> {
    let trimmed = text.trim();
    let names: Vec<String> = if trimmed.starts_with('[') || trimmed.starts_with('-') {
        let value: Value = serde_yaml::from_str(trimmed)
            .map_err(|e| format!("is not a YAML or JSON list ({e})"))?;
        let Value::Array(items) = value else {
            return Err("must be a list of container names".into());
        };
        items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Err(format!("{other} is not a container name; quote it")),
            })
            .collect::<Result<_, _>>()?
    } else {
        trimmed
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    check_names(&names)?;
    Ok(names)
}

/// Refuses empty and repeated names.
pub fn check_names(names: &[String]) -> Result<(), String> {
    for (i, name) in names.iter().enumerate() {
        if name.trim().is_empty() {
            return Err("a sidecar name is empty; list container names, e.g. [proxy]".into());
        }
        if names[..i].contains(name) {
            return Err(format!("{name:?} is listed twice"));
        }
    }
    Ok(())
}

/// The object's `kueueleuleu.io/sidecars` annotation (`None` when absent); an annotation
/// that is not a string or not a list of names is an error message.
pub fn annotation_of(object: &Value) -> Result<Option<Vec<String>>, String> {
    match object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(SIDECARS_ANNOTATION))
    {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => parse_names(text).map(Some),
        Some(_) => Err(format!(
            "annotation values are strings; write the names as one string, e.g. \
             {SIDECARS_ANNOTATION}: \"proxy, log-shipper\" or '[\"proxy\"]'"
        )),
    }
}
