//! The conversion, as pure functions on one pod spec (a JSON value; no I/O, no YAML text).
//!
//! A pod spec is first read back to its [`Original`] form ([`unwrap`]): containers already
//! converted have their command line parsed back, injected volumes and mounts are set aside.
//! The [`Plan`] then says what every owned field must hold: [`wrap`] for convert, [`revert`]
//! for revert. Since convert is `wrap(unwrap(x))`, converting a converted spec plans exactly
//! what it already holds, and the editor changes nothing: the normal form kpt needs.

mod apply;
pub mod install;
#[cfg(test)]
mod tests;
mod unwrap;

pub use apply::apply_json;
pub use install::Install;
pub use unwrap::unwrap;

use crate::config::Spec as Config;
use crate::protocol::{self, StepArgs};
use serde_json::{Value, json};

/// Environment variable on the init container recording that `restartPolicy` was unset
/// before conversion, so that revert can unset it again.
pub const DEFAULTED_RESTART_ENV: &str = "KUEUELEULEU_DEFAULTED_RESTART_POLICY";

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
}

/// Whether an init container is the injected one.
pub fn is_injected_init(item: &Value) -> bool {
    name_of(item) == Some(protocol::INIT_CONTAINER)
}

/// Whether a volume or volume mount is one the conversion injects.
pub fn is_injected_volume(item: &Value) -> bool {
    name_of(item).is_some_and(|n| {
        n == protocol::BIN_VOLUME || n == install::DEFAULTED_RESTART_VOLUME || is_run_volume_name(n)
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

/// Plans the sequential form of a pod spec read by [`unwrap`].
pub fn wrap(original: &Original, config: &Config) -> Result<Plan, Vec<Finding>> {
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    let restart_policy = match original.restart_policy.as_deref() {
        None => {
            notes.push(Finding {
                severity: Severity::Info,
                field: "restartPolicy".into(),
                message: "restartPolicy was unset (Always for a Pod); set it to Never so a finished step is not restarted".into(),
            });
            "Never"
        }
        Some("Never") => "Never",
        Some("OnFailure") => "OnFailure",
        Some(other) => {
            errors.push(Finding::error(
                "restartPolicy",
                format!(
                    "restartPolicy {other:?} would restart every step after it finished, so the \
                     steps could never run in order; set restartPolicy to Never or OnFailure"
                ),
            ));
            "Never"
        }
    };
    let on_failure = restart_policy == "OnFailure";
    let mut containers = Vec::with_capacity(original.containers.len());
    for (i, c) in original.containers.iter().enumerate() {
        // Kubernetes' rules: a container's own command wins (the image's CMD is then
        // ignored); without one, the image's ENTRYPOINT runs with the container's args, or
        // with the image's CMD when the container has no args. A defaulted CMD is counted as
        // part of the command, so that revert removes it along with the entrypoint.
        let (program, default_command) = match (&c.command, c.image.as_deref()) {
            (Some(cmd), _) if !cmd.is_empty() => (cmd.clone(), false),
            (_, image) => match image.and_then(|img| config.command_for(img)) {
                Some(parts) => {
                    let mut program = parts.entrypoint;
                    if c.args.as_ref().is_none_or(Vec::is_empty) {
                        program.extend(parts.cmd);
                    }
                    if program.is_empty() && c.args.as_ref().is_none_or(Vec::is_empty) {
                        errors.push(Finding::error(
                            format!("containers[{i}].command"),
                            format!(
                                "container {:?}: the `commands` entry for {:?} has no entrypoint, \
                                 and neither the entry nor the container gives a cmd or args, so \
                                 nothing would run; add the program to the entry",
                                c.name,
                                image.unwrap_or_default()
                            ),
                        ));
                        continue;
                    }
                    (program, true)
                }
                None => {
                    let image = image.unwrap_or("<no image>");
                    errors.push(Finding::error(
                        format!("containers[{i}].command"),
                        format!(
                            "container {:?} has no command, and the step runner must know what to \
                             start (an image's entrypoint is not in the manifest); add `command:` to \
                             the container, map its image in the function config: \
                             `commands: {{\"{image}\": [\"/path/to/entrypoint\"]}}`, or fill that \
                             map from the registry with `kueueleuleu resolve`",
                            c.name
                        ),
                    ));
                    continue;
                }
            },
        };
        let command_len = program.len();
        let mut argv = program;
        argv.extend(c.args.iter().flatten().cloned());
        let step = StepArgs {
            name: c.name.clone(),
            run_dir: protocol::run_dir(i),
            wait_for: if i == 0 {
                vec![]
            } else {
                vec![protocol::run_dir(i - 1)]
            },
            on_failure,
            // The kubelet expands `$(VAR)` and `$$` in every arg, ours included; the path is
            // not expanded where the user wrote it, so it must reach the runner literally.
            termination_path: c.termination_path.as_ref().map(|p| p.replace('$', "$$")),
            command_len,
            default_command,
            empty_args: c.args.as_ref().is_some_and(Vec::is_empty),
            argv,
            ..StepArgs::default()
        };
        let mut mount_tail = vec![
            install::bin_mount(config.install),
            json!({"name": protocol::run_volume(i), "mountPath": protocol::run_dir(i)}),
        ];
        if i > 0 {
            mount_tail.push(json!({"name": protocol::run_volume(i - 1), "mountPath": protocol::run_dir(i - 1), "readOnly": true}));
        }
        containers.push(ContainerPlan {
            command: Some(vec![protocol::RUNNER_PATH.to_string()]),
            args: Some(step.to_args()),
            mount_tail,
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let names: Vec<&str> = original
        .containers
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    notes.push(Finding {
        severity: Severity::Info,
        field: "containers".into(),
        message: format!(
            "runs {} step(s) in sequence: {}",
            names.len(),
            names.join(" -> ")
        ),
    });
    let defaulted_restart = original.restart_policy.is_none();
    let mut volume_tail = install::bin_volumes(config.install, &config.image, defaulted_restart);
    volume_tail.extend(
        (0..containers.len()).map(|i| json!({"name": protocol::run_volume(i), "emptyDir": {}})),
    );
    Ok(Plan {
        containers,
        init_tail: install::init_tail(
            config.install,
            &config.image,
            defaulted_restart,
            original.init_resources.as_ref(),
        ),
        volume_tail,
        restart_policy: Some(restart_policy.to_string()),
        notes,
    })
}

/// The init container that installs the runner: restricted PodSecurity, and the first
/// step's resources so that quotas, LimitRanges and the QoS class see nothing new.
fn init_container(image: &str, defaulted_restart: bool, resources: Option<&Value>) -> Value {
    let mut init = json!({
        "name": protocol::INIT_CONTAINER,
        "image": image,
        "command": [protocol::IMAGE_RUNNER_PATH, "install", protocol::RUNNER_PATH],
        "workingDir": "/",
    });
    if defaulted_restart {
        init["env"] = json!([{"name": DEFAULTED_RESTART_ENV, "value": "true"}]);
    }
    if let Some(resources) = resources {
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
    Plan {
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
    }
}
