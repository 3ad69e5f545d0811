//! `probes: drop`: liveness, readiness and startup probes are removed from steps (they would
//! fire while a step waits for its turn), and recorded so that revert writes them back.
//!
//! Each dropped probe is recorded with the key before it in its container and its text as
//! written: the entry's lines (with the comment and blank lines directly above it) shifted
//! to column 0, or, in a flow mapping, the `key: value` entry. Revert puts that text back
//! after the same key, so it comes back byte for byte. The record lives on the injected init
//! container ([`PROBES_ENV`]) or, in `imageVolume` mode, in a downwardAPI volume
//! ([`PROBES_VOLUME`]).

use super::sidecars::{Moves, Selection};
use super::{Original, Plan, name_of};
use crate::config::ProbePolicy;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Environment variable on the injected init container recording the dropped probes.
pub const PROBES_ENV: &str = "KUEUELEULEU_DROPPED_PROBES";
/// The downwardAPI volume carrying the same record in `imageVolume` mode.
pub const PROBES_VOLUME: &str = "kueueleuleu-dropped-probes";

/// The probe keys a container may declare.
pub const PROBE_KEYS: [&str; 3] = ["livenessProbe", "readinessProbe", "startupProbe"];

/// One probe removed from a step, as revert writes it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DroppedProbe {
    /// The step's container name.
    pub container: String,
    /// `livenessProbe`, `readinessProbe` or `startupProbe`.
    pub key: String,
    /// The key before it in the container (`None` when it was the first).
    pub after: Option<String>,
    /// The entry as written (see the module documentation).
    pub text: String,
    /// Whether `text` is a flow entry (`key: value` inside `{...}`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flow: bool,
}

impl DroppedProbe {
    /// The probe's value, read back from its text.
    pub fn value(&self) -> Option<Value> {
        let text = if self.flow {
            format!("{{{}}}", self.text)
        } else {
            self.text.clone()
        };
        let docs = crate::yaml::tree::parse(&text).ok()?;
        let root = docs.into_iter().next().flatten()?;
        let node = root.get(&self.key)?;
        crate::yaml::value::Resolver::new(&root).value(node).ok()
    }
}

/// The `&'static` spelling of a probe key.
pub(super) fn static_key(key: &str) -> Option<&'static str> {
    PROBE_KEYS.into_iter().find(|k| *k == key)
}

/// The probes the current containers declare, with a text made from their value (the
/// object layer replaces it with the text as written, see [`exact_texts`]).
pub(super) fn present(containers: &[Value]) -> Vec<(usize, DroppedProbe)> {
    let mut out = Vec::new();
    for (i, c) in containers.iter().enumerate() {
        let (Some(map), Some(name)) = (c.as_object(), name_of(c)) else {
            continue;
        };
        let keys: Vec<&String> = map.keys().collect();
        for (k, key) in keys.iter().enumerate() {
            if static_key(key).is_none() || map[key.as_str()].is_null() {
                continue;
            }
            out.push((
                i,
                DroppedProbe {
                    container: name.to_string(),
                    key: key.to_string(),
                    after: k.checked_sub(1).map(|p| keys[p].to_string()),
                    text: format!("{key}: {}", map[key.as_str()]),
                    flow: false,
                },
            ));
        }
    }
    out
}

/// Replaces the generated probe texts with the entries as written.
pub fn exact_texts(text: &str, spec: &crate::yaml::tree::Node, original: &mut Original) {
    let Some(items) = spec.get("containers").and_then(|c| c.items()) else {
        return;
    };
    for (i, probe) in &mut original.moved.present {
        if let Some(node) = items.get(*i)
            && let Some((entry, flow)) = crate::edit::probe_entry_text(text, node, &probe.key)
        {
            probe.text = entry;
            probe.flow = flow;
        }
    }
}

/// The probes an earlier conversion recorded.
pub(super) fn recorded(init: &[Value], volumes: &[Value]) -> Vec<DroppedProbe> {
    super::sidecars::recorded(init, volumes, PROBES_ENV, PROBES_VOLUME)
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Plans every recorded (dropped) probe back onto its container.
pub(super) fn restore_recorded(plan: &mut Plan, original: &Original) {
    for p in &original.moved.dropped {
        if let Some(i) = original
            .containers
            .iter()
            .position(|c| c.name == p.container)
        {
            plan.moves.restore_probes.push((i, p.clone()));
        }
    }
}

/// Plans the probes of the steps under `policy`: with `drop`, every probe a step declares
/// is removed and the earlier record kept; otherwise recorded probes are written back (the
/// probe check has already refused or warned about them). Returns the record to keep.
pub(super) fn plan(
    plan: &mut Plan,
    original: &Original,
    sel: &Selection,
    policy: ProbePolicy,
) -> Vec<DroppedProbe> {
    let m = &original.moved;
    if policy != ProbePolicy::Drop {
        restore_recorded(plan, original);
        return Vec::new();
    }
    let mut record = m.dropped.clone();
    for (i, p) in &m.present {
        if sel.is_step(*i) {
            plan.moves.drop_probes.push((*i, p.clone()));
            record.push(p.clone());
        }
    }
    record
}

/// Probe keys removed or written back in a pod spec value.
pub(super) fn apply(out: &mut Value, moves: &Moves) {
    let Some(Value::Array(containers)) = out.get_mut("containers") else {
        return;
    };
    for (i, p) in &moves.drop_probes {
        if let Some(Value::Object(c)) = containers.get_mut(*i) {
            c.shift_remove(&p.key);
        }
    }
    for (i, p) in &moves.restore_probes {
        let (Some(Value::Object(c)), Some(value)) = (containers.get_mut(*i), p.value()) else {
            continue;
        };
        let at = match &p.after {
            None => 0,
            Some(after) => c.keys().position(|k| k == after).map_or(c.len(), |k| k + 1),
        };
        c.shift_insert(at, p.key.clone(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_entry_reads_back_with_its_comments() {
        let p = DroppedProbe {
            container: "a".into(),
            key: "livenessProbe".into(),
            after: Some("image".into()),
            text: "# why\nlivenessProbe:\n  exec: {command: [\"true\"]}  # ok\n".into(),
            flow: false,
        };
        assert_eq!(
            p.value(),
            Some(serde_json::json!({"exec": {"command": ["true"]}}))
        );
        let f = DroppedProbe {
            text: "\"livenessProbe\": {\"periodSeconds\": 1}".into(),
            flow: true,
            ..p
        };
        assert_eq!(f.value(), Some(serde_json::json!({"periodSeconds": 1})));
    }
}
