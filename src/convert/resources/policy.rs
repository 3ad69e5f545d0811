//! The `resources` policy in a plan: the steps seen apart from the containers that become
//! native sidecars, and the steps' field paths moved to the containers' places.

use super::{Originals, Planned, Seg, plan_max, restore, segments};
use crate::config::Spec as Config;
use crate::convert::{Finding, Install};
use crate::convert::{Original, resources::ResourcePolicy, unwrap::init_resources};
use serde_json::json;

/// What the `resources` policy adds to a plan whose steps are `names` (`after[i]`: the
/// steps step i waits for). Paths name steps by their index among the steps; [`remap_steps`]
/// moves them to the containers' places. Under `keep`, a spec converted with `max` gets its
/// recorded keys back.
pub fn plan(
    original: &Original,
    config: &Config,
    names: &[&str],
    after: &[Vec<usize>],
) -> Result<Planned, Vec<Finding>> {
    let view = steps_view(&original.resources, names);
    let copied = view
        .steps
        .first()
        .cloned()
        .flatten()
        .and_then(|r| init_resources(&json!({"resources": r})));
    match config.resources {
        ResourcePolicy::Keep if original.resources.record.is_empty() => Ok(Planned::default()),
        ResourcePolicy::Keep => Ok(Planned {
            edits: restore(&original.resources.record),
            // What the init container copies from the first step as the user wrote it.
            init_resources: Some(copied.unwrap_or_else(|| json!({}))),
            ..Planned::default()
        }),
        ResourcePolicy::Max if config.install != Install::InitContainer => {
            Err(vec![Finding::error(
                "resources",
                "resources: max records what it changes, and checks that the API server kept \
                 spec.resources, on the injected init container, which install: imageVolume \
                 does not have; use install: initContainer, or resources: keep",
            )])
        }
        ResourcePolicy::Max => plan_max(&view, names, after, copied.as_ref()),
    }
}

/// The steps' resources by step index (texts re-keyed the same way); the containers that are
/// not steps (they become native sidecars) join the init containers as sidecars.
fn steps_view(all: &Originals, names: &[&str]) -> Originals {
    let index_of = |name: &str| all.names.iter().position(|n| n == name);
    let mut view = Originals {
        steps: names
            .iter()
            .map(|n| index_of(n).and_then(|i| all.steps[i].clone()))
            .collect(),
        names: names.iter().map(|n| n.to_string()).collect(),
        record: all.record.clone(),
        pod: all.pod.clone(),
        init: all.init.clone(),
        texts: Default::default(),
    };
    for (i, name) in all.names.iter().enumerate() {
        if !names.contains(&name.as_str()) {
            let mut sidecar = json!({"name": name, "restartPolicy": "Always"});
            if let Some(r) = &all.steps[i] {
                sidecar["resources"] = r.clone();
            }
            view.init.push(sidecar);
        }
    }
    for (path, text) in &all.texts {
        let segs = segments(path);
        let path = match segs.first() {
            Some(Seg::Container(i)) => match names
                .iter()
                .position(|n| Some(*n) == all.names.get(*i).map(String::as_str))
            {
                Some(k) => {
                    path.replacen(&format!("containers[{i}]"), &format!("containers[{k}]"), 1)
                }
                None => continue,
            },
            _ => path.clone(),
        };
        view.texts.insert(path, text.clone());
    }
    view
}

/// Moves `containers[<step>]` at the start of each path to the container's index in the
/// current spec (`container_of`: where step k is).
pub fn remap_steps(edits: &mut [super::KeyEdit], container_of: impl Fn(usize) -> Option<usize>) {
    for edit in edits {
        if let Some(Seg::Container(k)) = segments(&edit.path).first().copied()
            && let Some(i) = container_of(k)
            && i != k
        {
            edit.path =
                edit.path
                    .replacen(&format!("containers[{k}]"), &format!("containers[{i}]"), 1);
        }
    }
}
