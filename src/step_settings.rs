//! Per-step controls (`timeout`, `onError`, `retries`, `after`, `debug`): how users write
//! them (the function config's `steps` map and the object annotation `kueueleuleu.io/steps`),
//! how the two combine, and the checks that make a bad graph an error instead of a Pod that
//! waits forever.

use crate::protocol::{self, OnError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The annotation that carries one object's step settings, as YAML or JSON; it wins over
/// the function config, key by key.
pub const STEPS_ANNOTATION: &str = "kueueleuleu.io/steps";

/// Settings of one step, keyed by its container name. Every key is optional: an absent key
/// means the default (or the function config's value, under the annotation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StepSettings {
    /// Time limit of the step's command (`90s`, `10m`, `1h30m`); SIGTERM when reached, then
    /// SIGKILL after the runner's grace period. Recorded as `TimedOut`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// `stop` (default): a failure skips the steps after it. `continue`: they run anyway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_error: Option<OnErrorSetting>,
    /// In-place re-runs of a failed command, with backoff, before the step fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// The steps this one waits for (default: the container before it). Steps with no path
    /// between them run at the same time; `[]` starts with the Pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Vec<String>>,
    /// `onFailure`: a failed step stays up for `kubectl exec` until told to go on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug: Option<DebugSetting>,
}

/// What a failed step does to the steps after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum OnErrorSetting {
    /// Later steps are skipped and the Pod fails.
    Stop,
    /// The failure is recorded and the steps after it run.
    Continue,
}

/// Whether a failed step waits for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum DebugSetting {
    /// Fail at once (the default).
    Never,
    /// Keep the container up and print how to get in and how to go on.
    OnFailure,
}

/// The `steps` map of the function config or the annotation.
pub type StepsMap = BTreeMap<String, StepSettings>;

/// One step's settings after merging, checking and resolving names to indexes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedStep {
    /// From the `timeout` text.
    pub timeout: Option<Duration>,
    /// From `onError`.
    pub on_error: OnError,
    /// From `retries`.
    pub retries: u32,
    /// Indexes of the steps this one waits for, in the order written.
    pub after: Vec<usize>,
    /// From `debug`.
    pub debug_on_failure: bool,
}

/// A setting that cannot work; `field` is relative to the pod spec when `in_annotation` is
/// false, else to the annotation's map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    /// The step the setting belongs to.
    pub step: String,
    /// The key (`timeout`, `after`, ...).
    pub key: &'static str,
    /// What is wrong and the fix.
    pub message: String,
}

/// Reads the annotation's text (YAML or JSON). Unknown keys are errors, with the key named.
pub fn parse_annotation(text: &str) -> Result<StepsMap, String> {
    let value: serde_json::Value =
        serde_yaml::from_str(text).map_err(|e| format!("is not YAML or JSON ({e})"))?;
    if value.is_null() {
        return Ok(StepsMap::new());
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        format!(
            "{}: {}; it must map container names to settings, e.g. \
             '{{\"build\": {{\"timeout\": \"10m\", \"retries\": 2}}}}'",
            if path == "." {
                "the value".into()
            } else {
                path
            },
            e.into_inner()
        )
    })
}

/// Merges the config's and the annotation's settings (the annotation wins key by key) for
/// the steps `names`, checks them, and resolves `after` to indexes. Steps without `after`
/// wait for the step before them. Settings for names that are not steps are errors only in
/// the annotation (the config applies to many objects).
pub fn resolve(
    names: &[&str],
    config: &StepsMap,
    annotation: &StepsMap,
) -> Result<Vec<ResolvedStep>, Vec<SettingError>> {
    let mut errors = Vec::new();
    for name in annotation.keys() {
        if !names.contains(&name.as_str()) {
            errors.push(SettingError {
                step: name.clone(),
                key: "name",
                message: format!(
                    "{STEPS_ANNOTATION} names {name:?}, which is not a container of this pod; \
                     the steps are {}",
                    names.join(", ")
                ),
            });
        }
    }
    let mut steps = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let merged = merge(config.get(*name), annotation.get(*name));
        let err = |key, message: String| SettingError {
            step: (*name).to_string(),
            key,
            message,
        };
        let timeout = match &merged.timeout {
            None => None,
            Some(text) => match protocol::parse_duration(text) {
                Some(d) => Some(d),
                None => {
                    errors.push(err(
                        "timeout",
                        format!(
                            "timeout {text:?} of step {name:?} is not a positive duration; write it \
                             like 90s, 10m or 1h30m"
                        ),
                    ));
                    None
                }
            },
        };
        let after = match &merged.after {
            None => i.checked_sub(1).into_iter().collect(),
            Some(list) => {
                let mut out = Vec::new();
                for dep in list {
                    match names.iter().position(|n| n == dep) {
                        Some(j) if j == i => errors.push(err(
                            "after",
                            format!("step {name:?} lists itself in `after`; remove it"),
                        )),
                        Some(j) if out.contains(&j) => {}
                        Some(j) => out.push(j),
                        None => errors.push(err(
                            "after",
                            format!(
                                "step {name:?} waits for {dep:?}, which is not a container of \
                                 this pod; the steps are {}",
                                names.join(", ")
                            ),
                        )),
                    }
                }
                out
            }
        };
        steps.push(ResolvedStep {
            timeout,
            on_error: match merged.on_error {
                Some(OnErrorSetting::Continue) => OnError::Continue,
                _ => OnError::Stop,
            },
            retries: merged.retries.unwrap_or(0),
            after,
            debug_on_failure: merged.debug == Some(DebugSetting::OnFailure),
        });
    }
    if errors.is_empty()
        && let Some(cycle) = find_cycle(&steps)
    {
        let path: Vec<&str> = cycle.iter().map(|&i| names[i]).collect();
        errors.push(SettingError {
            step: names[cycle[0]].to_string(),
            key: "after",
            message: format!(
                "the steps wait for each other in a cycle ({}), so none could ever start; \
                 remove one of these `after` entries",
                path.join(" waits for ")
            ),
        });
    }
    if errors.is_empty() {
        Ok(steps)
    } else {
        Err(errors)
    }
}

