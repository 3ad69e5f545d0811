//! The moves of a plan applied to a pod spec held as JSON: what the text edit must mean.

use crate::convert::{Plan, is_injected_init, name_of, probes};
use serde_json::{Value, json};

/// The moves of a plan applied to a pod spec value (after the rest of the plan).
pub(in crate::convert) fn apply(mut out: Value, plan: &Plan) -> Value {
    let moves = &plan.moves;
    probes::apply(&mut out, moves);
    let Some(spec) = out.as_object_mut() else {
        return out;
    };
    if !moves.to_init.is_empty() {
        let mut taken = Vec::new();
        if let Some(Value::Array(containers)) = spec.get_mut("containers") {
            for &i in &moves.to_init {
                if let Some(mut c) = containers.get(i).cloned() {
                    if let Some(map) = c.as_object_mut() {
                        let at = map
                            .keys()
                            .position(|k| k == "name")
                            .map_or(map.len(), |i| i + 1);
                        map.shift_insert(at, "restartPolicy".into(), json!("Always"));
                    }
                    taken.push(c);
                }
            }
            let mut i = 0;
            containers.retain(|_| {
                i += 1;
                !moves.to_init.contains(&(i - 1))
            });
        }
        let init = spec
            .entry("initContainers")
            .or_insert_with(|| Value::Array(vec![]));
        if !init.is_array() {
            *init = Value::Array(vec![]);
        }
        if let Value::Array(list) = init {
            let at = list.iter().position(is_injected_init).unwrap_or(list.len());
            for (k, c) in taken.into_iter().enumerate() {
                list.insert(at + k, c);
            }
        }
    }
    if !moves.to_containers.is_empty() {
        let mut back = Vec::new();
        if let Some(Value::Array(init)) = spec.get_mut("initContainers") {
            let names: Vec<Option<String>> = moves
                .to_containers
                .iter()
                .map(|&(at, _)| init.get(at).and_then(name_of).map(str::to_string))
                .collect();
            for (name, &(_, index)) in names.iter().zip(&moves.to_containers) {
                if let Some(pos) = init.iter().position(|c| name_of(c) == name.as_deref()) {
                    let mut c = init.remove(pos);
                    if let Some(map) = c.as_object_mut() {
                        map.shift_remove("restartPolicy");
                    }
                    back.push((index, c));
                }
            }
        }
        if matches!(spec.get("initContainers"), Some(Value::Array(l)) if l.is_empty()) {
            match plan.literals.get("initContainers") {
                Some(text) if text.trim_start().starts_with('[') => {}
                Some(_) => {
                    spec.insert("initContainers".into(), Value::Null);
                }
                None => {
                    spec.shift_remove("initContainers");
                }
            }
        }
        if let Some(Value::Array(containers)) = spec.get_mut("containers") {
            for (index, c) in back {
                let at = index.min(containers.len());
                containers.insert(at, c);
            }
        }
    }
    out
}
