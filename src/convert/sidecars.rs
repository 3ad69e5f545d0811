//! Sidecars: regular containers that never exit (a proxy, a log shipper) and so must not
//! become steps, or a Job would never complete. Named in the config's `sidecars` or the
//! object's `kueueleuleu.io/sidecars` annotation, they are moved out of `containers` into
//! `initContainers` as native sidecars (`restartPolicy: Always`), after the user's own init
//! containers and before the injected `kueueleuleu-init`: they start after the user's init
//! containers have finished, as they did as regular containers, and are up before the runner
//! is installed and the first step starts. The kubelet stops them when the last step ends.
//!
//! The conversion records where each came from (name to index in `containers`) on the
//! injected init container ([`SIDECARS_ENV`]), or in `imageVolume` mode in a downwardAPI
//! volume no container mounts ([`SIDECARS_VOLUME`]), so that revert puts each back at its
//! index, and converting a converted spec plans exactly what it holds.

use super::probes::{self, DroppedProbe};
use super::{Finding, Original, name_of};
use crate::config::Spec as Config;
use serde_json::{Map, Value, json};

mod apply;
mod names;
mod plan;

pub(super) use apply::apply;
pub use names::{annotation_of, check_names, parse_names};
pub(super) use plan::{finish, revert_moves};

/// The per-object list of sidecars; it replaces the config's `sidecars` for that object.
pub const SIDECARS_ANNOTATION: &str = "kueueleuleu.io/sidecars";
/// Environment variable on the injected init container recording the moved sidecars, as a
/// JSON object from container name to its index in the original `containers`.
pub const SIDECARS_ENV: &str = "KUEUELEULEU_SIDECARS";
/// The downwardAPI volume carrying the same record in `imageVolume` mode (its one item's
/// `path` is the JSON record, like [`super::install::LITERALS_VOLUME`]).
pub const SIDECARS_VOLUME: &str = "kueueleuleu-sidecars";

/// What a pod spec holds about sidecars and dropped probes, read by [`super::unwrap`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Moved {
    /// Containers an earlier conversion moved into `initContainers`, by original index.
    pub sidecars: Vec<MovedSidecar>,
    /// Probes an earlier conversion dropped from steps (see [`probes`]).
    pub dropped: Vec<DroppedProbe>,
    /// The probes the current containers declare, with their text (see [`probes`]).
    pub present: Vec<(usize, DroppedProbe)>,
    /// Indexes in `containers` of containers that set their own `restartPolicy`.
    pub restart_policy_set: Vec<usize>,
    /// Names of the user's own init containers (neither injected nor moved).
    pub init_names: Vec<String>,
    /// What the injected init container would copy from each current container.
    pub resources: Vec<Option<Value>>,
    /// The object's `kueueleuleu.io/sidecars` annotation, set by the object layer.
    pub annotation: Option<Vec<String>>,
}

/// One container a conversion moved into `initContainers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedSidecar {
    /// Its name.
    pub name: String,
    /// Its index in the original `containers`, where revert puts it back.
    pub index: usize,
    /// Where it is now in `initContainers`.
    pub init_index: usize,
}

/// Containers moved between the lists, and probe keys removed or written back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Moves {
    /// Convert: indexes in the current `containers` of the containers that become native
    /// sidecars, appended in this order after the user's init containers.
    pub to_init: Vec<usize>,
    /// Revert: index in the current `initContainers` and index in the final `containers`,
    /// by ascending final index.
    pub to_containers: Vec<(usize, usize)>,
    /// Probe keys removed: index in the current `containers`, the probe.
    pub drop_probes: Vec<(usize, DroppedProbe)>,
    /// Probe keys written back: index in the current `containers`, the probe.
    pub restore_probes: Vec<(usize, DroppedProbe)>,
}

impl Moves {
    /// Whether the plan moves containers into or out of `initContainers`.
    pub fn touches_init(&self) -> bool {
        !self.to_init.is_empty() || !self.to_containers.is_empty()
    }
}

