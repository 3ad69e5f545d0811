//! Reading a pod spec back to what the user wrote, whether or not it is converted already:
//! runner command lines are parsed back, injected items set aside, reserved names refused.

use super::{
    Finding, LITERALS_ENV, Literals, Original, OriginalContainer, installs_the_runner,
    is_injected_init, is_injected_volume, name_of, runs_the_runner,
};
use crate::protocol::{self, StepArgs};
use serde_json::Value;
use std::collections::HashSet;

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
    let defaulted_restart = super::install::defaulted_restart(init, volumes);

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
    let moved = super::sidecars::read(containers, init, volumes, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let resources = super::resources::read(spec, containers, init);
    Ok(Original {
        containers: originals,
        restart_policy: if defaulted_restart {
            None
        } else {
            restart_policy
        },
        was_converted,
        init_resources: init_resources(&resources.first_step()),
        literals: if was_converted {
            let mut literals = recorded_literals(init);
            literals.extend(super::install::recorded_literals(volumes));
            literals
        } else {
            explicit_literals(spec, containers)
        },
        resources,
        moved,
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

/// The literals a conversion recorded on its init container.
fn recorded_literals(init: &[Value]) -> Literals {
    init.iter()
        .filter(|c| is_injected_init(c))
        .filter_map(|c| c.get("env").and_then(Value::as_array))
        .flatten()
        .filter(|e| name_of(e) == Some(LITERALS_ENV))
        .filter_map(|e| e.get("value").and_then(Value::as_str))
        .find_map(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

/// Owned keys of an unconverted spec that hold an explicit null or empty list, as `null` or
/// `[]` (the object layer, which has the text, refines them to exactly what was written).
fn explicit_literals(spec: &Value, containers: &[Value]) -> Literals {
    let mut out = Literals::new();
    // `command: []` and `args: []` are read back from the runner's own flags already.
    let mut note = |path: String, value: Option<&Value>, lists: bool| match value {
        Some(Value::Null) => {
            out.insert(path, "null".into());
        }
        Some(Value::Array(items)) if lists && items.is_empty() => {
            out.insert(path, "[]".into());
        }
        _ => {}
    };
    for (i, c) in containers.iter().enumerate() {
        for key in ["command", "args", "volumeMounts"] {
            note(
                format!("containers[{i}].{key}"),
                c.get(key),
                key == "volumeMounts",
            );
        }
    }
    for key in ["initContainers", "volumes", "restartPolicy"] {
        note(key.into(), spec.get(key), true);
    }
    out
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
        let Some(name) = name_of(v) else {
            errors.push(Finding::error(
                format!("volumes[{i}]"),
                "this volume has no `name` (a string), which Kubernetes requires and the \
                 conversion needs to add its own volumes beside it; give it a name",
            ));
            continue;
        };
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
            let mounts = match c.get("volumeMounts") {
                None | Some(Value::Null) => &[][..],
                Some(Value::Array(items)) => items.as_slice(),
                Some(_) => {
                    errors.push(Finding::error(
                        format!("{key}[{i}].volumeMounts"),
                        "must be a list of volume mounts",
                    ));
                    &[][..]
                }
            };
            for (j, m) in mounts.iter().enumerate() {
                let Some(mount_name) = name_of(m) else {
                    errors.push(Finding::error(
                        format!("{key}[{i}].volumeMounts[{j}]"),
                        format!(
                            "container {name:?} has a volume mount without a `name` (a string), \
                             which Kubernetes requires; name the volume it mounts"
                        ),
                    ));
                    continue;
                };
                if reserved(mount_name) && !(was_converted && (ours || is_injected_volume(m))) {
                    errors.push(Finding::error(
                        format!("{key}[{i}].volumeMounts[{j}].name"),
                        format!(
                            "volume mount {mount_name:?} clashes with the mounts the conversion \
                             injects; {rename}"
                        ),
                    ));
                    continue;
                }
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

/// The resources the injected init container copies from the first step: its cpu, memory
/// and ephemeral-storage requests and limits, as written. Copying one step's values is what
/// keeps the Pod as the user made it: the init container then never raises the Pod's
/// effective request (one step's request is at most the sum of all), meets any LimitRange
/// minimum, maximum and ratio the step meets, is Guaranteed when the step is, and gets the
/// same LimitRange defaults when the step declares nothing.
pub(super) fn init_resources(first: &Value) -> Option<Value> {
    const COPIED: [&str; 3] = ["cpu", "memory", "ephemeral-storage"];
    let resources = first.get("resources")?;
    let mut out = serde_json::Map::new();
    for part in ["requests", "limits"] {
        let Some(Value::Object(values)) = resources.get(part) else {
            continue;
        };
        let kept: serde_json::Map<String, Value> = COPIED
            .iter()
            .filter_map(|k| values.get(*k).map(|v| ((*k).to_string(), v.clone())))
            .collect();
        if !kept.is_empty() {
            out.insert(part.into(), Value::Object(kept));
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
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
    let probes = ["livenessProbe", "readinessProbe", "startupProbe"]
        .into_iter()
        .filter(|p| c.get(*p).is_some_and(|v| !v.is_null()))
        .collect();
    let post_start = c
        .pointer("/lifecycle/postStart")
        .is_some_and(|v| !v.is_null());
    let command = strings(c.get("command"), &format!("{at}.command"))?;
    let args = strings(c.get("args"), &format!("{at}.args"))?;
    if !runs_the_runner(c) {
        return Ok(OriginalContainer {
            name: name.into(),
            image,
            command,
            args,
            termination_path,
            probes,
            post_start,
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
        probes,
        post_start,
    })
}
