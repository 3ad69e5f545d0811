//! What a plan tells the user besides the plan itself: the order it runs the steps in, and
//! the container settings that behave differently once steps wait for their turn.

use super::{Finding, Original, Severity};
use crate::config::ProbePolicy;
use crate::step_settings::ResolvedStep;

/// The order, as one line: `a -> b -> c` for the default chain; otherwise each step with
/// what it waits for.
pub(super) fn describe_order(names: &[&str], settings: &[ResolvedStep]) -> String {
    let chain = settings
        .iter()
        .enumerate()
        .all(|(i, s)| s.after == i.checked_sub(1).into_iter().collect::<Vec<_>>());
    if chain {
        return format!(
            "runs {} step(s) in sequence: {}",
            names.len(),
            names.join(" -> ")
        );
    }
    let parts: Vec<String> = names
        .iter()
        .zip(settings)
        .map(|(name, s)| match s.after.as_slice() {
            [] => format!("{name} (first)"),
            after => {
                let deps: Vec<&str> = after.iter().map(|&j| names[j]).collect();
                format!("{name} (after {})", deps.join(", "))
            }
        })
        .collect();
    format!(
        "runs {} step(s) as a graph: {}",
        names.len(),
        parts.join("; ")
    )
}

/// Probes fire while a step waits for its turn, and a liveness probe can kill it there: an
/// error unless the config says to keep them. A `postStart` hook runs before the step's turn.
pub(super) fn check_probes(
    original: &Original,
    policy: ProbePolicy,
    errors: &mut Vec<Finding>,
    notes: &mut Vec<Finding>,
) {
    for (i, c) in original.containers.iter().enumerate() {
        for probe in &c.probes {
            let field = format!("containers[{i}].{probe}");
            match policy {
                ProbePolicy::Error => errors.push(Finding::error(
                    field,
                    format!(
                        "container {:?} has a {probe}, which runs while the step waits for the steps before it (a liveness or \
                         startup probe can kill it there, a readiness probe keeps the Pod \
                         unready); remove it, or set the function config's `probes: keep` to \
                         accept that, or `probes: drop` to remove them from the steps",
                        c.name
                    ),
                )),
                ProbePolicy::Drop => notes.push(Finding {
                    severity: Severity::Warning,
                    field,
                    message: format!(
                        "container {:?}: its {probe} is dropped (probes: drop), since it would run \
                         while the step waits for its turn; revert writes it back",
                        c.name
                    ),
                }),
                ProbePolicy::Keep => notes.push(Finding {
                    severity: Severity::Warning,
                    field,
                    message: format!(
                        "container {:?} keeps its {probe} (probes: keep); it runs while the \
                         step waits for its turn",
                        c.name
                    ),
                }),
            }
        }
        if c.post_start {
            notes.push(Finding {
                severity: Severity::Warning,
                field: format!("containers[{i}].lifecycle.postStart"),
                message: format!(
                    "container {:?} has a postStart hook; it runs when the container starts, \
                     before the steps this one waits for have finished",
                    c.name
                ),
            });
        }
    }
}
