//! The function config: what users write in a kustomize transformer file, a Kptfile
//! `configPath`/`configMap`, or `--config`. Two shapes carry the same keys: the typed
//! `Sequential` kind, and a `ConfigMap` whose `data` values are all strings (kpt's
//! `configMap:` and `-- key=value` produce one). Unknown keys are rejected: a typo in a
//! config must never be silently ignored.

use crate::step_settings::{StepsMap, parse_annotation};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub use crate::convert::Install;
pub use crate::convert::resources::ResourcePolicy;

/// API group/version of the typed config.
pub const API_VERSION: &str = "fn.kueueleuleu.io/v1alpha1";
/// Kind of the typed config.
pub const KIND: &str = "Sequential";
/// The release image that holds `kueueleuleu-step`, tagged with this crate's version so a
/// given function always installs the runner it was built with.
pub const DEFAULT_IMAGE: &str = concat!(
    "ghcr.io/kueueleuleu/kueueleuleu:v",
    env!("CARGO_PKG_VERSION")
);

/// Settings of one run, after defaulting and validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    /// Image holding `kueueleuleu-step`; the init container copies the runner from it, or
    /// (`install: imageVolume`) it is mounted as an `image` volume.
    #[serde(default = "default_image")]
    pub image: String,
    /// How the runner reaches the Pod: `initContainer` (copied by an init container; any
    /// Kubernetes) or `imageVolume` (the image mounted as an `image` volume; Kubernetes 1.35+
    /// and a runtime that implements it with `subPath`: containerd 2.2+, CRI-O 1.33+).
    #[serde(default)]
    pub install: Install,
    /// Convert every Pod, Job and CronJob, annotated or not.
    #[serde(default)]
    pub select_all: bool,
    /// What the images of containers that set no `command` run, keyed by their exact
    /// `image`: the runner must start the program itself, and an image's ENTRYPOINT and CMD
    /// are not in the manifest. `kueueleuleu resolve` fills this from the registry.
    #[serde(default)]
    pub commands: BTreeMap<String, ImageCommand>,
    /// Per-step controls keyed by container name, for every converted object that has
    /// such a container; an object's `kueueleuleu.io/steps` annotation wins key by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub steps: StepsMap,
    /// What to do with liveness, readiness and startup probes on steps, which fire while a
    /// step waits for its turn (a liveness probe can kill it).
    #[serde(default)]
    pub probes: ProbePolicy,
    /// `keep`: steps keep their resources and the Pod requests their sum; `max`: the Pod
    /// requests what its largest step needs (pod-level resources, Kubernetes 1.34+).
    #[serde(default)]
    pub resources: ResourcePolicy,
    /// Regular containers that never exit (a proxy, a log shipper): moved into
    /// `initContainers` as native sidecars (`restartPolicy: Always`) instead of becoming
    /// steps, so a Job completes when its last step ends. An object's
    /// `kueueleuleu.io/sidecars` annotation replaces this list for that object.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sidecars: Vec<String>,
}

/// The `probes` setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ProbePolicy {
    /// A probe on a step is an error naming the container and the probe.
    #[default]
    Error,
    /// Probes stay as written, with a warning: the user accepts that they fire while the
    /// step waits.
    Keep,
    /// Probes are removed from steps, with a warning naming each one; the conversion records
    /// them so that revert writes them back. Probes on sidecars are kept.
    Drop,
}

/// What an image runs when a container does not say: its ENTRYPOINT and CMD. Written either
/// as a list (the entrypoint alone) or as `{entrypoint: [...], cmd: [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ImageCommand {
    /// The entrypoint; the image has no CMD worth keeping.
    Entrypoint(Vec<String>),
    /// Both, as the image's config holds them.
    Full(EntrypointAndCmd),
}

/// The image's ENTRYPOINT and CMD. Kubernetes' rules decide what a container runs: no
/// `command` and no `args`: ENTRYPOINT then CMD; `args` only: ENTRYPOINT then the args.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EntrypointAndCmd {
    /// The image's ENTRYPOINT (may be empty, then the first of CMD or args is the program).
    #[serde(default)]
    pub entrypoint: Vec<String>,
    /// The image's CMD: used only when the container has no `args`.
    #[serde(default)]
    pub cmd: Vec<String>,
}

