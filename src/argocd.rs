//! The function config of an Argo CD Config Management Plugin run, read from the environment
//! the CMP server gives the `generate` command.
//!
//! Argo CD passes an Application's settings two ways, and both are read here:
//! - `spec.source.plugin.parameters` arrive as `ARGOCD_APP_PARAMETERS` (JSON: the exact
//!   names, string/array/map values) and again as `PARAM_<NAME>` variables (names upper-cased
//!   and escaped, map keys too, so an image name cannot be recovered from them). The JSON is
//!   read when present; the `PARAM_*` variables only without it.
//! - `spec.source.plugin.env` entries arrive as `ARGOCD_ENV_<name>` (the name as written).
//!
//! Keys: `selectAll` (`"true"`/`"false"`), `image`, `install`, `commands` (a map parameter `image ->
//! JSON array`, or one JSON object string). Everything is pure: the environment goes in, a
//! function config `serde_json::Value` comes out (`Null` when nothing is set, which means
//! the defaults), and every refusal names the variable it came from.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::ffi::OsString;

/// The config keys the plugin accepts, as the function config spells them.
const KEYS: [&str; 4] = ["selectAll", "image", "install", "commands"];

/// Why the environment could not be turned into a function config. Each variant names the
/// variable, so the message Argo CD shows points at the Application field to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvConfigError {
    #[error("environment variable {name} is not valid UTF-8")]
    NotUtf8 { name: String },
    #[error(
        "{var}: not valid JSON ({reason}); Argo CD writes it from the Application's \
         spec.source.plugin.parameters"
    )]
    ParametersJson { var: String, reason: String },
    #[error(
        "{var}: unknown plugin parameter {name:?}; the kueueleuleu plugin takes selectAll, \
         image, install and commands"
    )]
    UnknownParameter { var: String, name: String },
    #[error("{var}: {reason}")]
    Invalid { var: String, reason: String },
    #[error(
        "{first} and {second} both set `{key}` to different values; set it in one place \
         (plugin parameters or plugin env)"
    )]
    Conflict {
        key: &'static str,
        first: String,
        second: String,
    },
}

/// A value found for one key, with the variable it came from.
struct Found {
    var: String,
    value: Value,
}

/// Reads the function config out of the CMP server's environment. `Ok(Value::Null)` when
/// none of the variables is set. Variables that do not concern the plugin are ignored,
/// except a `PARAM_*` or `ARGOCD_ENV_*` name that looks like a misspelt key.
pub fn config_from_env(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> Result<Value, EnvConfigError> {
    let mut env = BTreeMap::new();
    for (name, value) in vars {
        let name = name.to_string_lossy().into_owned();
        let ours = name == "ARGOCD_APP_PARAMETERS"
            || name.starts_with("PARAM_")
            || name.starts_with("ARGOCD_ENV_");
        if !ours {
            continue;
        }
        let value = value
            .into_string()
            .map_err(|_| EnvConfigError::NotUtf8 { name: name.clone() })?;
        env.insert(name, value);
    }
    let params = match env.get("ARGOCD_APP_PARAMETERS") {
        Some(text) => from_parameters_json(text)?,
        None => from_param_vars(&env)?,
    };
    let plugin_env = from_plugin_env(&env)?;
    let mut spec = Map::new();
    for key in KEYS {
        let chosen = match (params.get(key), plugin_env.get(key)) {
            (Some(a), Some(b)) if a.value != b.value => {
                return Err(EnvConfigError::Conflict {
                    key,
                    first: a.var.clone(),
                    second: b.var.clone(),
                });
            }
            (Some(found), _) | (None, Some(found)) => found,
            (None, None) => continue,
        };
        spec.insert(key.to_string(), chosen.value.clone());
    }
    if spec.is_empty() {
        return Ok(Value::Null);
    }
    Ok(json!({
        "apiVersion": crate::config::API_VERSION,
        "kind": crate::config::KIND,
        "metadata": {"name": "argocd-plugin"},
        "spec": spec,
    }))
}

/// `ARGOCD_APP_PARAMETERS`: `[{"name": ..., "string"|"array"|"map": ...}, ...]`.
fn from_parameters_json(text: &str) -> Result<BTreeMap<&'static str, Found>, EnvConfigError> {
    let var = "ARGOCD_APP_PARAMETERS";
    let bad = |reason: String| EnvConfigError::ParametersJson {
        var: var.to_string(),
        reason,
    };
    let parsed: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let list = match parsed {
        Value::Null => Vec::new(),
        Value::Array(list) => list,
        other => return Err(bad(format!("expected a list, found {}", kind_of(&other)))),
    };
    let mut out = BTreeMap::new();
    for (i, param) in list.iter().enumerate() {
        let name = param
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("entry {i} has no string `name`")))?;
        let at = format!("{var} (parameter {name:?})");
        let key = key_named(name).ok_or_else(|| EnvConfigError::UnknownParameter {
            var: var.to_string(),
            name: name.to_string(),
        })?;
        let value = if let Some(s) = param.get("string").and_then(Value::as_str) {
            parse_string(key, s, &at)?
        } else if let Some(map) = param.get("map").and_then(Value::as_object) {
            if key != "commands" {
                return Err(invalid(&at, format!("`{key}` takes a string, not a map")));
            }
            commands_from_map(map.iter().map(|(k, v)| (k.as_str(), v)), &at)?
        } else if param.get("array").is_some() {
            return Err(invalid(
                &at,
                format!("`{key}` does not take an array; see the plugin's parameter list"),
            ));
        } else {
            continue; // announced but left empty in the UI: the default applies
        };
        out.insert(key, Found { var: at, value });
    }
    Ok(out)
}

