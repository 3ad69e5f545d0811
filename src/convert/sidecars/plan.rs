//! The sidecar and probe parts of a plan: what moves, and the record revert reads.

use super::{SIDECARS_ENV, SIDECARS_VOLUME, Selection};
use crate::config::Spec as Config;
use crate::convert::install::Install;
use crate::convert::probes;
use crate::convert::{ContainerPlan, Finding, Original, Plan};
use serde_json::{Map, Value, json};

/// Completes a plan made for the steps alone: a plan (unchanged fields) for each sidecar
/// still in `containers`, the moves, dropped probes, and the record revert reads.
pub(in crate::convert) fn finish(
    plan: &mut Plan,
    original: &Original,
    sel: &Selection,
    config: &Config,
) {
    let mut steps = std::mem::take(&mut plan.containers).into_iter();
    for (i, c) in original.containers.iter().enumerate() {
        if sel.is_step(i) {
            plan.containers.extend(steps.next());
        } else {
            plan.moves.to_init.push(i);
            plan.containers.push(ContainerPlan {
                command: c.command.clone(),
                args: c.args.clone(),
                mount_tail: vec![],
            });
        }
    }
    if !plan.moves.to_init.is_empty() || !original.moved.sidecars.is_empty() {
        let mut names: Vec<&str> = original
            .moved
            .sidecars
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        names.extend(
            plan.moves
                .to_init
                .iter()
                .map(|&i| original.containers[i].name.as_str()),
        );
        plan.notes.push(Finding {
            severity: crate::convert::Severity::Info,
            field: "initContainers".into(),
            message: format!(
                "runs {} as native sidecar(s) in initContainers (restartPolicy: Always), beside \
                 the steps; the kubelet stops them when the last step ends",
                names.join(", ")
            ),
        });
    }
    let mut record = Map::new();
    let mut all: Vec<(String, usize)> = original
        .moved
        .sidecars
        .iter()
        .map(|s| (s.name.clone(), s.index))
        .collect();
    all.extend(plan.moves.to_init.iter().map(|&i| {
        // Index in the original containers: the current one, on a spec not converted yet.
        (original.containers[i].name.clone(), i)
    }));
    all.sort_by_key(|(_, i)| *i);
    for (name, index) in all {
        record.insert(name, json!(index));
    }
    let dropped = probes::plan(plan, original, sel, config.probes);
    let mut env = Vec::new();
    if !record.is_empty() {
        env.push((
            SIDECARS_ENV,
            SIDECARS_VOLUME,
            Value::Object(record).to_string(),
        ));
    }
    if !dropped.is_empty() {
        let text = serde_json::to_string(&dropped).expect("strings serialize");
        env.push((probes::PROBES_ENV, probes::PROBES_VOLUME, text));
    }
    add_records(plan, config.install, env);
}

/// Puts the records on the injected init container (after the env vars it already has), or
/// in `imageVolume` mode into downwardAPI volumes no container mounts.
fn add_records(plan: &mut Plan, install: Install, records: Vec<(&str, &str, String)>) {
    for (env, volume, text) in records {
        match install {
            Install::InitContainer => {
                let Some(Value::Object(init)) = plan.init_tail.first_mut() else {
                    continue;
                };
                let entry = json!({"name": env, "value": text});
                match init.get_mut("env") {
                    Some(Value::Array(list)) => list.push(entry),
                    _ => {
                        let at = init
                            .keys()
                            .position(|k| k == "workingDir")
                            .map_or(init.len(), |i| i + 1);
                        init.shift_insert(at, "env".into(), json!([entry]));
                    }
                }
            }
            Install::ImageVolume => plan
                .volume_tail
                .push(json!({"name": volume, "downwardAPI": {
                "items": [{"path": text, "fieldRef": {"fieldPath": "metadata.name"}}]}})),
        }
    }
}

/// Revert: every moved sidecar back to its index, probes written back, and the literal
/// record keyed by where the steps are now (the sidecars are not in `containers` yet).
pub(in crate::convert) fn revert_moves(plan: &mut Plan, original: &Original) {
    let m = &original.moved;
    plan.moves.to_containers = m.sidecars.iter().map(|s| (s.init_index, s.index)).collect();
    let current_index = |original_index: usize| {
        if m.sidecars.iter().any(|s| s.index == original_index) {
            return None;
        }
        Some(
            original_index
                - m.sidecars
                    .iter()
                    .filter(|s| s.index < original_index)
                    .count(),
        )
    };
    plan.literals = std::mem::take(&mut plan.literals)
        .into_iter()
        .filter_map(|(path, text)| match path.strip_prefix("containers[") {
            Some(rest) => {
                let (num, tail) = rest.split_once(']')?;
                let i = current_index(num.parse().ok()?)?;
                Some((format!("containers[{i}]{tail}"), text))
            }
            None => Some((path, text)),
        })
        .collect();
    probes::restore_recorded(plan, original);
}
