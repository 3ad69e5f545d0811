//! The conversion, as pure functions on one pod spec (a JSON value; no I/O, no YAML text).
//!
//! A pod spec is first read back to its [`Original`] form ([`unwrap`]): containers already
//! converted have their command line parsed back, injected volumes and mounts are set aside.
//! The [`Plan`] then says what every owned field must hold: [`wrap`] for convert, [`revert`]
//! for revert. Since convert is `wrap(unwrap(x))`, converting a converted spec plans exactly
//! what it already holds, and the editor changes nothing: the normal form kpt needs.

use crate::config::Spec as Config;
use crate::protocol::{self, StepArgs};
use serde_json::{Value, json};
use std::collections::HashSet;

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
    name_of(item).is_some_and(|n| n == protocol::BIN_VOLUME || is_run_volume_name(n))
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

/// Reads a pod spec back to what the user wrote, whether or not it is converted already.
pub fn unwrap(spec: &Value) -> Result<Original, Vec<Finding>> {
    let mut errors = Vec::new();
    if !spec.is_object() {
        return Err(vec![Finding::error("", "the pod spec must be a mapping")]);
    }
    let containers = match spec.get("containers") {
        Some(Value::Array(items)) if !items.is_empty() => items.as_slice(),
        Some(Value::Array(_)) | None | Some(Value::Null) => {
            return Err(vec![Finding::error(
                "containers",
                "the pod spec has no containers, so there are no steps to order; add at least one container",
            )]);
        }
        Some(_) => {
            return Err(vec![Finding::error(
                "containers",
                "must be a list of containers",
            )]);
        }
    };
    let init = list(spec, "initContainers", &mut errors);
    let volumes = list(spec, "volumes", &mut errors);
    let was_converted =
        containers.iter().any(runs_the_runner) || init.iter().any(installs_the_runner);
    let restart_policy = match spec.get("restartPolicy") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errors.push(Finding::error(
                "restartPolicy",
                "must be a string: Never or OnFailure",
            ));
            None
        }
    };
    let defaulted_restart = init
        .iter()
        .filter(|c| is_injected_init(c))
        .any(|c| has_env(c, DEFAULTED_RESTART_ENV));

    check_reserved_names(containers, init, volumes, was_converted, &mut errors);
    let mut seen = HashSet::new();
    let mut originals = Vec::with_capacity(containers.len());
    for (i, c) in containers.iter().enumerate() {
        let at = format!("containers[{i}]");
        let Some(name) = name_of(c) else {
            errors.push(Finding::error(
                format!("{at}.name"),
                "every container needs a name",
            ));
            continue;
        };
        if !seen.insert(name) {
            errors.push(Finding::error(
                format!("{at}.name"),
                format!("container name {name:?} is used twice; container names must be unique within a pod"),
            ));
        }
        match read_container(c, &at, name) {
            Ok(o) => originals.push(o),
            Err(f) => errors.push(f),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Original {
        containers: originals,
        restart_policy: if defaulted_restart {
            None
        } else {
            restart_policy
        },
        was_converted,
    })
}

fn list<'a>(spec: &'a Value, key: &str, errors: &mut Vec<Finding>) -> &'a [Value] {
    match spec.get(key) {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => &[],
        Some(_) => {
            errors.push(Finding::error(key, "must be a list"));
            &[]
        }
    }
}

fn has_env(container: &Value, name: &str) -> bool {
    container
        .get("env")
        .and_then(Value::as_array)
        .is_some_and(|env| env.iter().any(|e| name_of(e) == Some(name)))
}

