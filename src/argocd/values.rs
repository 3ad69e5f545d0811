//! Typing the strings Argo CD passes (every value arrives as text) for their config keys.

use super::EnvConfigError;
use serde_json::{Map, Value};

/// One string value, typed for its key.
pub(super) fn parse_string(key: &str, text: &str, var: &str) -> Result<Value, EnvConfigError> {
    match key {
        "selectAll" => match text.trim() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            other => Err(invalid(
                var,
                format!("selectAll must be \"true\" or \"false\", not {other:?}"),
            )),
        },
        "image" => {
            let image = text.trim();
            if image.is_empty() || image.contains(char::is_whitespace) {
                return Err(invalid(
                    var,
                    format!("image must be one image reference, not {text:?}"),
                ));
            }
            Ok(Value::String(image.to_string()))
        }
        "resources" => crate::config::ResourcePolicy::parse(text.trim())
            .map(|_| Value::String(text.trim().to_string()))
            .map_err(|e| invalid(var, e)),
        "install" => crate::config::Install::parse(text.trim())
            .map(|mode| Value::String(mode.as_str().to_string()))
            .map_err(|e| invalid(var, e)),
        "probes" => match text.trim() {
            p @ ("error" | "drop" | "keep") => Ok(Value::String(p.to_string())),
            other => Err(invalid(
                var,
                format!("probes must be \"error\", \"drop\" or \"keep\", not {other:?}"),
            )),
        },
        "sidecars" => crate::convert::sidecars::parse_names(text)
            .map(Value::from)
            .map_err(|e| invalid(var, format!("sidecars {e}"))),
        _ => {
            let parsed: Value = serde_json::from_str(text).map_err(|e| {
                invalid(
                    var,
                    format!(
                        "commands must be a JSON object of image -> command list, like \
                         {{\"nginx:1.27\": [\"nginx\", \"-g\", \"daemon off;\"]}} ({e})"
                    ),
                )
            })?;
            match parsed {
                Value::Object(map) => {
                    commands_from_map(map.iter().map(|(k, v)| (k.as_str(), v)), var)
                }
                other => Err(invalid(
                    var,
                    format!("commands must be a JSON object, found {}", kind_of(&other)),
                )),
            }
        }
    }
}

/// `image -> command`: each command a JSON list of strings (the entrypoint) or an object
/// `{entrypoint, cmd}` (the function config's two forms), or, from a map parameter, whose
/// values Argo CD keeps as strings, a string holding one of them as JSON.
pub(super) fn commands_from_map<'a>(
    entries: impl Iterator<Item = (&'a str, &'a Value)>,
    var: &str,
) -> Result<Value, EnvConfigError> {
    let mut out = Map::new();
    for (image, command) in entries {
        let command = match command {
            Value::String(s) => serde_json::from_str(s).map_err(|e| {
                invalid(
                    var,
                    format!(
                        "commands[{image:?}] must be JSON: a list of strings like \
                         [\"nginx\", \"-g\", \"daemon off;\"], or {{\"entrypoint\": [...], \
                         \"cmd\": [...]}} ({e})"
                    ),
                )
            })?,
            other => other.clone(),
        };
        let strings = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
        let ok = match &command {
            Value::Array(a) => !a.is_empty() && strings(&command),
            Value::Object(parts) => {
                !parts.is_empty()
                    && parts
                        .iter()
                        .all(|(k, v)| (k == "entrypoint" || k == "cmd") && strings(v))
            }
            _ => false,
        };
        if !ok {
            return Err(invalid(
                var,
                format!(
                    "commands[{image:?}] must be a non-empty list of strings (the entrypoint) \
                     or {{\"entrypoint\": [...], \"cmd\": [...]}}, found {command}"
                ),
            ));
        }
        out.insert(image.to_string(), command);
    }
    Ok(Value::Object(out))
}

pub(super) fn invalid(var: &str, reason: String) -> EnvConfigError {
    EnvConfigError::Invalid {
        var: var.to_string(),
        reason,
    }
}

pub(super) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
