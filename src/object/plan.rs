//! The plan for one pod spec: what the pure conversion makes of it, with the texts of what
//! it keeps exactly as they were written (literals, probes, resources), so that revert gives
//! back the same bytes.

use super::Operation;
use crate::config::Spec as Config;
use crate::convert::{self, Finding, Plan};
use crate::step_settings::StepsMap;
use crate::yaml::tree::{Node, properties_start};
use serde_json::Value;

/// The plan for a pod spec, or `None` when the operation leaves it alone.
pub(super) fn plan_for(
    spec: &Value,
    op: Operation,
    config: &Config,
    (steps, sidecars): (&StepsMap, Option<Vec<String>>),
    written: Option<(&str, &Node)>,
) -> Result<Option<Plan>, Vec<Finding>> {
    match op {
        Operation::Convert => {
            let mut original = convert::unwrap(spec)?;
            original.moved.annotation = sidecars;
            if let Some((text, node)) = written {
                convert::probes::exact_texts(text, node, &mut original);
            }
            if !original.was_converted
                && let Some((text, node)) = written
            {
                exact_literals(text, node, &mut original.literals);
                original.resources.texts = crate::edit::written_texts(text, node);
            }
            convert::wrap(&original, config, steps).map(Some)
        }
        Operation::Revert => {
            let original = convert::unwrap(spec)?;
            Ok(original.was_converted.then(|| convert::revert(&original)))
        }
    }
}

/// Replaces each recorded literal (`null`, `[]`) with the value's text as written (`~`,
/// `[ ]`, or nothing at all after `args:`), so that revert gives back the same bytes.
fn exact_literals(text: &str, spec: &Node, literals: &mut convert::Literals) {
    for (path, literal) in literals.iter_mut() {
        let node = match path.split_once("].") {
            Some((container, key)) => container
                .strip_prefix("containers[")
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| spec.get("containers")?.items()?.get(i))
                .and_then(|c| c.get(key)),
            None => spec.get(path),
        };
        // With its anchor or tag (`args: &none`), which are part of what was written.
        let start = |n: &Node| match n.anchor != 0 || n.tag.is_some() {
            true => properties_start(text, n.start),
            false => n.start,
        };
        if let Some(n) = node
            && let Some(written) = text.get(start(n)..n.end)
            && !written.contains(['\n', '#'])
        {
            *literal = written.to_string();
        }
    }
}