impl ImageCommand {
    /// Both parts, whichever way the entry was written.
    pub fn parts(&self) -> EntrypointAndCmd {
        match self {
            ImageCommand::Entrypoint(e) => EntrypointAndCmd {
                entrypoint: e.clone(),
                cmd: Vec::new(),
            },
            ImageCommand::Full(full) => full.clone(),
        }
    }
}

fn default_image() -> String {
    DEFAULT_IMAGE.to_string()
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            image: default_image(),
            install: Install::default(),
            select_all: false,
            commands: BTreeMap::new(),
            steps: StepsMap::new(),
            probes: ProbePolicy::default(),
            resources: ResourcePolicy::default(),
            sidecars: Vec::new(),
        }
    }
}

/// The typed config object, as users write it. Only used for the JSON schema; reading goes
/// through [`Spec::from_function_config`] so both shapes share one validation.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sequential {
    /// Must be `fn.kueueleuleu.io/v1alpha1`.
    pub api_version: String,
    /// Must be `Sequential`.
    pub kind: String,
    /// Free-form: kustomize hands the transformer object itself, annotations included.
    #[serde(default)]
    pub metadata: BTreeMap<String, Value>,
    /// The settings.
    #[serde(default)]
    pub spec: Option<Spec>,
}

/// Why a function config was refused. Each variant says which key and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "functionConfig kind {kind:?} (apiVersion {api_version:?}) is not supported; use \
         `apiVersion: {API_VERSION}`, `kind: {KIND}` or a ConfigMap"
    )]
    UnsupportedKind { api_version: String, kind: String },
    #[error("functionConfig {field}: {reason}")]
    Invalid { field: String, reason: String },
}

impl Spec {
    /// Reads the `functionConfig` of a ResourceList (or a `--config` file). `None` or a null
    /// value means the defaults.
    pub fn from_function_config(config: Option<&Value>) -> Result<Spec, ConfigError> {
        let Some(config) = config.filter(|c| !c.is_null()) else {
            return Ok(Spec::default());
        };
        let str_field = |name: &str| config.get(name).and_then(Value::as_str).unwrap_or("");
        let (api_version, kind) = (str_field("apiVersion"), str_field("kind"));
        match (api_version, kind) {
            (API_VERSION, KIND) => {
                known_keys(config, "", &["apiVersion", "kind", "metadata", "spec"])?;
                if let Some(spec) = config.get("spec").filter(|s| s.is_object()) {
                    known_keys(spec, "spec.", SPEC_KEYS)?;
                }
                Self::from_typed(config.get("spec"))
            }
            ("v1", "ConfigMap") => {
                known_keys(
                    config,
                    "",
                    &["apiVersion", "kind", "metadata", "data", "immutable"],
                )?;
                Self::from_config_map(config.get("data"))
            }
            _ => Err(ConfigError::UnsupportedKind {
                api_version: api_version.into(),
                kind: kind.into(),
            }),
        }
    }

