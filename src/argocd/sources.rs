//! The three places Argo CD puts an Application's plugin settings: the parameters as JSON,
//! the same parameters as `PARAM_*` variables, and the plugin env as `ARGOCD_ENV_*`.

use super::KEYS;
use super::names::{key_named, normalize};
use super::values::{commands_from_map, invalid, kind_of, parse_string};
use super::{EnvConfigError, Found};
use crate::config::distance as edit_distance;
use serde_json::Value;
use std::collections::BTreeMap;

/// `ARGOCD_APP_PARAMETERS`: `[{"name": ..., "string"|"array"|"map": ...}, ...]`.
pub(super) fn from_parameters_json(
    text: &str,
) -> Result<BTreeMap<&'static str, Found>, EnvConfigError> {
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
        } else if let (Some(Value::Array(items)), "sidecars") = (param.get("array"), key) {
            let names: Option<Vec<String>> = items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect();
            let names = names
                .ok_or_else(|| invalid(&at, "`sidecars` takes container names".to_string()))?;
            crate::convert::sidecars::check_names(&names)
                .map_err(|e| invalid(&at, format!("sidecars {e}")))?;
            Value::from(names)
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
pub(super) fn from_param_vars(
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
pub(super) fn from_plugin_env(
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