/// Reads what a pod spec holds about sidecars: the record of an earlier conversion, where
/// the moved containers are now, and what revert and the checks need of the others.
pub(super) fn read(
    containers: &[Value],
    init: &[Value],
    volumes: &[Value],
    errors: &mut Vec<Finding>,
) -> Moved {
    let record: Map<String, Value> = recorded(init, volumes, SIDECARS_ENV, SIDECARS_VOLUME)
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let mut moved = Moved::default();
    for (name, index) in &record {
        let at = init.iter().position(|c| name_of(c) == Some(name));
        match (at, index.as_u64()) {
            (Some(init_index), Some(index))
                if init[init_index].get("restartPolicy") == Some(&json!("Always")) =>
            {
                moved.sidecars.push(MovedSidecar {
                    name: name.clone(),
                    index: index as usize,
                    init_index,
                });
            }
            _ => errors.push(Finding::error(
                "initContainers",
                format!(
                    "the conversion moved container {name:?} into initContainers as a sidecar, \
                     but it is no longer there with restartPolicy: Always; restore it by hand \
                     or convert the original manifest again"
                ),
            )),
        }
    }
    moved.sidecars.sort_by_key(|s| s.index);
    moved.init_names = init
        .iter()
        .filter(|c| !super::is_injected_init(c))
        .filter_map(name_of)
        .filter(|n| !record.contains_key(*n))
        .map(str::to_string)
        .collect();
    moved.restart_policy_set = containers
        .iter()
        .enumerate()
        .filter(|(_, c)| c.get("restartPolicy").is_some_and(|v| !v.is_null()))
        .map(|(i, _)| i)
        .collect();
    moved.resources = containers
        .iter()
        .map(super::unwrap::init_resources)
        .collect();
    moved.dropped = probes::recorded(init, volumes);
    moved.present = probes::present(containers);
    moved
}

/// The record text on the injected init container's env var, or in the downwardAPI volume.
pub(super) fn recorded(
    init: &[Value],
    volumes: &[Value],
    env: &str,
    volume: &str,
) -> Option<String> {
    let from_env = init
        .iter()
        .filter(|c| super::is_injected_init(c))
        .filter_map(|c| c.get("env").and_then(Value::as_array))
        .flatten()
        .find(|e| name_of(e) == Some(env))
        .and_then(|e| e.get("value").and_then(Value::as_str));
    let from_volume = || {
        volumes
            .iter()
            .find(|v| name_of(v) == Some(volume))
            .and_then(|v| v.pointer("/downwardAPI/items/0/path"))
            .and_then(Value::as_str)
    };
    from_env.or_else(from_volume).map(str::to_string)
}

/// Which current containers are sidecars, for one pod spec and config.
pub(super) struct Selection {
    /// Per current container: whether it is a sidecar (moved now or to be moved).
    sidecar: Vec<bool>,
}

impl Selection {
    /// Whether current container `i` is a step.
    pub(super) fn is_step(&self, i: usize) -> bool {
        !self.sidecar[i]
    }

    /// Index in the current `containers` of step `step`.
    pub(super) fn container_of(&self, step: usize) -> Option<usize> {
        (0..self.sidecar.len())
            .filter(|&i| !self.sidecar[i])
            .nth(step)
    }

    /// Rewrites `containers[<step>]` at the start of each finding's field to the container's
    /// index in the current spec.
    pub(super) fn remap(&self, findings: Vec<Finding>) -> Vec<Finding> {
        findings
            .into_iter()
            .map(|mut f| {
                if let Some(rest) = f.field.strip_prefix("containers[")
                    && let Some((num, tail)) = rest.split_once(']')
                    && let Some(i) = num.parse().ok().and_then(|s| self.container_of(s))
                {
                    f.field = format!("containers[{i}]{tail}");
                }
                f
            })
            .collect()
    }
}