    fn from_typed(spec: Option<&Value>) -> Result<Spec, ConfigError> {
        let Some(spec) = spec.filter(|s| !s.is_null()) else {
            return Ok(Spec::default());
        };
        if !spec.is_object() {
            return Err(invalid("spec", "must be a mapping"));
        }
        let parsed: Spec = serde_path_to_error::deserialize(spec.clone()).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." {
                "spec".to_string()
            } else {
                format!("spec.{path}")
            };
            invalid(&field, &e.into_inner().to_string())
        })?;
        parsed.validated("spec")
    }

    fn from_config_map(data: Option<&Value>) -> Result<Spec, ConfigError> {
        let mut spec = Spec::default();
        let Some(data) = data.filter(|d| !d.is_null()) else {
            return Ok(spec);
        };
        let Some(data) = data.as_object() else {
            return Err(invalid("data", "must be a mapping of strings"));
        };
        for (key, value) in data {
            let field = format!("data.{key}");
            let Some(text) = value.as_str() else {
                return Err(invalid(
                    &field,
                    "ConfigMap data values must be strings; quote it",
                ));
            };
            match key.as_str() {
                "image" => spec.image = text.to_string(),
                "install" => {
                    spec.install = Install::parse(text).map_err(|e| invalid(&field, &e))?
                }
                "selectAll" => {
                    spec.select_all = match text {
                        "true" => true,
                        "false" => false,
                        _ => return Err(invalid(&field, "must be \"true\" or \"false\"")),
                    }
                }
                "commands" => {
                    spec.commands = serde_yaml::from_str(text).map_err(|e| {
                        invalid(
                            &field,
                            &format!(
                                "must be a YAML or JSON mapping from image to command list, \
                                 e.g. '{{\"nginx:1.27\": [\"nginx\"]}}' or '{{\"nginx:1.27\": \
                                 {{\"entrypoint\": [\"/docker-entrypoint.sh\"], \"cmd\": [\"nginx\"]}}}}' ({e})"
                            ),
                        )
                    })?;
                }
                "steps" => {
                    spec.steps = parse_annotation(text).map_err(|e| invalid(&field, &e))?;
                }
                "probes" => {
                    spec.probes = match text {
                        "error" => ProbePolicy::Error,
                        "keep" => ProbePolicy::Keep,
                        "drop" => ProbePolicy::Drop,
                        _ => {
                            return Err(invalid(&field, "must be \"error\", \"drop\" or \"keep\""));
                        }
                    }
                }
                "resources" => {
                    spec.resources = ResourcePolicy::parse(text).map_err(|e| invalid(&field, &e))?
                }
                "sidecars" => {
                    spec.sidecars = crate::convert::sidecars::parse_names(text)
                        .map_err(|e| invalid(&field, &e))?;
                }
                other => return Err(unknown(&field, other, SPEC_KEYS)),
            }
        }
        spec.validated("data")
    }

    fn validated(self, prefix: &str) -> Result<Spec, ConfigError> {
        if self.image.trim().is_empty() {
            return Err(invalid(&format!("{prefix}.image"), "must not be empty"));
        }
        for (image, command) in &self.commands {
            let parts = command.parts();
            if parts.entrypoint.is_empty() && parts.cmd.is_empty() {
                return Err(invalid(
                    &format!("{prefix}.commands[{image:?}]"),
                    "must list at least the program to run (an entrypoint, or a cmd)",
                ));
            }
        }
        crate::convert::sidecars::check_names(&self.sidecars)
            .map_err(|e| invalid(&format!("{prefix}.sidecars"), &e))?;
        for (name, step) in &self.steps {
            if let Some(text) = &step.timeout
                && crate::protocol::parse_duration(text).is_none()
            {
                return Err(invalid(
                    &format!("{prefix}.steps.{name}.timeout"),
                    &format!(
                        "{text:?} is not a positive duration; write it like 90s, 10m or 1h30m"
                    ),
                ));
            }
        }
        Ok(self)
    }

    /// What an image runs, for a container that has no command, by its exact reference.
    pub fn command_for(&self, image: &str) -> Option<EntrypointAndCmd> {
        self.commands.get(image).map(ImageCommand::parts)
    }
}

/// The keys of `spec` (and of a ConfigMap's `data`).
const SPEC_KEYS: &[&str] = &[
    "image",
    "install",
    "selectAll",
    "commands",
    "steps",
    "probes",
    "resources",
    "sidecars",
];

/// Refuses keys of `map` that are not `known`: a typo must never be silently ignored.
fn known_keys(map: &Value, prefix: &str, known: &[&str]) -> Result<(), ConfigError> {
    let Some(map) = map.as_object() else {
        return Ok(());
    };
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(unknown(&format!("{prefix}{key}"), key, known)),
        None => Ok(()),
    }
}

fn unknown(field: &str, key: &str, known: &[&str]) -> ConfigError {
    let hint = match closest(key, known) {
        Some(near) => format!("did you mean {near:?}? "),
        None => String::new(),
    };
    invalid(
        field,
        &format!(
            "unknown key {key:?}; {hint}known keys here are {}",
            known.join(", ")
        ),
    )
}

/// The known key nearest to a typo (case ignored), when it is near enough to be the intent.
pub(crate) fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let key = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (distance(&key, &k.to_ascii_lowercase()), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance, for "did you mean" suggestions.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn invalid(field: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        field: field.to_string(),
        reason: reason.to_string(),
    }
}

/// The JSON schema of the typed config, checked in under `functions/` for editors and the
/// catalog. A test fails when the checked-in copy is stale.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Sequential);
    serde_json::to_string_pretty(&schema).expect("a schema always serializes") + "\n"
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