fn check_reserved_names(
    containers: &[Value],
    init: &[Value],
    volumes: &[Value],
    was_converted: bool,
    errors: &mut Vec<Finding>,
) {
    let rename =
        "rename it: names starting with kueueleuleu- are reserved for what the conversion injects";
    let reserved = |name: &str| name.starts_with("kueueleuleu-");
    for (i, v) in volumes.iter().enumerate() {
        let name = name_of(v).unwrap_or_default();
        if reserved(name) && !(was_converted && is_injected_volume(v)) {
            errors.push(Finding::error(
                format!("volumes[{i}].name"),
                format!(
                    "volume {name:?} clashes with the volumes the conversion injects; {rename}"
                ),
            ));
        }
    }
    for (key, items) in [("initContainers", init), ("containers", containers)] {
        for (i, c) in items.iter().enumerate() {
            let name = name_of(c).unwrap_or_default();
            let ours = key == "initContainers" && was_converted && installs_the_runner(c);
            if reserved(name) && !ours {
                errors.push(Finding::error(
                    format!("{key}[{i}].name"),
                    format!(
                        "container {name:?} clashes with the injected init container; {rename}"
                    ),
                ));
            }
            let mounts = c.get("volumeMounts").and_then(Value::as_array);
            for (j, m) in mounts.map_or(&[][..], Vec::as_slice).iter().enumerate() {
                let path = m
                    .get("mountPath")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let under = path.trim_end_matches('/') == "/kueueleuleu"
                    || path.starts_with("/kueueleuleu/");
                if under && !(was_converted && (ours || is_injected_volume(m))) {
                    errors.push(Finding::error(
                        format!("{key}[{i}].volumeMounts[{j}].mountPath"),
                        format!(
                            "container {name:?} mounts something at {path:?}, where the step runner \
                             and its run directories are mounted; mount it elsewhere"
                        ),
                    ));
                }
            }
        }
    }
}

fn strings(value: Option<&Value>, field: &str) -> Result<Option<Vec<String>>, Finding> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| {
                Finding::error(
                    field,
                    "must be a list of strings; quote numbers and booleans",
                )
            }),
        Some(_) => Err(Finding::error(field, "must be a list of strings")),
    }
}

