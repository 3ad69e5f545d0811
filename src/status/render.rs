//! Output: a table like kubectl's for people, JSON or YAML for scripts.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::fmt::Write as _;

use super::StepStatus;

/// One Pod and its steps.
pub(crate) struct PodSteps<'p> {
    pub pod: &'p Pod,
    pub steps: Vec<StepStatus>,
}

impl PodSteps<'_> {
    fn name(&self) -> &str {
        self.pod.metadata.name.as_deref().unwrap_or("(unnamed)")
    }
}

/// The data form: one list of steps, or (`single` false) one list per Pod under its name.
pub(crate) fn value(pods: &[PodSteps<'_>], single: bool) -> Value {
    let list = |p: &PodSteps<'_>| serde_json::to_value(&p.steps).unwrap_or(Value::Null);
    if single && pods.len() == 1 {
        return list(&pods[0]);
    }
    let mut map = serde_json::Map::new();
    for p in pods {
        let mut key = p.name().to_string();
        if pods.iter().filter(|q| q.name() == key).count() > 1 {
            // Same name in two namespaces (a List across namespaces).
            let ns = p.pod.metadata.namespace.as_deref().unwrap_or_default();
            key = format!("{ns}/{key}");
        }
        map.insert(key, list(p));
    }
    Value::Object(map)
}

/// The table, Pod by Pod; `context` goes into the `kubectl logs` hints.
pub(crate) fn table(
    pods: &[PodSteps<'_>],
    single: bool,
    now: Timestamp,
    context: Option<&str>,
) -> String {
    let mut out = String::new();
    for (i, p) in pods.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if !(single && pods.len() == 1) {
            let phase = p.pod.status.as_ref().and_then(|s| s.phase.as_deref());
            let _ = writeln!(out, "POD {} ({})", p.name(), phase.unwrap_or("Pending"));
        }
        let mut rows =
            vec![["STEP", "STATE", "EXIT", "STARTED", "DURATION", "REASON"].map(String::from)];
        for s in &p.steps {
            let reason = match (&s.reason, &s.message) {
                (Some(r), Some(m)) => format!("{r}: {m}"),
                (Some(r), None) => r.clone(),
                (None, Some(m)) => m.clone(),
                (None, None) => String::new(),
            };
            let restarts = notes(s);
            rows.push([
                s.name.clone(),
                format!("{}{restarts}", s.state),
                s.exit_code.map_or("-".into(), |c| c.to_string()),
                s.started_at
                    .map_or("-".into(), |t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
                s.duration(now).map_or("-".into(), human),
                reason,
            ]);
        }
        write_rows(&mut out, &rows);
        let ns = p.pod.metadata.namespace.as_deref();
        for s in p.steps.iter().filter(|s| s.state.is_failure()) {
            let mut cmd = format!("kubectl logs {} -c {}", p.name(), s.name);
            if let Some(ns) = ns {
                let _ = write!(cmd, " -n {ns}");
            }
            if let Some(c) = context {
                let _ = write!(cmd, " --context {c}");
            }
            let _ = writeln!(out, "logs of {} ({}): {cmd}", s.name, s.state);
        }
    }
    out
}

/// What follows the state: restarts, attempts, a continued failure, a debug hold.
fn notes(s: &StepStatus) -> String {
    let plural = |n: i64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    let mut notes = Vec::new();
    if s.restarts > 0 {
        notes.push(plural(s.restarts.into(), "restart"));
    }
    if let Some(n) = s.attempts {
        notes.push(plural(n.into(), "attempt"));
    }
    if s.continued {
        notes.push("continued".to_string());
    }
    match s.debug.as_deref() {
        None => {}
        Some(super::state::DEBUG_ARMED) => notes.push("debug on failure".to_string()),
        Some(super::held::HELD) => notes.push("held for debugging".to_string()),
        Some(end) => notes.push(format!("debug {end}")),
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    }
}

fn write_rows(out: &mut String, rows: &[[String; 6]]) {
    let mut widths = [0usize; 6];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i] - cell.chars().count() + 3;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// A duration as people read it: `412ms`, `3.2s`, `1m05s`, `2h03m`.
pub(crate) fn human(d: SignedDuration) -> String {
    let ms = d.as_millis().max(0);
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..60_000 => format!("{}.{}s", ms / 1000, ms % 1000 / 100),
        60_000..3_600_000 => format!("{}m{:02}s", ms / 60_000, ms % 60_000 / 1000),
        _ => format!("{}h{:02}m", ms / 3_600_000, ms % 3_600_000 / 60_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_kubectl() {
        let h = |ms: i64| human(SignedDuration::from_millis(ms));
        assert_eq!(h(7), "7ms");
        assert_eq!(h(3_249), "3.2s");
        assert_eq!(h(65_000), "1m05s");
        assert_eq!(h(7_380_000), "2h03m");
        assert_eq!(h(-5), "0ms");
    }
}
