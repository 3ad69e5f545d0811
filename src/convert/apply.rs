//! A plan applied to a pod spec held as JSON: what the text editor's output must mean, and
//! the typed library's conversion.

use super::Literals;
use super::{Plan, is_injected_init, is_injected_volume};
use serde_json::Value;

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
    let mut out = apply_lists_and_policy(out, plan);
    // In the containers' current places, before sidecars move.
    super::resources::apply_edits(&mut out, &plan.key_edits);
    let out = with_literals(out, &plan.literals);
    super::sidecars::apply(out, plan)
}

fn apply_lists_and_policy(mut out: Value, plan: &Plan) -> Value {
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

/// Puts back the explicit nulls and empty lists the plan records, where the key is absent.
fn with_literals(mut out: Value, literals: &Literals) -> Value {
    for (path, text) in literals {
        let (owner, key) = match path.rsplit_once('.') {
            Some((container, key)) => (container_of(&mut out, container), key),
            None => (Some(&mut out), path.as_str()),
        };
        let value = if text.trim_start().starts_with('[') {
            Value::Array(vec![])
        } else {
            Value::Null
        };
        if let Some(map) = owner.and_then(Value::as_object_mut)
            && !map.contains_key(key)
        {
            map.insert(key.to_string(), value);
        }
    }
    out
}

/// The container at `containers[i]`.
fn container_of<'v>(spec: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    let index: usize = path
        .strip_prefix("containers[")?
        .strip_suffix(']')?
        .parse()
        .ok()?;
    spec.get_mut("containers")?.get_mut(index)
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
