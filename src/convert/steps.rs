//! Planning the steps: what each container runs through the runner (its own command, or its
//! image's from the config's `commands`), what it waits for, the restart policy they run
//! under, and the volumes and init container the runner needs.

use super::notes::{check_probes, describe_order};
use super::{
    ContainerPlan, Finding, Literals, Original, OriginalContainer, Plan, Severity, install,
    resources, sidecars,
};
use crate::config::Spec as Config;
use crate::protocol::{self, StepArgs};
use crate::step_settings::{self, StepsMap};
use serde_json::json;

/// The plan for the steps alone (sidecars already set aside): each container runs through
/// the runner, waiting for the steps its settings name; the runner's install and volumes are
/// appended; resources are sized by the config's policy.
pub(super) fn plan(
    original: &Original,
    config: &Config,
    annotation: &StepsMap,
) -> Result<Plan, Vec<Finding>> {
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    let names: Vec<&str> = original
        .containers
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let settings = match step_settings::resolve(&names, &config.steps, annotation) {
        Ok(settings) => settings,
        Err(problems) => {
            return Err(problems
                .into_iter()
                .map(|p| {
                    let field = match names.iter().position(|n| *n == p.step) {
                        Some(i) => format!("containers[{i}]"),
                        None => "containers".into(),
                    };
                    Finding::error(field, p.message)
                })
                .collect());
        }
    };
    check_probes(original, config.probes, &mut errors, &mut notes);
    let (restart_policy, finding) = restart_policy_of(original);
    match finding {
        Some(f) if f.severity == Severity::Error => errors.push(f),
        Some(f) => notes.push(f),
        None => {}
    }
    let on_failure = restart_policy == "OnFailure";
    let mut containers = Vec::with_capacity(original.containers.len());
    for (i, c) in original.containers.iter().enumerate() {
        let (program, default_command) = match program_of(c, i, config) {
            Ok(found) => found,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let command_len = program.len();
        let mut argv = program;
        argv.extend(c.args.iter().flatten().cloned());
        let set = &settings[i];
        let step = StepArgs {
            name: c.name.clone(),
            run_dir: protocol::run_dir(i),
            wait_for: set.after.iter().map(|&j| protocol::run_dir(j)).collect(),
            on_failure,
            timeout: set.timeout,
            on_error: set.on_error,
            retries: set.retries,
            debug_on_failure: set.debug_on_failure,
            // The kubelet expands `$(VAR)` and `$$` in every arg, ours included; the path is
            // not expanded where the user wrote it, so it must reach the runner literally.
            termination_path: c.termination_path.as_ref().map(|p| p.replace('$', "$$")),
            command_len,
            default_command,
            empty_args: c.args.as_ref().is_some_and(Vec::is_empty),
            argv,
        };
        let mut mount_tail = vec![
            install::bin_mount(config.install),
            json!({"name": protocol::run_volume(i), "mountPath": protocol::run_dir(i)}),
        ];
        for &j in &set.after {
            mount_tail.push(json!({"name": protocol::run_volume(j), "mountPath": protocol::run_dir(j), "readOnly": true}));
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
    notes.push(Finding {
        severity: Severity::Info,
        field: "containers".into(),
        message: describe_order(&names, &settings),
    });
    let after: Vec<Vec<usize>> = settings.iter().map(|s| s.after.clone()).collect();
    let sized = resources::plan(original, config, &names, &after)?;
    notes.extend(sized.notes.iter().cloned());
    let mut init_tail = install::init_tail(config.install, &config.image, original);
    resources::dress_init(&mut init_tail, &sized);
    let mut volume_tail = install::bin_volumes(config.install, &config.image, original);
    volume_tail.extend(
        (0..containers.len()).map(|i| json!({"name": protocol::run_volume(i), "emptyDir": {}})),
    );
    Ok(Plan {
        containers,
        init_tail,
        volume_tail,
        restart_policy: Some(restart_policy.to_string()),
        notes,
        literals: Literals::new(),
        key_edits: sized.edits,
        moves: sidecars::Moves::default(),
    })
}

/// The restart policy the steps run under, with what to tell about it: unset becomes Never
/// (a note); Always would restart finished steps (an error).
fn restart_policy_of(original: &Original) -> (&'static str, Option<Finding>) {
    match original.restart_policy.as_deref() {
        None => (
            "Never",
            Some(Finding {
                severity: Severity::Info,
                field: "restartPolicy".into(),
                message: "restartPolicy was unset (Always for a Pod); set it to Never so a finished step is not restarted".into(),
            }),
        ),
        Some("Never") => ("Never", None),
        Some("OnFailure") => ("OnFailure", None),
        Some(other) => (
            "Never",
            Some(Finding::error(
                "restartPolicy",
                format!(
                    "restartPolicy {other:?} would restart every step after it finished, so the \
                     steps could never run in order; set restartPolicy to Never or OnFailure"
                ),
            )),
        ),
    }
}

/// What step `i` runs, and whether it came from the image (the config's `commands`) rather
/// than the container's own command.
///
/// Kubernetes' rules: a container's own command wins (the image's CMD is then ignored);
/// without one, the image's ENTRYPOINT runs with the container's args, or with the image's
/// CMD when the container has no args. A defaulted CMD is counted as part of the command, so
/// that revert removes it along with the entrypoint.
fn program_of(
    c: &OriginalContainer,
    i: usize,
    config: &Config,
) -> Result<(Vec<String>, bool), Finding> {
    let image = c.image.as_deref();
    if let Some(cmd) = c.command.as_ref().filter(|cmd| !cmd.is_empty()) {
        return Ok((cmd.clone(), false));
    }
    let field = format!("containers[{i}].command");
    let Some(parts) = image.and_then(|img| config.command_for(img)) else {
        let image = image.unwrap_or("<no image>");
        return Err(Finding::error(
            field,
            format!(
                "container {:?} has no command, and the step runner must know what to \
                 start (an image's entrypoint is not in the manifest); add `command:` to \
                 the container, map its image in the function config: \
                 `commands: {{\"{image}\": [\"/path/to/entrypoint\"]}}`, or fill that \
                 map from the registry with `kueueleuleu resolve`",
                c.name
            ),
        ));
    };
    let no_args = c.args.as_ref().is_none_or(Vec::is_empty);
    let mut program = parts.entrypoint;
    if no_args {
        program.extend(parts.cmd);
    }
    if program.is_empty() && no_args {
        return Err(Finding::error(
            field,
            format!(
                "container {:?}: the `commands` entry for {:?} has no entrypoint, \
                 and neither the entry nor the container gives a cmd or args, so \
                 nothing would run; add the program to the entry",
                c.name,
                image.unwrap_or_default()
            ),
        ));
    }
    Ok((program, true))
}
