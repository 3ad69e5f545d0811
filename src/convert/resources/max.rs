//! `resources: max`: what the Pod requests, and how far each step's requests are lowered.
//!
//! For cpu and memory (the resources pod level can hold; Kubernetes also allows hugepages
//! there, whose requests must equal their limits, so they stay per step):
//! - a step's need is its request, or its limit when it has only a limit (Kubernetes
//!   defaults the request to the limit);
//! - the Pod requests, at pod level, the most that can run at once: for a chain the largest
//!   need; with `after` (a DAG), the largest need of a step plus the needs of every step not
//!   ordered with it (a safe bound: those may overlap);
//! - each step then requests at most an equal share of that (request / number of steps,
//!   rounded down to 1m or 1 byte), and never more than it asked for, so the steps' requests
//!   add up to no more than the Pod's, as the API server requires. A step that names neither
//!   gets the share too, so a LimitRange default request cannot push the sum over;
//! - the Pod's limit is the largest step limit, when every step has one (otherwise none:
//!   Kubernetes would default it to the SUM of the limits); the steps keep their limits;
//! - the user's own init containers count too ([`super::others`]): native sidecars add to
//!   the steps, regular init containers set a floor.
//!
//! The injected init container requests what the first step now requests and, for each
//! resource with a pod-level limit, has no limit of its own: it then runs within the Pod's
//! limit, and the downward API shows it that limit, which the runner checks ([`super::GUARDS`]).

use super::others::{Others, others};
use super::quantity::{MILLI, Quantity, UNIT};
use super::{Held, KeyEdit, Originals, Record};
use crate::convert::{Finding, Severity};
use crate::emit;
use serde_json::{Map, Value, json};

/// What `max` adds to a plan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Planned {
    /// Keys to set or remove, pod-level `resources` last.
    pub edits: Vec<KeyEdit>,
    /// What the edited keys held before, for the init container's record.
    pub record: Record,
    /// Env entries of the runner's guard.
    pub init_env: Vec<Value>,
    /// The init container's resources, when they differ from the copied ones.
    pub init_resources: Option<Value>,
    /// Info and warnings.
    pub notes: Vec<Finding>,
}

/// A step's cpu or memory as written.
#[derive(Clone, Copy, Default)]
struct Written {
    request: Option<Quantity>,
    limit: Option<Quantity>,
}

/// One resource of the Pod, planned.
struct PodResource {
    name: &'static str,
    request: Quantity,
    limit: Option<Quantity>,
    /// Each step's new request.
    steps: Vec<Quantity>,
}

const MEBI: i128 = (1 << 20) * UNIT;

const POD_LEVEL: [(&str, i128, bool); 2] = [("cpu", MILLI, false), ("memory", UNIT, true)];

