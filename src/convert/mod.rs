//! The conversion, as pure functions on one pod spec (a JSON value; no I/O, no YAML text).
//!
//! A pod spec is first read back to its [`Original`] form ([`unwrap`]): containers already
//! converted have their command line parsed back, injected volumes and mounts are set aside.
//! The [`Plan`] then says what every owned field must hold: [`wrap`] for convert, [`revert`]
//! for revert. Since convert is `wrap(unwrap(x))`, converting a converted spec plans exactly
//! what it already holds, and the editor changes nothing: the normal form kpt needs.

mod apply;
pub mod install;
mod notes;
pub mod probes;
pub mod resources;
pub mod sidecars;
mod steps;
#[cfg(test)]
mod tests;
mod unwrap;

pub use apply::apply_json;
pub use install::Install;
pub use unwrap::unwrap;

use crate::config::Spec as Config;
use crate::protocol;
use crate::step_settings::StepsMap;
use serde_json::{Value, json};

/// Environment variable on the init container recording that `restartPolicy` was unset
/// before conversion, so that revert can unset it again.
pub const DEFAULTED_RESTART_ENV: &str = "KUEUELEULEU_DEFAULTED_RESTART_POLICY";

/// Environment variable on the init container recording owned keys the user wrote with an
/// explicit null or empty list (`args: null`, `volumeMounts: []`), as a JSON object from
/// field path to the value's text, so that revert writes them back instead of dropping them.
pub const LITERALS_ENV: &str = "KUEUELEULEU_ORIGINAL_LITERALS";

/// Owned keys written as an explicit null or empty list: field path below the pod spec
/// (`containers[0].args`, `volumes`, `restartPolicy`) to the value's text as written.
pub type Literals = std::collections::BTreeMap<String, String>;

/// A problem or note about one pod spec. `field` is relative to the pod spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Errors keep the object unchanged; info and warnings only inform.
    pub severity: Severity,
    /// Path below the pod spec, e.g. `containers[0].command`; the caller prefixes it.
    pub field: String,
    /// What is wrong and how to fix it, in one sentence a user can act on.
    pub message: String,
}

/// How bad a [`Finding`] is; errors stop the object from being changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Something the user may want to know (a defaulted field, what was converted).
    Info,
    /// Probably a mistake, but the run goes on.
    Warning,
    /// The run fails and every object comes out unchanged.
    Error,
}

impl Finding {
    fn error(field: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Error,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// One container as the user wrote it, before conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalContainer {
    /// Container name, unique in the pod: it names the step in records and messages.
    pub name: String,
    /// Looked up in the config's `commands` when the container has no command.
    pub image: Option<String>,
    /// As written; `None` when absent.
    pub command: Option<Vec<String>>,
    /// As written; `None` when absent, `Some(vec![])` for `args: []`.
    pub args: Option<Vec<String>>,
    /// A non-default `terminationMessagePath`, which the runner must write to instead.
    pub termination_path: Option<String>,
    /// The probes it declares (`livenessProbe`, ...), which fire while the step waits.
    pub probes: Vec<&'static str>,
    /// It has a `postStart` hook, which runs before the step's turn.
    pub post_start: bool,
}

/// A pod spec's user-owned state that the conversion depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    /// The steps, in order.
    pub containers: Vec<OriginalContainer>,
    /// As written (a policy the conversion defaulted reads back as `None`).
    pub restart_policy: Option<String>,
    /// Whether the spec was already in sequential form.
    pub was_converted: bool,
    /// What the injected init container declares under `resources` (see `unwrap`).
    pub init_resources: Option<Value>,
    /// Owned keys written as an explicit null or empty list, which revert writes back.
    pub literals: Literals,
    /// The steps' resources as written (`resources: max` lowers their requests).
    pub resources: resources::Originals,
    /// Sidecars moved into `initContainers` and probes dropped, and what deciding them needs.
    pub moved: sidecars::Moved,
}

/// What one container's owned fields must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerPlan {
    /// `None` removes the key.
    pub command: Option<Vec<String>>,
    /// `None` removes the key.
    pub args: Option<Vec<String>>,
    /// Injected mounts, appended after the user's own.
    pub mount_tail: Vec<Value>,
}

/// What every owned field of a pod spec must hold. Lists are "the user's items, in their
/// order, then these": user items are never edited, only injected ones are added or removed.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// One per container, in the same order.
    pub containers: Vec<ContainerPlan>,
    /// Injected init containers, after the user's.
    pub init_tail: Vec<Value>,
    /// Injected volumes, after the user's.
    pub volume_tail: Vec<Value>,
    /// `None` removes the key.
    pub restart_policy: Option<String>,
    /// Info results to report when the plan is applied.
    pub notes: Vec<Finding>,
    /// Keys the plan removes that are written back with this text instead (revert only).
    pub literals: Literals,
    /// Keys set or removed in place (pod-level and the steps' resources, `resources: max`).
    pub key_edits: Vec<resources::KeyEdit>,
    /// Containers moved between `containers` and `initContainers`, probes dropped or
    /// written back (see [`sidecars`]).
    pub moves: sidecars::Moves,
}

