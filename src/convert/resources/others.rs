//! The user's own init containers under `resources: max`: pod-level values must cover them
//! too. A native sidecar (`restartPolicy: Always`) runs beside every step, so its needs add
//! to the steps'; a regular init container runs before the steps, beside the sidecars
//! started before it.

use super::quantity::Quantity;
use crate::convert::{Finding, is_injected_init};
use serde_json::Value;

/// What the user's init containers need of one resource, in nano-units.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Others {
    /// The sidecars' needs, added to the steps'.
    pub beside_steps: i128,
    /// The most any regular init container needs (with the sidecars before it).
    pub before_steps: i128,
    /// The same two for limits, when every one of them has a limit.
    pub limits: Option<(i128, i128)>,
}

/// Reads `resource` of the user's init containers; an unreadable quantity is an error.
pub(super) fn others(init: &[Value], resource: &str) -> Result<Others, Finding> {
    let mut out = Others::default();
    let mut sidecar_limits = Some(0i128);
    let mut init_limit = Some(0i128);
    for (i, c) in init.iter().enumerate() {
        if is_injected_init(c) {
            continue;
        }
        let read = |part: &str| -> Result<Option<i128>, Finding> {
            match c.pointer(&format!("/resources/{part}/{resource}")) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => Quantity::from_value(v).map(|q| Some(q.0)).ok_or_else(|| {
                    Finding::error(
                        format!("initContainers[{i}].resources.{part}.{resource}"),
                        format!(
                            "{} is not a Kubernetes quantity (like 100m, 0.5, 1Gi or 500M), so \
                             resources: max cannot add it up; fix it, or set resources: keep",
                            crate::emit::inline(v)
                        ),
                    )
                }),
            }
        };
        let limit = read("limits")?;
        let need = read("requests")?.or(limit).unwrap_or(0);
        if c.get("restartPolicy").and_then(Value::as_str) == Some("Always") {
            out.beside_steps += need;
            sidecar_limits = sidecar_limits.zip(limit).map(|(a, b)| a + b);
        } else {
            out.before_steps = out.before_steps.max(need + out.beside_steps);
            init_limit = init_limit
                .zip(limit)
                .zip(sidecar_limits)
                .map(|((a, b), s)| a.max(b + s));
        }
    }
    out.limits = sidecar_limits.zip(init_limit);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const M: i128 = 1_000_000;

    #[test]
    fn sidecars_add_up_and_init_containers_take_the_max() {
        let init = [
            json!({"name": "setup", "resources": {"requests": {"cpu": "300m"}, "limits": {"cpu": "1"}}}),
            json!({"name": "proxy", "restartPolicy": "Always", "resources": {"limits": {"cpu": "100m"}}}),
            json!({"name": "late", "resources": {"requests": {"cpu": "250m"}, "limits": {"cpu": "250m"}}}),
            json!({"name": "kueueleuleu-init", "command": ["x"], "resources": {"requests": {"cpu": "9"}}}),
        ];
        let o = others(&init, "cpu").unwrap();
        assert_eq!(o.beside_steps, 100 * M);
        assert_eq!(o.before_steps, 350 * M);
        assert_eq!(o.limits, Some((100 * M, 1000 * M)));
        assert_eq!(others(&init[..1], "memory").unwrap().limits, None);
        let bad = [json!({"name": "s", "resources": {"requests": {"cpu": "x"}}})];
        assert_eq!(
            others(&bad, "cpu").unwrap_err().field,
            "initContainers[0].resources.requests.cpu"
        );
    }
}