/// Plans `resources: max` for steps whose resources are `originals`, `after[i]` the steps
/// step i waits for; `init` is what the init container copies from the first step.
pub fn plan_max(
    originals: &Originals,
    names: &[&str],
    after: &[Vec<usize>],
    init: Option<&Value>,
) -> Result<Planned, Vec<Finding>> {
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    if let Some(pod) = originals.pod.as_ref().filter(|p| !p.is_null()) {
        let _ = pod;
        errors.push(Finding::error(
            "resources",
            "the pod spec sets pod-level resources itself, and resources: max writes them from \
             the steps; remove spec.resources, or set the function config's resources: keep",
        ));
    }
    let n = originals.steps.len();
    let mut written = vec![[Written::default(); 2]; n];
    for (i, res) in originals.steps.iter().enumerate() {
        let at = format!("containers[{i}].resources");
        let name = names.get(i).copied().unwrap_or_default();
        let Some(map) = mapping(res.as_ref(), &at, name, &mut errors) else {
            continue;
        };
        for part in ["requests", "limits"] {
            let Some(values) = mapping(map.get(part), &format!("{at}.{part}"), name, &mut errors)
            else {
                continue;
            };
            for (key, value) in values {
                let Some(slot) = POD_LEVEL.iter().position(|(r, ..)| r == key) else {
                    if part == "requests"
                        || map.get("requests").is_none_or(|r| r.get(key).is_none())
                    {
                        notes.push(per_step_note(&at, name, key));
                    }
                    continue;
                };
                match Quantity::from_value(value) {
                    Some(q) if part == "requests" => written[i][slot].request = Some(q),
                    Some(q) => written[i][slot].limit = Some(q),
                    None => errors.push(Finding::error(
                        format!("{at}.{part}.{key}"),
                        format!(
                            "container {name:?}: resources.{part}.{key} {} is not a Kubernetes \
                             quantity (like 100m, 0.5, 1Gi or 500M), so resources: max cannot \
                             add it up; fix it, or set resources: keep",
                            emit::inline(value)
                        ),
                    )),
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let unordered = unordered_pairs(after, n);
    let mut pod = Vec::new();
    for (slot, &(name, precision, _)) in POD_LEVEL.iter().enumerate() {
        let steps: Vec<Written> = written.iter().map(|w| w[slot]).collect();
        match others(&originals.init, name) {
            Ok(o) => pod.extend(plan_resource(name, precision, &steps, &unordered, o)),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut planned = Planned {
        notes,
        ..Planned::default()
    };
    if pod.is_empty() {
        return Ok(planned);
    }
    for (i, w) in written.iter().enumerate() {
        let mut changes = Map::new();
        for r in &pod {
            let slot = POD_LEVEL
                .iter()
                .position(|(n, ..)| *n == r.name)
                .unwrap_or(0);
            let want = r.steps[i];
            let have = w[slot].request.or(w[slot].limit);
            if have != Some(want) {
                changes.insert(r.name.into(), Value::String(want.format(binary(r.name))));
            }
        }
        if !changes.is_empty() {
            step_edits(originals, i, changes, &mut planned);
        }
    }
    let mut requests = Map::new();
    let mut limits = Map::new();
    for r in &pod {
        requests.insert(r.name.into(), json!(r.request.format(binary(r.name))));
        if let Some(l) = r.limit {
            limits.insert(r.name.into(), json!(l.format(binary(r.name))));
        }
    }
    let mut pod_value = json!({"requests": requests});
    if !limits.is_empty() {
        pod_value["limits"] = Value::Object(limits);
    }
    let pod_held = originals
        .pod
        .as_ref()
        .map(|v| Held(v.clone(), held_text(originals, "resources", v)));
    planned.record.insert("resources".into(), pod_held);
    planned.edits.push(KeyEdit {
        path: "resources".into(),
        value: Some(pod_value.clone()),
        text: None,
    });
    planned.init_resources = Some(init_resources(init, &pod));
    for r in &pod {
        if let (Some(limit), Some(guard)) =
            (r.limit, super::GUARDS.iter().find(|g| g.resource == r.name))
        {
            planned.init_env.extend(super::guard_env(guard, limit));
        }
    }
    planned.notes.push(Finding {
        severity: Severity::Info,
        field: "resources".into(),
        message: format!(
            "resources: max: the Pod requests {} for its {n} step(s) (pod-level resources, \
             Kubernetes 1.34+), each step's requests are lowered to fit under it",
            crate::emit::inline(&pod_value)
        ),
    });
    Ok(planned)
}

fn binary(resource: &str) -> bool {
    resource == "memory"
}

/// A mapping, or nothing for an absent or null value; anything else is an error.
fn mapping<'v>(
    value: Option<&'v Value>,
    at: &str,
    name: &str,
    errors: &mut Vec<Finding>,
) -> Option<&'v Map<String, Value>> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(map),
        Some(_) => {
            errors.push(Finding::error(
                at,
                format!("container {name:?}: must be a mapping"),
            ));
            None
        }
    }
}

fn per_step_note(at: &str, name: &str, resource: &str) -> Finding {
    Finding {
        severity: Severity::Warning,
        field: at.into(),
        message: format!(
            "container {name:?}: {resource} cannot be set at pod level (Kubernetes accepts only \
             cpu, memory and hugepages there, and hugepages requests must equal their limits), \
             so with resources: max each step keeps its own and the scheduler still adds them up"
        ),
    }
}

/// `unordered[s]`: the steps that may run at the same time as step s (no path between them).
fn unordered_pairs(after: &[Vec<usize>], n: usize) -> Vec<Vec<usize>> {
    // ancestors[i]: every step i waits for, directly or not (a fixed point: n is small).
    let mut ancestors: Vec<Vec<bool>> = vec![vec![false; n]; n];
    let mut changed = true;
    while changed {
        changed = false;
        for i in 0..n {
            for &j in after.get(i).into_iter().flatten() {
                if j >= n {
                    continue;
                }
                let mut add = ancestors[j].clone();
                add[j] = true;
                for (k, yes) in add.into_iter().enumerate() {
                    if yes && !ancestors[i][k] {
                        ancestors[i][k] = true;
                        changed = true;
                    }
                }
            }
        }
    }
    (0..n)
        .map(|s| {
            (0..n)
                .filter(|&t| t != s && !ancestors[s][t] && !ancestors[t][s])
                .collect()
        })
        .collect()
}

fn plan_resource(
    name: &'static str,
    precision: i128,
    steps: &[Written],
    unordered: &[Vec<usize>],
    others: Others,
) -> Option<PodResource> {
    let need: Vec<Option<Quantity>> = steps.iter().map(|w| w.request.or(w.limit)).collect();
    if need.iter().all(Option::is_none) {
        return None;
    }
    let w = |i: usize| need[i].unwrap_or_default().0;
    let request = (0..steps.len())
        .map(|s| w(s) + unordered[s].iter().map(|&t| w(t)).sum::<i128>())
        .max()
        .unwrap_or(0);
    if request == 0 {
        return None;
    }
    let share = Quantity(request / steps.len() as i128);
    let total = (request + others.beside_steps).max(others.before_steps);
    // Rounded down to 1m of cpu, and to 1Mi of memory once it is that large.
    let precision = if precision == UNIT && share.0 >= MEBI {
        MEBI
    } else {
        precision
    };
    let share = share.floor_to(precision);
    let limit = steps
        .iter()
        .map(|s| s.limit)
        .collect::<Option<Vec<_>>>()
        .and_then(|l| l.into_iter().max())
        .zip(others.limits)
        .map(|(l, (beside, before))| Quantity((l.0 + beside).max(before).max(total)));
    Some(PodResource {
        name,
        request: Quantity(total),
        limit,
        steps: need
            .iter()
            .map(|n| n.map_or(share, |q| q.min(share)))
            .collect(),
    })
}

/// The edits that give step `i` the `changes` requests, at the shallowest key that exists.
fn step_edits(originals: &Originals, i: usize, changes: Map<String, Value>, out: &mut Planned) {
    let base = format!("containers[{i}].resources");
    let res = originals.steps[i].as_ref().filter(|r| r.is_object());
    let requests = res
        .and_then(|r| r.get("requests"))
        .filter(|r| r.is_object());
    let mut edit = |path: String, value: Value, held: Option<&Value>| {
        let held = held.map(|v| Held(v.clone(), held_text(originals, &path, v)));
        out.record.insert(path.clone(), held);
        out.edits.push(KeyEdit {
            path,
            value: Some(value),
            text: None,
        });
    };
    match (res, requests) {
        (None, _) => edit(
            base,
            json!({"requests": changes}),
            originals.steps[i].as_ref(),
        ),
        (Some(r), None) => edit(
            format!("{base}.requests"),
            Value::Object(changes),
            r.get("requests"),
        ),
        (Some(_), Some(req)) => {
            for (key, value) in changes {
                let held = req.get(&key);
                edit(format!("{base}.requests.{key}"), value, held);
            }
        }
    }
}

/// The text a recorded value was written as: from the YAML text, or an earlier record.
fn held_text(originals: &Originals, path: &str, value: &Value) -> String {
    originals
        .texts
        .get(path)
        .cloned()
        .or_else(|| {
            originals
                .record
                .get(path)
                .and_then(|h| h.as_ref())
                .filter(|h| &h.0 == value)
                .map(|h| h.1.clone())
        })
        .unwrap_or_else(|| emit::inline(value))
}

/// The init container's resources under `max`: the copy of the first step's, with the
/// first step's new requests, and no limit where the Pod has one.
fn init_resources(copied: Option<&Value>, pod: &[PodResource]) -> Value {
    let mut out = copied.cloned().unwrap_or_else(|| json!({}));
    for r in pod {
        let request = json!(r.steps[0].format(binary(r.name)));
        let requests = out
            .as_object_mut()
            .map(|m| m.entry("requests").or_insert_with(|| json!({})));
        if let Some(Value::Object(map)) = requests {
            map.insert(r.name.into(), request);
        }
        if r.limit.is_some()
            && let Some(Value::Object(limits)) = out.get_mut("limits")
        {
            limits.remove(r.name);
        }
    }
    if let Some(map) = out.as_object_mut() {
        map.retain(|_, v| v.as_object().is_none_or(|m| !m.is_empty()));
        // requests before limits, as the copy writes them.
        if let Some(limits) = map.remove("limits") {
            map.insert("limits".into(), limits);
        }
    }
    out
}

#[cfg(test)]
#[path = "max_tests.rs"]
mod tests;