fn read_container(c: &Value, at: &str, name: &str) -> Result<OriginalContainer, Finding> {
    let image = c.get("image").and_then(Value::as_str).map(str::to_string);
    let termination_path = c
        .get("terminationMessagePath")
        .and_then(Value::as_str)
        .filter(|p| *p != protocol::DEFAULT_TERMINATION_PATH)
        .map(str::to_string);
    let command = strings(c.get("command"), &format!("{at}.command"))?;
    let args = strings(c.get("args"), &format!("{at}.args"))?;
    if !runs_the_runner(c) {
        return Ok(OriginalContainer {
            name: name.into(),
            image,
            command,
            args,
            termination_path,
        });
    }
    let step = StepArgs::parse(args.as_deref().unwrap_or_default()).map_err(|e| {
        Finding::error(
            format!("{at}.args"),
            format!(
                "container {name:?} runs {} but its args are not a step command line ({e}); \
                 restore its original command and args by hand",
                protocol::RUNNER_PATH
            ),
        )
    })?;
    let (cmd, rest) = step.argv.split_at(step.command_len);
    Ok(OriginalContainer {
        name: name.into(),
        image,
        command: (!step.default_command).then(|| cmd.to_vec()),
        args: (!rest.is_empty() || step.empty_args).then(|| rest.to_vec()),
        termination_path,
    })
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
        let (program, default_command) = match (&c.command, c.image.as_deref()) {
            (Some(cmd), _) if !cmd.is_empty() => (cmd.clone(), false),
            (_, image) => match image.and_then(|img| config.command_for(img)) {
                Some(cmd) => (cmd.to_vec(), true),
                None => {
                    let image = image.unwrap_or("<no image>");
                    errors.push(Finding::error(
                        format!("containers[{i}].command"),
                        format!(
                            "container {:?} has no command, and the step runner must know what to \
                             start (an image's entrypoint is not in the manifest); add `command:` to \
                             the container, or map its image in the function config: \
                             `commands: {{\"{image}\": [\"/path/to/entrypoint\"]}}`",
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
        };
        let mut mount_tail = vec![
            json!({"name": protocol::BIN_VOLUME, "mountPath": protocol::BIN_DIR, "readOnly": true}),
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
    let mut volume_tail = vec![json!({"name": protocol::BIN_VOLUME, "emptyDir": {}})];
    volume_tail.extend(
        (0..containers.len()).map(|i| json!({"name": protocol::run_volume(i), "emptyDir": {}})),
    );
    Ok(Plan {
        containers,
        init_tail: vec![init_container(
            &config.image,
            original.restart_policy.is_none(),
        )],
        volume_tail,
        restart_policy: Some(restart_policy.to_string()),
        notes,
    })
}

/// The init container that installs the runner. Restricted PodSecurity, requests equal to
/// limits so a Guaranteed pod stays Guaranteed.
fn init_container(image: &str, defaulted_restart: bool) -> Value {
    let mut init = json!({
        "name": protocol::INIT_CONTAINER,
        "image": image,
        "command": [protocol::IMAGE_RUNNER_PATH, "install", protocol::RUNNER_PATH],
        "workingDir": "/",
    });
    if defaulted_restart {
        init["env"] = json!([{"name": DEFAULTED_RESTART_ENV, "value": "true"}]);
    }
    init["resources"] = json!({
        "requests": {"cpu": "50m", "memory": "16Mi"},
        "limits": {"cpu": "50m", "memory": "16Mi"},
    });
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

/// The pod spec a plan describes, as a value: what the text editor's output must mean.
/// Also the library's way to convert a pod spec held as JSON.
pub fn apply_json(spec: &Value, plan: &Plan) -> Value {
    let mut out = spec.clone();
    if let Some(Value::Array(containers)) = out.get_mut("containers") {
        for (c, want) in containers.iter_mut().zip(&plan.containers) {
            set_or_remove(c, "command", want.command.clone().map(Value::from));
            set_or_remove(c, "args", want.args.clone().map(Value::from));
            with_tail(c, "volumeMounts", is_injected_volume, &want.mount_tail);
        }
    }
    with_tail(
        &mut out,
        "initContainers",
        is_injected_init,
        &plan.init_tail,
    );
    with_tail(&mut out, "volumes", is_injected_volume, &plan.volume_tail);
    set_or_remove(
        &mut out,
        "restartPolicy",
        plan.restart_policy.clone().map(Value::from),
    );
    out
}

fn set_or_remove(target: &mut Value, key: &str, value: Option<Value>) {
    if let Some(map) = target.as_object_mut() {
        match value {
            Some(v) => {
                map.insert(key.to_string(), v);
            }
            None => {
                map.remove(key);
            }
        }
    }
}

fn with_tail(target: &mut Value, key: &str, injected: fn(&Value) -> bool, tail: &[Value]) {
    let Some(map) = target.as_object_mut() else {
        return;
    };
    let has_injected =
        matches!(map.get(key), Some(Value::Array(items)) if items.iter().any(injected));
    if tail.is_empty() && !has_injected {
        return;
    }
    let mut items: Vec<Value> = match map.get(key) {
        Some(Value::Array(items)) => items.iter().filter(|v| !injected(v)).cloned().collect(),
        _ => Vec::new(),
    };
    items.extend(tail.iter().cloned());
    if items.is_empty() {
        map.remove(key);
    } else {
        map.insert(key.to_string(), Value::Array(items));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(containers: Value) -> Value {
        json!({"containers": containers})
    }

    #[test]
    fn wrap_then_unwrap_gives_back_the_original() {
        let input = spec(json!([
            {"name": "a", "image": "x", "command": ["sh", "-c"], "args": ["echo $(HOME)"]},
            {"name": "b", "image": "mapped", "args": []},
        ]));
        let config = Config {
            commands: [("mapped".to_string(), vec!["/entry".to_string()])].into(),
            ..Config::default()
        };
        let original = unwrap(&input).unwrap();
        let converted = apply_json(&input, &wrap(&original, &config).unwrap());
        let again = unwrap(&converted).unwrap();
        assert!(again.was_converted);
        assert_eq!(again.containers, original.containers);
        assert_eq!(
            again.restart_policy, None,
            "a defaulted restartPolicy reads back as unset"
        );
        assert_eq!(apply_json(&converted, &revert(&again)), input);
    }

    #[test]
    fn runner_flags_survive_kubelet_expansion() {
        let input = spec(json!([{"name": "a", "image": "x", "command": ["true"],
                                 "terminationMessagePath": "/logs/$(POD)/$$msg"}]));
        let plan = wrap(&unwrap(&input).unwrap(), &Config::default()).unwrap();
        let args = plan.containers[0].args.clone().unwrap();
        let at = args.iter().position(|a| a == "--termination-path").unwrap();
        assert_eq!(args[at + 1], "/logs/$$(POD)/$$$$msg");
    }

    #[test]
    fn always_and_missing_command_are_errors_naming_the_field() {
        let always =
            json!({"restartPolicy": "Always", "containers": [{"name": "a", "command": ["true"]}]});
        let errors = wrap(&unwrap(&always).unwrap(), &Config::default()).unwrap_err();
        assert_eq!(errors[0].field, "restartPolicy");
        let bare = spec(json!([{"name": "web", "image": "nginx:1.27"}]));
        let errors = wrap(&unwrap(&bare).unwrap(), &Config::default()).unwrap_err();
        assert_eq!(errors[0].field, "containers[0].command");
        assert!(
            errors[0].message.contains("\"nginx:1.27\""),
            "{}",
            errors[0].message
        );
    }
}
