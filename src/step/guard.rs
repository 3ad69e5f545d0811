//! The check `install` makes for a Pod converted with `resources: max`: that the API server
//! kept pod-level resources (`spec.resources`). A server that does not know the field, or
//! has the `PodLevelResources` feature gate off, drops it without a word, and the Pod would
//! then run with the steps' lowered requests and no pod-level limit.
//!
//! The init container has no limit of its own for a resource with a pod-level limit, so the
//! downward API shows it the Pod's limit, or the node's allocatable when the Pod has none.
//! Seeing more than the limit the conversion wrote means the Pod has none. What this cannot
//! see: a Pod without pod-level limits (nothing to compare), a LimitRange default limit on
//! the init container (it then sees that default), and a pod limit above the node's
//! allocatable.

use crate::convert::resources::GUARDS;

/// `Err` with the message to print when the Pod lost its pod-level limits. `env` reads the
/// init container's environment.
pub fn check(env: impl Fn(&str) -> Option<String>) -> Result<(), String> {
    for guard in GUARDS {
        let read = |name: &str| env(name).and_then(|v| v.trim().parse::<u128>().ok());
        let (Some(expected), Some(seen)) = (read(guard.expected_env), read(guard.seen_env)) else {
            continue;
        };
        if seen > expected {
            let unit = if guard.resource == "cpu" {
                "m"
            } else {
                " bytes"
            };
            return Err(format!(
                "this Pod was converted with resources: max and must have a pod-level {res} \
                 limit of {expected}{unit} (spec.resources), but the init container sees \
                 {seen}{unit}: the API server dropped spec.resources (Kubernetes older than \
                 1.34, or the PodLevelResources feature gate off on the API server or the \
                 kubelet), so the steps would run with their lowered requests and no pod-level \
                 limit; turn PodLevelResources on, or convert with resources: keep",
                res = guard.resource
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(pairs: &[(&str, &str)]) -> Result<(), String> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        check(|k| env.get(k).cloned())
    }

    #[test]
    fn passes_when_the_pod_limit_is_seen_or_nothing_is_expected() {
        assert_eq!(run(&[]), Ok(()));
        assert_eq!(
            run(&[
                ("KUEUELEULEU_POD_LIMIT_MEMORY", "1073741824"),
                ("KUEUELEULEU_SEEN_LIMIT_MEMORY", "1073741824")
            ]),
            Ok(())
        );
        // A LimitRange default below the pod limit: the API server checked it fits.
        assert_eq!(
            run(&[
                ("KUEUELEULEU_POD_LIMIT_CPU", "500"),
                ("KUEUELEULEU_SEEN_LIMIT_CPU", "200")
            ]),
            Ok(())
        );
        // An old manifest or an old kubelet: nothing to compare.
        assert_eq!(run(&[("KUEUELEULEU_POD_LIMIT_CPU", "500")]), Ok(()));
    }

    #[test]
    fn fails_naming_the_field_the_gate_and_the_fix_when_the_limit_is_gone() {
        let err = run(&[
            ("KUEUELEULEU_POD_LIMIT_MEMORY", "268435456"),
            ("KUEUELEULEU_SEEN_LIMIT_MEMORY", "8213245952"),
        ])
        .unwrap_err();
        for part in [
            "spec.resources",
            "PodLevelResources",
            "resources: keep",
            "268435456 bytes",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
    }
}
