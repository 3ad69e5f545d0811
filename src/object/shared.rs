//! What the conversion may edit: nothing shared through an anchor, reached through an alias
//! or filled by a merge key, since editing it would change what another place means.

use super::read::Parsed;
use crate::yaml::tree::{Body, Node};

/// The pod spec node, when nothing the conversion edits is shared through an anchor, reached
/// through an alias or filled by a merge key (editing it would change another place's meaning,
/// or miss fields the merge supplies). Otherwise the field and what to do.
pub(super) fn owned_nodes_safe<'p>(
    parsed: &'p Parsed,
    path: &[&str],
) -> Result<&'p Node, (String, String)> {
    let used = |n: &Node| n.anchor != 0 && parsed.used_anchors.contains(&n.anchor);
    let anchor_name = |n: &Node| {
        let before = &parsed.text[..n.start];
        before.rfind('&').map_or_else(String::new, |at| {
            before[at..]
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string()
        })
    };
    let refuse_anchor = |field: &str, n: &Node| {
        (
            field.to_string(),
            format!(
                "this field holds anchor {} which is also used elsewhere (*{}); converting would \
                 change every place that uses it; copy the value where it is used instead of the alias",
                anchor_name(n),
                anchor_name(n).trim_start_matches('&')
            ),
        )
    };
    let refuse_alias = |field: &str| {
        (
            field.to_string(),
            "this field is an alias (*name) of a value defined elsewhere; converting would have to \
             edit the shared value; write the value out here instead of the alias"
                .to_string(),
        )
    };
    let refuse_merge = |field: &str| {
        (
            field.to_string(),
            "this mapping takes keys from a merge key (<<: *name), and the conversion edits its keys; \
             write the merged keys out in this mapping"
                .to_string(),
        )
    };
    let has_merge = |n: &Node| matches!(&n.body, Body::Map { entries, .. } if entries.iter().any(|(k, _)| k.scalar() == Some("<<")));
    let mut node = &parsed.root;
    let mut field = String::new();
    for key in path {
        if used(node) {
            return Err(refuse_anchor(&field, node));
        }
        if has_merge(node) {
            return Err(refuse_merge(&field));
        }
        node = node
            .get(key)
            .ok_or_else(|| (field.clone(), "missing".to_string()))?;
        field = if field.is_empty() {
            (*key).to_string()
        } else {
            format!("{field}.{key}")
        };
        if matches!(node.body, Body::Alias(_)) {
            return Err(refuse_alias(""));
        }
    }
    let spec = node;
    if used(spec) {
        return Err(refuse_anchor("", spec));
    }
    if has_merge(spec) {
        return Err(refuse_merge(""));
    }
    for key in ["containers", "initContainers", "volumes", "restartPolicy"] {
        let Some(v) = spec.get(key) else { continue };
        if matches!(v.body, Body::Alias(_)) {
            return Err(refuse_alias(key));
        }
        if used(v) {
            return Err(refuse_anchor(key, v));
        }
        if v.tag.is_some() {
            return Err((
                key.into(),
                "tagged values cannot be converted here; remove the tag".into(),
            ));
        }
    }
    for (i, c) in spec
        .get("containers")
        .and_then(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let at = format!("containers[{i}]");
        if matches!(c.body, Body::Alias(_)) {
            return Err(refuse_alias(&at));
        }
        if used(c) {
            return Err(refuse_anchor(&at, c));
        }
        if has_merge(c) {
            return Err(refuse_merge(&at));
        }
        for key in ["command", "args", "volumeMounts"] {
            let Some(v) = c.get(key) else { continue };
            let mut bad = None;
            v.walk(&mut |n| {
                if bad.is_none()
                    && (matches!(n.body, Body::Alias(_))
                        || used(n)
                        || (n.tag.is_some() && key != "volumeMounts"))
                {
                    bad = Some(n);
                }
            });
            if let Some(n) = bad {
                let field = format!("{at}.{key}");
                return Err(if matches!(n.body, Body::Alias(_)) {
                    refuse_alias(&field)
                } else if n.tag.is_some() && n.anchor == 0 {
                    (
                        field,
                        "tagged values cannot be converted here; remove the tag".into(),
                    )
                } else {
                    refuse_anchor(&field, n)
                });
            }
        }
    }
    Ok(spec)
}