/// `PARAM_SELECTALL`, `PARAM_IMAGE`, `PARAM_COMMANDS`, when no JSON came with them.
fn from_param_vars(
    env: &BTreeMap<String, String>,
) -> Result<BTreeMap<&'static str, Found>, EnvConfigError> {
    let mut out = BTreeMap::new();
    for (name, value) in env {
        let Some(rest) = name.strip_prefix("PARAM_") else {
            continue;
        };
        let Some(key) = key_named(rest) else {
            if rest.starts_with("COMMANDS_") {
                return Err(invalid(
                    name,
                    "a `commands` map parameter needs ARGOCD_APP_PARAMETERS to keep its image \
                     names (PARAM_ variables upper-case them); pass `commands` as one JSON \
                     object string instead"
                        .to_string(),
                ));
            }
            return Err(EnvConfigError::UnknownParameter {
                var: name.clone(),
                name: rest.to_string(),
            });
        };
        let value = parse_string(key, value, name)?;
        out.insert(
            key,
            Found {
                var: name.clone(),
                value,
            },
        );
    }
    Ok(out)
}

/// `ARGOCD_ENV_<key>`: the Application's `plugin.env`, which may also carry variables for
/// other purposes; those are left alone unless their name is one edit from a key.
fn from_plugin_env(
    env: &BTreeMap<String, String>,
) -> Result<BTreeMap<&'static str, Found>, EnvConfigError> {
    let mut out = BTreeMap::new();
    for (name, value) in env {
        let Some(rest) = name.strip_prefix("ARGOCD_ENV_") else {
            continue;
        };
        match key_named(rest) {
            Some(key) => {
                let value = parse_string(key, value, name)?;
                out.insert(
                    key,
                    Found {
                        var: name.clone(),
                        value,
                    },
                );
            }
            None => {
                if let Some(near) = KEYS
                    .iter()
                    .find(|k| edit_distance(&normalize(rest), &normalize(k)) <= 2)
                {
                    return Err(invalid(
                        name,
                        format!("not a kueueleuleu setting; did you mean `{near}`?"),
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// The key a parameter or variable name stands for: case and `_`/`-` do not matter
/// (`selectAll`, `SELECTALL`, `SELECT_ALL`).
fn key_named(name: &str) -> Option<&'static str> {
    let wanted = normalize(name);
    KEYS.into_iter().find(|k| normalize(k) == wanted)
}

fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// One string value, typed for its key.
fn parse_string(key: &str, text: &str, var: &str) -> Result<Value, EnvConfigError> {
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
        "install" => crate::config::Install::parse(text.trim())
            .map(|mode| Value::String(mode.as_str().to_string()))
            .map_err(|e| invalid(var, e)),
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
fn commands_from_map<'a>(
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

fn invalid(var: &str, reason: String) -> EnvConfigError {
    EnvConfigError::Invalid {
        var: var.to_string(),
        reason,
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Levenshtein distance, for "did you mean" on short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn nothing_set_means_defaults() {
        let v = config_from_env(env(&[("PATH", "/bin"), ("ARGOCD_ENV_TEAM", "x")])).unwrap();
        assert_eq!(v, Value::Null);
    }

    #[test]
    fn json_parameters_keep_image_names() {
        let v = config_from_env(env(&[
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"selectAll","string":"true"},{"name":"commands","map":{"nginx:1.27":"[\"nginx\"]"}}]"#,
            ),
            ("PARAM_SELECTALL", "true"),
            ("PARAM_COMMANDS_NGINX_1_27", "[\"nginx\"]"),
        ]))
        .unwrap();
        assert_eq!(
            v["spec"],
            json!({"selectAll": true, "commands": {"nginx:1.27": ["nginx"]}})
        );
    }

    #[test]
    fn commands_take_both_config_forms() {
        let v = config_from_env(env(&[(
            "ARGOCD_ENV_commands",
            r#"{"a:1": ["x"], "b:1": {"entrypoint": ["y"], "cmd": ["z"]}}"#,
        )]))
        .unwrap();
        assert_eq!(v["spec"]["commands"]["b:1"]["cmd"], json!(["z"]));
        let e = config_from_env(env(&[("ARGOCD_ENV_commands", r#"{"a:1": {"args": []}}"#)]))
            .unwrap_err();
        assert!(e.to_string().starts_with("ARGOCD_ENV_commands: "), "{e}");
    }

    #[test]
    fn errors_name_the_variable() {
        let e = config_from_env(env(&[("PARAM_SELECTALL", "yes")])).unwrap_err();
        assert!(e.to_string().starts_with("PARAM_SELECTALL: "), "{e}");
        let e = config_from_env(env(&[("ARGOCD_ENV_selctAll", "true")])).unwrap_err();
        assert!(e.to_string().contains("did you mean `selectAll`"), "{e}");
        let e = config_from_env(env(&[("PARAM_IMAGE", "a:1"), ("ARGOCD_ENV_IMAGE", "b:1")]))
            .unwrap_err();
        assert!(
            matches!(e, EnvConfigError::Conflict { key: "image", .. }),
            "{e}"
        );
        let e = config_from_env(env(&[("PARAM_INSTALL", "imagevolume")])).unwrap_err();
        assert!(
            e.to_string().contains("did you mean \"imageVolume\""),
            "{e}"
        );
        let v = config_from_env(env(&[("ARGOCD_ENV_install", "imageVolume")])).unwrap();
        assert_eq!(v["spec"], json!({"install": "imageVolume"}));
    }
}