fn merge(config: Option<&StepSettings>, annotation: Option<&StepSettings>) -> StepSettings {
    let base = config.cloned().unwrap_or_default();
    let Some(over) = annotation else {
        return base;
    };
    StepSettings {
        timeout: over.timeout.clone().or(base.timeout),
        on_error: over.on_error.or(base.on_error),
        retries: over.retries.or(base.retries),
        after: over.after.clone().or(base.after),
        debug: over.debug.or(base.debug),
    }
}

/// A cycle of `after` edges, as the step indexes along it (first repeated at the end).
fn find_cycle(steps: &[ResolvedStep]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks = vec![Mark::New; steps.len()];
    for start in 0..steps.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // Iterative depth-first search: (node, next edge to try).
        let mut stack = vec![(start, 0usize)];
        marks[start] = Mark::Open;
        while let Some(&mut (node, ref mut edge)) = stack.last_mut() {
            if let Some(&next) = steps[node].after.get(*edge) {
                *edge += 1;
                match marks[next] {
                    Mark::New => {
                        marks[next] = Mark::Open;
                        stack.push((next, 0));
                    }
                    Mark::Open => {
                        let from = stack.iter().position(|&(n, _)| n == next)?;
                        let mut cycle: Vec<usize> = stack[from..].iter().map(|&(n, _)| n).collect();
                        cycle.push(next);
                        return Some(cycle);
                    }
                    Mark::Done => {}
                }
            } else {
                marks[node] = Mark::Done;
                stack.pop();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> StepsMap {
        parse_annotation(text).unwrap()
    }

    #[test]
    fn defaults_are_a_chain() {
        let steps = resolve(&["a", "b", "c"], &StepsMap::new(), &StepsMap::new()).unwrap();
        let after: Vec<_> = steps.iter().map(|s| s.after.clone()).collect();
        assert_eq!(after, [vec![], vec![0], vec![1]]);
        assert!(steps.iter().all(|s| *s
            == ResolvedStep {
                after: s.after.clone(),
                ..Default::default()
            }));
    }

    #[test]
    fn annotation_wins_key_by_key() {
        let config = map("{b: {timeout: 10m, retries: 1, onError: continue}}");
        let annotation = map(r#"{"b": {"retries": 3, "debug": "onFailure"}}"#);
        let steps = resolve(&["a", "b"], &config, &annotation).unwrap();
        assert_eq!(steps[1].timeout, Some(Duration::from_secs(600)));
        assert_eq!(steps[1].retries, 3);
        assert_eq!(steps[1].on_error, OnError::Continue);
        assert!(steps[1].debug_on_failure);
    }

    #[test]
    fn after_builds_a_graph() {
        let steps = resolve(
            &["fetch", "lint", "test", "report"],
            &StepsMap::new(),
            &map("{lint: {after: [fetch]}, test: {after: [fetch]}, report: {after: [lint, test]}}"),
        )
        .unwrap();
        let after: Vec<_> = steps.iter().map(|s| s.after.clone()).collect();
        assert_eq!(after, [vec![], vec![0], vec![0], vec![1, 2]]);
        let first = resolve(&["a", "b"], &StepsMap::new(), &map("{b: {after: []}}")).unwrap();
        assert!(first[1].after.is_empty());
    }

    #[test]
    fn bad_graphs_and_values_are_named() {
        let err = |names: &[&str], text: &str| {
            resolve(names, &StepsMap::new(), &map(text))
                .unwrap_err()
                .into_iter()
                .map(|e| format!("{}.{}: {}", e.step, e.key, e.message))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let cycle = err(&["a", "b", "c"], "{a: {after: [c]}}");
        assert!(
            cycle.contains("cycle (a waits for c waits for b waits for a)"),
            "{cycle}"
        );
        assert!(err(&["a"], "{a: {after: [a]}}").contains("lists itself"));
        let unknown = err(&["a", "b"], "{b: {after: [x]}}");
        assert!(
            unknown.contains("waits for \"x\"") && unknown.contains("a, b"),
            "{unknown}"
        );
        assert!(err(&["a"], "{zz: {retries: 1}}").contains("\"zz\", which is not a container"));
        assert!(err(&["a"], "{a: {timeout: soon}}").contains("like 90s"));
        // A config naming a container an object lacks is not an error.
        assert!(resolve(&["a"], &map("{zz: {retries: 1}}"), &StepsMap::new()).is_ok());
    }

    #[test]
    fn annotation_text_errors_name_the_key() {
        let e = parse_annotation("{a: {retry: 1}}").unwrap_err();
        assert!(e.contains("a.retry: unknown field `retry`"), "{e}");
        let e = parse_annotation("{a: {onError: ignore}}").unwrap_err();
        assert!(e.contains("a.onError") && e.contains("continue"), "{e}");
        assert!(parse_annotation("[").unwrap_err().contains("not YAML"));
        assert_eq!(parse_annotation("").unwrap(), StepsMap::new());
    }
}
