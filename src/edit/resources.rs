//! Key edits in place (`resources: max`): pod-level `resources`, and the requests of each
//! step that it lowers. A key is replaced where it stands, inserted after a sibling, or
//! removed with its line, so that revert (which writes each recorded text back) gives the
//! input's bytes.

use super::{EditError, Editor, shape};
use crate::convert::resources::{KeyEdit, Seg, at_path, parent_path};
use crate::emit;
use crate::yaml::tree::{Body, Node, Style, colon_after};
use serde_json::Value;
use std::collections::BTreeMap;

impl Editor<'_> {
    /// Makes every key of `edits` hold its value (or removes it), unless it already does:
    /// the keys inside containers, or (`in_containers` false) the others.
    pub(super) fn key_edits(
        &mut self,
        spec: &Node,
        now: &Value,
        edits: &[KeyEdit],
        in_containers: bool,
    ) -> Result<(), EditError> {
        let inside = |e: &&KeyEdit| e.path.starts_with("containers[") == in_containers;
        for edit in edits.iter().filter(inside) {
            let (parent, key) = parent_path(&edit.path);
            let mut full = parent.clone();
            full.push(Seg::Key(key));
            if at_path(now, &full) == edit.value.as_ref() {
                continue;
            }
            let map = node_at(spec, &parent)
                .filter(|n| matches!(n.body, Body::Map { .. }))
                .ok_or_else(|| shape(&edit.path, "a mapping around this key"))?;
            let plain = |n: &Node| n.anchor == 0 && !matches!(n.body, Body::Alias(_));
            let shared = (0..=parent.len())
                .filter_map(|len| node_at(spec, &parent[..len]))
                .chain(map.get(key))
                .any(|n| !plain(n))
                || has_merge(map);
            if shared {
                return Err(shape(
                    &edit.path,
                    "a value without anchors, aliases or merge keys (resources: max edits it; \
                     write it out, or use resources: keep)",
                ));
            }
            let text = edit.value.as_ref().map(|v| match &edit.text {
                Some(t) if t.is_empty() => String::new(),
                Some(t) => format!(" {t}"),
                None => self.value_text(map, v),
            });
            // A quoted scalar is replaced up to its closing quote: the node's span can reach
            // over the spaces and comment after it.
            if let (Some((k, v)), Some(text)) = (map.entry(key), &text)
                && let Some(end) = quoted_end(self.text, v)
                && let Some(colon) = colon_after(self.text, k)
            {
                self.edits.push((colon + 1..end, text.clone()));
                continue;
            }
            // A new `resources` key goes after the image, where people put it.
            self.set(map, key, text, &["image"])?;
        }
        Ok(())
    }

    /// A new value after `key:` in `map`'s style: a mapping in block style under a block
    /// mapping, anything else in flow style.
    fn value_text(&self, map: &Node, value: &Value) -> String {
        if value.is_object() && !self.json && !map.is_flow() {
            let col = self.key_column(map) + 2;
            return format!("\n{}", emit::block(value, col).trim_end());
        }
        format!(" {}", self.inline(value))
    }
}

/// Where a single-line quoted scalar's closing quote ends.
fn quoted_end(text: &str, v: &Node) -> Option<usize> {
    let quote = match v.body {
        Body::Scalar(_, Style::Double) => b'"',
        Body::Scalar(_, Style::Single) => b'\'',
        _ => return None,
    };
    let bytes = text.as_bytes();
    let mut i = v.start + 1;
    while i < bytes.len() && bytes[i] != b'\n' {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            c if c == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn has_merge(map: &Node) -> bool {
    matches!(&map.body, Body::Map { entries, .. } if entries.iter().any(|(k, _)| k.scalar() == Some("<<")))
}

/// The node at a path below the pod spec.
fn node_at<'n>(spec: &'n Node, segs: &[Seg]) -> Option<&'n Node> {
    segs.iter().try_fold(spec, |n, seg| match seg {
        Seg::Key(k) => n.get(k),
        Seg::Container(i) => n.get("containers")?.items()?.get(*i),
    })
}

/// The exact text of each scalar a `max` conversion may replace (the steps' resources, their
/// requests and the keys in them, pod-level resources written as null), so that what it
/// records is written back byte for byte. Values with anchors, tags, comments or several
/// lines are left out: they are written in the emitter's spelling instead.
pub fn written_texts(text: &str, spec: &Node) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut note = |path: String, node: &Node| {
        if node.anchor == 0
            && node.tag.is_none()
            && matches!(node.body, Body::Scalar(..))
            && let Some(written) = text.get(node.start..node.end)
            && !written.contains(['\n', '#'])
        {
            out.insert(path, written.to_string());
        }
    };
    if let Some(pod) = spec.get("resources") {
        note("resources".into(), pod);
    }
    let containers = spec.get("containers").and_then(Node::items).unwrap_or(&[]);
    for (i, c) in containers.iter().enumerate() {
        let base = format!("containers[{i}].resources");
        let Some(res) = c.get("resources") else {
            continue;
        };
        note(base.clone(), res);
        let Some(requests) = res.get("requests") else {
            continue;
        };
        note(format!("{base}.requests"), requests);
        if let Body::Map { entries, .. } = &requests.body {
            for (k, v) in entries {
                if let Some(key) = k.scalar() {
                    note(format!("{base}.requests.{key}"), v);
                }
            }
        }
    }
    out
}
