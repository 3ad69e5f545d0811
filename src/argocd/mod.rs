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
//! JSON array`, or one JSON object string), `probes` (`error`/`drop`/`keep`), `resources`
//! (`keep`/`max`) and `sidecars` (an array parameter, or one string: a JSON list or names
//! separated by commas). Everything is pure: the environment goes in, a
//! function config `serde_json::Value` comes out (`Null` when nothing is set, which means
//! the defaults), and every refusal names the variable it came from.

use serde_json::{Map, Value, json};
use sources::{from_param_vars, from_parameters_json, from_plugin_env};
use std::collections::BTreeMap;
use std::ffi::OsString;

mod names;
mod sources;
#[cfg(test)]
mod tests;
mod values;

/// The config keys the plugin accepts, as the function config spells them.
const KEYS: [&str; 7] = [
    "selectAll",
    "image",
    "install",
    "commands",
    "probes",
    "resources",
    "sidecars",
];

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
         image, install, commands, probes, resources and sidecars"
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
pub(super) struct Found {
    pub(super) var: String,
    pub(super) value: Value,
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
