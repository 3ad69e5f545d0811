//! Applies a [`Plan`] to one pod spec in a lossless syntax tree (`yaml-edit`).
//!
//! Each owned field is compared with what the plan wants and edited only when they differ, so
//! comments, key order, quoting and flow style elsewhere survive, and a second run edits
//! nothing. New values are written by [`crate::emit`] (YAML 1.1 safe) and parsed into nodes,
//! so `yaml-edit` places them but never picks their quoting.

use crate::convert::{ContainerPlan, Plan, is_injected_init, is_injected_volume};
use crate::emit;
use serde_json::Value;
use std::str::FromStr;
use yaml_edit::{Document, Mapping};

/// Why an edit could not be made. Should not happen for input that parsed; reported as an
/// error result rather than a panic if it does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("{field}: expected a {expected} in the YAML text")]
    Shape {
        field: String,
        expected: &'static str,
    },
    #[error("internal: generated YAML did not parse: {0}")]
    Generated(String),
}

/// Brings the pod spec `mapping` (whose current value is `current`) to what `plan` says.
pub fn apply(mapping: &Mapping, current: &Value, plan: &Plan, at: &str) -> Result<(), EditError> {
    let containers = mapping
        .get_sequence("containers")
        .ok_or_else(|| shape(at, "containers", "list"))?;
    let current_containers = current.get("containers").and_then(Value::as_array);
    for (i, want) in plan.containers.iter().enumerate() {
        let node = containers
            .get(i)
            .ok_or_else(|| shape(at, &format!("containers[{i}]"), "container"))?;
        let container = node
            .as_mapping()
            .ok_or_else(|| shape(at, &format!("containers[{i}]"), "mapping"))?;
        let now = current_containers
            .and_then(|c| c.get(i))
            .unwrap_or(&Value::Null);
        apply_container(container, now, want, &format!("{at}.containers[{i}]"))?;
    }
    reconcile_list(
        mapping,
        current,
        "initContainers",
        is_injected_init,
        &plan.init_tail,
        at,
    )?;
    reconcile_list(
        mapping,
        current,
        "volumes",
        is_injected_volume,
        &plan.volume_tail,
        at,
    )?;
    let want_policy = plan.restart_policy.clone().map(Value::String);
    set_field(
        mapping,
        current,
        "restartPolicy",
        want_policy.as_ref(),
        None,
    )?;
    Ok(())
}

fn apply_container(
    container: &Mapping,
    now: &Value,
    want: &ContainerPlan,
    at: &str,
) -> Result<(), EditError> {
    let to_value = |v: &Option<Vec<String>>| v.as_ref().map(|items| Value::from(items.clone()));
    set_field(
        container,
        now,
        "command",
        to_value(&want.command).as_ref(),
        Some("image"),
    )?;
    set_field(
        container,
        now,
        "args",
        to_value(&want.args).as_ref(),
        Some("command"),
    )?;
    reconcile_list(
        container,
        now,
        "volumeMounts",
        is_injected_volume,
        &want.mount_tail,
        at,
    )
}

/// Sets `key` to `want` (removing it when `None`) unless it already holds that value. A new
/// key goes right after `after` when that key exists, otherwise at the end of the mapping.
fn set_field(
    map: &Mapping,
    now: &Value,
    key: &str,
    want: Option<&Value>,
    after: Option<&str>,
) -> Result<(), EditError> {
    let have = now.get(key).filter(|v| !v.is_null());
    if have == want && (want.is_some() || now.get(key).is_none()) {
        return Ok(());
    }
    let Some(want) = want else {
        map.remove(key);
        return Ok(());
    };
    if map.contains_key(key) {
        set_node(map, key, want)
    } else {
        match after.filter(|a| map.contains_key(*a)) {
            Some(anchor) => insert_node_after(map, anchor, key, want),
            None => set_node(map, key, want),
        }
    }
}

/// Makes the list at `key` hold the user's items in order followed by `tail`. Only injected
/// items are removed or appended; the key is dropped when nothing is left (revert).
fn reconcile_list(
    map: &Mapping,
    now: &Value,
    key: &str,
    injected: fn(&Value) -> bool,
    tail: &[Value],
    at: &str,
) -> Result<(), EditError> {
    let items: &[Value] = now
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let user_count = items.iter().filter(|v| !injected(v)).count();
    let in_order = items.len() == user_count + tail.len()
        && items[..user_count].iter().all(|v| !injected(v))
        && items[user_count..] == *tail;
    if in_order {
        return Ok(());
    }
    let Some(seq) = map.get_sequence(key) else {
        if !tail.is_empty() {
            set_node(map, key, &Value::from(tail.to_vec()))?;
        }
        return Ok(());
    };
    if seq.len() != items.len() {
        return Err(shape(at, key, "list matching the parsed value"));
    }
    for index in (0..items.len()).rev().filter(|&i| injected(&items[i])) {
        seq.remove(index);
    }
    for item in tail {
        match item {
            Value::Object(_) => seq.push(
                parse_node(&emit::block(item, 0))?
                    .as_mapping()
                    .ok_or_else(|| generated(item))?,
            ),
            _ => return Err(generated(item)),
        }
    }
    if seq.is_empty() {
        map.remove(key);
    }
    Ok(())
}

fn set_node(map: &Mapping, key: &str, value: &Value) -> Result<(), EditError> {
    let doc = parse_node(&emit::block(value, 0))?;
    match value {
        Value::Array(_) => map.set(key, doc.as_sequence().ok_or_else(|| generated(value))?),
        Value::Object(_) => map.set(key, doc.as_mapping().ok_or_else(|| generated(value))?),
        _ => map.set(key, doc.as_scalar().ok_or_else(|| generated(value))?),
    }
    Ok(())
}

fn insert_node_after(
    map: &Mapping,
    anchor: &str,
    key: &str,
    value: &Value,
) -> Result<(), EditError> {
    let doc = parse_node(&emit::block(value, 0))?;
    let inserted = match value {
        Value::Array(_) => map.insert_after(
            anchor,
            key,
            doc.as_sequence().ok_or_else(|| generated(value))?,
        ),
        Value::Object(_) => map.insert_after(
            anchor,
            key,
            doc.as_mapping().ok_or_else(|| generated(value))?,
        ),
        _ => map.insert_after(
            anchor,
            key,
            doc.as_scalar().ok_or_else(|| generated(value))?,
        ),
    };
    if inserted {
        Ok(())
    } else {
        set_node(map, key, value)
    }
}

fn parse_node(text: &str) -> Result<Document, EditError> {
    Document::from_str(text).map_err(|e| EditError::Generated(e.to_string()))
}

fn generated(value: &Value) -> EditError {
    EditError::Generated(value.to_string())
}

fn shape(at: &str, field: &str, expected: &'static str) -> EditError {
    EditError::Shape {
        field: format!("{at}.{field}"),
        expected,
    }
}
