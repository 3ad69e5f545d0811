//! The `resources` policy: `keep` leaves every step's resources as written (the scheduler
//! and quotas add them up, as for any Pod), `max` makes the Pod request what its largest step
//! needs through pod-level resources (`spec.resources`, Kubernetes 1.34+).
//!
//! Under `max` the conversion owns `spec.resources` and, in each step, the keys of
//! `resources.requests` it lowers (see [`max`] for the arithmetic). What those keys held
//! before is recorded on the init container ([`RESOURCES_ENV`]), value and text, so revert
//! and a `keep` conversion write them back byte for byte, and a second `max` conversion
//! plans exactly what the first wrote.

mod max;
mod others;
mod policy;
pub mod quantity;

pub use max::plan_max;
pub use policy::{plan, remap_steps};

use super::name_of;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Environment variable on the init container: what the keys a `max` conversion changed
/// held before, as a JSON object from field path (below the pod spec) to `[value, text]`,
/// or to `null` when the key was absent.
pub const RESOURCES_ENV: &str = "KUEUELEULEU_ORIGINAL_RESOURCES";

/// The runner's guard against a server that dropped `spec.resources`: for each resource
/// with a pod-level limit, the env var the downward API fills with the limit the init
/// container sees (its divisor), and the env var holding the pod-level limit expected.
pub const GUARDS: [Guard; 2] = [
    Guard {
        resource: "cpu",
        divisor: "1m",
        seen_env: "KUEUELEULEU_SEEN_LIMIT_CPU",
        expected_env: "KUEUELEULEU_POD_LIMIT_CPU",
    },
    Guard {
        resource: "memory",
        divisor: "1",
        seen_env: "KUEUELEULEU_SEEN_LIMIT_MEMORY",
        expected_env: "KUEUELEULEU_POD_LIMIT_MEMORY",
    },
];

/// One resource the runner's guard checks (see [`GUARDS`]).
#[derive(Debug, Clone, Copy)]
pub struct Guard {
    /// `cpu` or `memory`.
    pub resource: &'static str,
    /// The downward API divisor: the expected value is written in these units.
    pub divisor: &'static str,
    /// Filled by the kubelet from `limits.<resource>`.
    pub seen_env: &'static str,
    /// Written by the conversion.
    pub expected_env: &'static str,
}

/// The `resources` setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ResourcePolicy {
    /// Every step keeps its resources; the Pod requests their sum (what Kubernetes does).
    #[default]
    Keep,
    /// The Pod requests the largest step's cpu and memory (pod-level resources, Kubernetes
    /// 1.34+); each step keeps its limits, its requests are lowered to fit.
    Max,
}

/// The values of `resources`, as written in a config.
pub const POLICY_VALUES: [&str; 2] = ["keep", "max"];

impl ResourcePolicy {
    /// Reads a config value; the error names the accepted values and the nearest one.
    pub fn parse(text: &str) -> Result<ResourcePolicy, String> {
        match text {
            "keep" => Ok(ResourcePolicy::Keep),
            "max" => Ok(ResourcePolicy::Max),
            other => {
                let hint = crate::config::closest(other, &POLICY_VALUES)
                    .map(|near| format!("did you mean {near:?}? "))
                    .unwrap_or_default();
                Err(format!(
                    "unknown resources policy {other:?}; {hint}use keep (the default) or max"
                ))
            }
        }
    }
}

impl<'de> Deserialize<'de> for ResourcePolicy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ResourcePolicy, D::Error> {
        let text = String::deserialize(d)?;
        ResourcePolicy::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A key below the pod spec that a plan sets (`value`) or removes (`None`). `path` is like
/// `resources` or `containers[1].resources.requests.cpu`; every key before the last exists
/// as a mapping when the plan is made.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyEdit {
    /// Where, below the pod spec.
    pub path: String,
    /// What the key must hold; `None` removes it.
    pub value: Option<Value>,
    /// The exact text to write for `value`, when it is the user's own (revert).
    pub text: Option<String>,
}

/// What a key held before a `max` conversion: its value and its text as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held(pub Value, pub String);

/// Field path to what it held (`None`: the key was absent).
pub type Record = BTreeMap<String, Option<Held>>;

/// The resources of a pod spec as the user wrote them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Originals {
    /// Each container's `resources` (`None` when absent), in `containers` order.
    pub steps: Vec<Option<Value>>,
    /// Each container's name, in the same order.
    pub names: Vec<String>,
    /// What a previous `max` conversion recorded (empty otherwise).
    pub record: Record,
    /// The user's own `spec.resources` (not one a conversion wrote).
    pub pod: Option<Value>,
    /// The init containers (sidecars and others run beside or before the steps).
    pub init: Vec<Value>,
    /// Exact texts of scalars under the steps' `resources`, by path (filled from the YAML
    /// text by the object layer; without them a value is written in the emitter's spelling).
    pub texts: BTreeMap<String, String>,
}

impl Originals {
    /// The first step as far as the init container's copied resources are concerned.
    pub fn first_step(&self) -> Value {
        match self.steps.first() {
            Some(Some(r)) => serde_json::json!({"resources": r}),
            _ => Value::Object(Map::new()),
        }
    }
}