/// Whether an init container is the injected one.
pub fn is_injected_init(item: &Value) -> bool {
    name_of(item) == Some(protocol::INIT_CONTAINER)
}

/// Whether a volume or volume mount is one the conversion injects.
pub fn is_injected_volume(item: &Value) -> bool {
    name_of(item).is_some_and(|n| {
        n == protocol::BIN_VOLUME
            || n == install::DEFAULTED_RESTART_VOLUME
            || n == install::LITERALS_VOLUME
            || n == sidecars::SIDECARS_VOLUME
            || n == probes::PROBES_VOLUME
            || is_run_volume_name(n)
    })
}

fn is_run_volume_name(name: &str) -> bool {
    name.strip_prefix(protocol::RUN_VOLUME_PREFIX)
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
}

fn name_of(item: &Value) -> Option<&str> {
    item.get("name").and_then(Value::as_str)
}

/// The injected init container, recognised by what it runs and not only by its name, so a
/// user's own container that happens to have the name is reported instead of removed.
fn installs_the_runner(container: &Value) -> bool {
    is_injected_init(container)
        && matches!(container.get("command").and_then(Value::as_array),
            Some(cmd) if cmd.get(1).and_then(Value::as_str) == Some("install")
                && cmd.first().and_then(Value::as_str).is_some_and(|c| c.ends_with("/kueueleuleu-step")))
}

fn runs_the_runner(container: &Value) -> bool {
    matches!(container.get("command").and_then(Value::as_array),
        Some(cmd) if cmd.len() == 1 && cmd[0].as_str() == Some(protocol::RUNNER_PATH))
}

/// Plans the sequential form of a pod spec read by [`unwrap`]. `annotation` holds the
/// object's own step settings (`kueueleuleu.io/steps`), which win over the config's.
/// Sidecars are set aside first: the steps are planned without them.
///
/// Errors name containers by their place in the input, which the user edits. Notes (info and
/// warnings) name them by their place in the output, where only the steps stay in
/// `containers`: a re-run (kpt render runs the function on its own output) then reports the
/// same paths, and the results stay a fixed point too.
pub fn wrap(
    original: &Original,
    config: &Config,
    annotation: &StepsMap,
) -> Result<Plan, Vec<Finding>> {
    let sel = sidecars::select(original, config)?;
    let steps = sidecars::steps_only(original, &sel);
    let mut plan = steps::plan(&steps, config, annotation).map_err(|e| sel.remap(e))?;
    sidecars::finish(&mut plan, original, &sel, config);
    resources::remap_steps(&mut plan.key_edits, |k| sel.container_of(k));
    Ok(plan)
}

/// The init container that installs the runner: restricted PodSecurity, and the first
/// step's resources so that quotas, LimitRanges and the QoS class see nothing new.
fn init_container(image: &str, original: &Original) -> Value {
    let mut init = json!({
        "name": protocol::INIT_CONTAINER,
        "image": image,
        "command": [protocol::IMAGE_RUNNER_PATH, "install", protocol::RUNNER_PATH],
        "workingDir": "/",
    });
    let mut env = Vec::new();
    if original.restart_policy.is_none() {
        env.push(json!({"name": DEFAULTED_RESTART_ENV, "value": "true"}));
    }
    if !original.literals.is_empty() {
        let record = serde_json::to_string(&original.literals).expect("strings serialize");
        env.push(json!({"name": LITERALS_ENV, "value": record}));
    }
    if !env.is_empty() {
        init["env"] = Value::Array(env);
    }
    if let Some(resources) = &original.init_resources {
        init["resources"] = resources.clone();
    }
    init["securityContext"] = json!({
        "allowPrivilegeEscalation": false,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "runAsUser": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    });
    init["volumeMounts"] = json!([{"name": protocol::BIN_VOLUME, "mountPath": protocol::BIN_DIR}]);
    init
}

/// Plans the original form back: no injected items, the user's own command and args.
pub fn revert(original: &Original) -> Plan {
    let mut plan = Plan {
        containers: original
            .containers
            .iter()
            .map(|c| ContainerPlan {
                command: c.command.clone(),
                args: c.args.clone(),
                mount_tail: vec![],
            })
            .collect(),
        init_tail: vec![],
        volume_tail: vec![],
        restart_policy: original.restart_policy.clone(),
        notes: vec![],
        literals: original.literals.clone(),
        key_edits: resources::restore(&original.resources.record),
        moves: sidecars::Moves::default(),
    };
    sidecars::revert_moves(&mut plan, original);
    plan
}