/// Decides which containers are sidecars. The annotation replaces the config's list; names
/// the config gives that this pod lacks are ignored (it applies to many objects), while the
/// annotation's must all be containers of this pod.
pub(super) fn select(original: &Original, config: &Config) -> Result<Selection, Vec<Finding>> {
    let m = &original.moved;
    let (names, from_annotation) = match &m.annotation {
        Some(list) => (list.as_slice(), true),
        None => (config.sidecars.as_slice(), false),
    };
    let source = if from_annotation {
        format!("the {SIDECARS_ANNOTATION} annotation")
    } else {
        "the function config's `sidecars`".to_string()
    };
    let current: Vec<&str> = original
        .containers
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let mut sidecar = vec![false; current.len()];
    let mut errors = Vec::new();
    for name in names {
        let moved = m.sidecars.iter().any(|s| &s.name == name);
        match current.iter().position(|c| c == name) {
            Some(i) if original.was_converted => errors.push(Finding::error(
                format!("containers[{i}]"),
                format!(
                    "{source} names {name:?}, which is a step of this converted pod; revert the \
                     object (kueueleuleu revert), then convert it with the new sidecars"
                ),
            )),
            Some(i) if m.restart_policy_set.contains(&i) => errors.push(Finding::error(
                format!("containers[{i}].restartPolicy"),
                format!(
                    "container {name:?} sets its own restartPolicy, which moving it to a native \
                     sidecar would replace with Always; remove restartPolicy from it or do not \
                     name it in {source}"
                ),
            )),
            Some(i) => sidecar[i] = true,
            None if moved => {}
            None if !from_annotation => {}
            None if m.init_names.iter().any(|n| n == name) => errors.push(Finding::error(
                "initContainers",
                format!(
                    "{source} names {name:?}, which is already an init container (add \
                     `restartPolicy: Always` to it to make it a native sidecar); remove it \
                     from the list"
                ),
            )),
            None => errors.push(Finding::error(
                "containers",
                format!(
                    "{source} names {name:?}, which is not a container of this pod; the \
                     containers are {}",
                    current.join(", ")
                ),
            )),
        }
    }
    for s in &m.sidecars {
        if !names.contains(&s.name) {
            errors.push(Finding::error(
                "initContainers",
                format!(
                    "container {:?} was moved into initContainers as a sidecar by an earlier \
                     conversion, but {source} no longer names it; name it again, or revert \
                     the object (kueueleuleu revert) and convert it anew",
                    s.name
                ),
            ));
        }
    }
    if errors.is_empty() && sidecar.iter().all(|&s| s) {
        errors.push(Finding::error(
            "containers",
            format!(
                "{source} names every container ({}), which would leave no step to run; keep \
                 at least one container out of the list",
                current.join(", ")
            ),
        ));
    }
    if errors.is_empty() {
        Ok(Selection { sidecar })
    } else {
        Err(errors)
    }
}

/// The pod spec's original state restricted to its steps: what the step planning sees.
pub(super) fn steps_only(original: &Original, sel: &Selection) -> Original {
    let mut out = original.clone();
    out.containers = original
        .containers
        .iter()
        .enumerate()
        .filter(|(i, _)| sel.is_step(*i))
        .map(|(_, c)| c.clone())
        .collect();
    if let Some(first) = sel.container_of(0) {
        out.init_resources = original.moved.resources.get(first).cloned().flatten();
    }
    // Probes an earlier conversion dropped are still the user's: the policy decides again.
    for p in &original.moved.dropped {
        if let Some(c) = out.containers.iter_mut().find(|c| c.name == p.container)
            && let Some(key) = probes::static_key(&p.key)
            && !c.probes.contains(&key)
        {
            c.probes.push(key);
            c.probes
                .sort_by_key(|k| probes::PROBE_KEYS.iter().position(|p| p == k));
        }
    }
    out
}

#[cfg(test)]
mod tests;