/// Reads the steps' resources back to what the user wrote: a converted spec's recorded
/// keys are put back first.
pub fn read(spec: &Value, containers: &[Value], init: &[Value]) -> Originals {
    let record = init
        .iter()
        .filter(|c| super::is_injected_init(c))
        .filter_map(|c| c.get("env").and_then(Value::as_array))
        .flatten()
        .filter(|e| name_of(e) == Some(RESOURCES_ENV))
        .filter_map(|e| e.get("value").and_then(Value::as_str))
        .find_map(|text| serde_json::from_str::<Record>(text).ok())
        .unwrap_or_default();
    let mut restored = serde_json::json!({"containers": containers});
    if let Some(pod) = spec.get("resources") {
        restored["resources"] = pod.clone();
    }
    apply_edits(&mut restored, &restore(&record));
    let steps = (0..containers.len())
        .map(|i| restored["containers"][i].get("resources").cloned())
        .collect();
    Originals {
        steps,
        names: containers
            .iter()
            .map(|c| name_of(c).unwrap_or_default().to_string())
            .collect(),
        pod: restored.get("resources").cloned(),
        init: init.to_vec(),
        record,
        texts: BTreeMap::new(),
    }
}

/// The edits that put back what a record holds.
pub fn restore(record: &Record) -> Vec<KeyEdit> {
    record
        .iter()
        .map(|(path, held)| KeyEdit {
            path: path.clone(),
            value: held.as_ref().map(|h| h.0.clone()),
            text: held.as_ref().map(|h| h.1.clone()),
        })
        .collect()
}

/// Applies key edits to a pod spec value (what the text editor's output must mean).
pub fn apply_edits(spec: &mut Value, edits: &[KeyEdit]) {
    for edit in edits {
        let (parent, key) = parent_path(&edit.path);
        let Some(map) = at_path_mut(spec, &parent).and_then(Value::as_object_mut) else {
            continue;
        };
        match &edit.value {
            Some(v) => {
                map.insert(key.to_string(), v.clone());
            }
            None => {
                map.remove(key);
            }
        }
    }
}

/// One step of a field path: a key, or `containers[i]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'p> {
    /// A mapping key.
    Key(&'p str),
    /// `containers[i]`.
    Container(usize),
}

/// The steps of a path like `containers[1].resources.requests.cpu`.
pub fn segments(path: &str) -> Vec<Seg<'_>> {
    path.split('.')
        .map(|part| {
            part.strip_prefix("containers[")
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|i| i.parse().ok())
                .map_or(Seg::Key(part), Seg::Container)
        })
        .collect()
}

/// The path of the mapping that holds the last key, and that key.
pub fn parent_path(path: &str) -> (Vec<Seg<'_>>, &str) {
    let mut segs = segments(path);
    let last = match segs.pop() {
        Some(Seg::Key(k)) => k,
        _ => "",
    };
    (segs, last)
}

/// The value at a path.
pub fn at_path<'v>(value: &'v Value, segs: &[Seg]) -> Option<&'v Value> {
    segs.iter().try_fold(value, |v, seg| match seg {
        Seg::Key(k) => v.get(*k),
        Seg::Container(i) => v.get("containers")?.get(*i),
    })
}

fn at_path_mut<'v>(value: &'v mut Value, segs: &[Seg]) -> Option<&'v mut Value> {
    segs.iter().try_fold(value, |v, seg| match seg {
        Seg::Key(k) => v.get_mut(*k),
        Seg::Container(i) => v.get_mut("containers")?.get_mut(*i),
    })
}

/// Puts the record, the guard and the planned resources on the injected init container,
/// keeping its usual key order (env, resources, then securityContext).
pub fn dress_init(init_tail: &mut [Value], planned: &max::Planned) {
    let Some(init) = init_tail.first_mut().and_then(Value::as_object_mut) else {
        return;
    };
    let mut env: Vec<Value> = match init.get("env") {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    env.extend(planned.init_env.iter().cloned());
    if !planned.record.is_empty() {
        let record = serde_json::to_string(&planned.record).expect("values serialize");
        env.push(serde_json::json!({"name": RESOURCES_ENV, "value": record}));
    }
    let resources = match &planned.init_resources {
        Some(planned) => Some(planned.clone()),
        None => init.get("resources").cloned(),
    }
    .filter(|r| r.as_object().is_some_and(|m| !m.is_empty()));
    let old = std::mem::take(init);
    let mut pending_env = (!env.is_empty()).then_some(Value::Array(env));
    let mut pending_resources = resources;
    for (key, value) in old {
        if key == "env" || key == "resources" {
            continue;
        }
        if key == "securityContext" {
            if let Some(env) = pending_env.take() {
                init.insert("env".into(), env);
            }
            if let Some(r) = pending_resources.take() {
                init.insert("resources".into(), r);
            }
        }
        init.insert(key, value);
    }
    if let Some(env) = pending_env {
        init.insert("env".into(), env);
    }
    if let Some(r) = pending_resources {
        init.insert("resources".into(), r);
    }
}

pub use max::Planned;

/// The init container's env for one guarded resource with pod-level limit `limit`.
fn guard_env(guard: &Guard, limit: quantity::Quantity) -> [Value; 2] {
    let divisor =
        quantity::Quantity::parse(guard.divisor).unwrap_or(quantity::Quantity(quantity::UNIT));
    [
        json!({"name": guard.seen_env, "valueFrom": {"resourceFieldRef": {
            "resource": format!("limits.{}", guard.resource), "divisor": guard.divisor}}}),
        json!({"name": guard.expected_env, "value": limit.ceil_div(divisor).to_string()}),
    ]
}
