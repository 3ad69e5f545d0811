//! Probes dropped from steps and written back (`probes: drop`), as text: the entry's lines
//! go out whole (with the comment and blank lines directly above the key) and come back
//! after the same key, so revert restores them byte for byte.

use super::moves::{lead_above, on_dash_line, shift_lines};
use super::{EditError, Editor, shape};
use crate::convert::Plan;
use crate::convert::probes::DroppedProbe;
use crate::text::{break_before, column, line_end, line_start};
use crate::yaml::tree::{Body, Node, entry_end};

/// The text of `key`'s entry in a container mapping, as [`DroppedProbe`] records it, and
/// whether it is a flow entry. `None` for a block key on the item's `-` line, which cannot
/// be cut out and put back as whole lines.
pub fn probe_entry_text(text: &str, container: &Node, key: &str) -> Option<(String, bool)> {
    let (k, v) = container.entry(key)?;
    if container.is_flow() {
        return Some((text[k.start..entry_end(text, k, v)].to_string(), true));
    }
    if on_dash_line(text, k.start) {
        return None;
    }
    let from = lead_above(text, line_start(text, k.start));
    let end = line_end(text, v.end.max(k.end));
    let raw = text[from..end].replace("\r\n", "\n");
    Some((shift_lines(&raw, column(text, k.start), 0), false))
}

impl Editor<'_> {
    /// Removes the probes the plan drops and writes back those it restores.
    pub(super) fn probe_moves(&mut self, spec: &Node, plan: &Plan) -> Result<(), EditError> {
        let containers = spec
            .get("containers")
            .and_then(Node::items)
            .ok_or_else(|| shape("containers", "a list"))?;
        let at = |i: usize| {
            containers
                .get(i)
                .ok_or_else(|| shape(&format!("containers[{i}]"), "a mapping"))
        };
        for (i, p) in &plan.moves.drop_probes {
            let node = at(*i)?;
            let field = format!("containers[{i}].{}", p.key);
            let Some((k, v)) = node.entry(&p.key) else {
                continue;
            };
            if node.is_flow() {
                self.remove(node, k, v)?;
                continue;
            }
            if on_dash_line(self.text, k.start) {
                return Err(shape(
                    &field,
                    "a key after the container's first line (put `name:` first)",
                ));
            }
            let from = lead_above(self.text, line_start(self.text, k.start));
            let end = line_end(self.text, v.end.max(k.end));
            self.edits
                .push((break_before(self.text, from)..end, String::new()));
        }
        for (i, p) in &plan.moves.restore_probes {
            self.restore_probe(at(*i)?, p, *i)?;
        }
        Ok(())
    }

    fn restore_probe(&mut self, node: &Node, p: &DroppedProbe, i: usize) -> Result<(), EditError> {
        let field = format!("containers[{i}].{}", p.key);
        let Body::Map { flow, entries } = &node.body else {
            return Err(shape(&field, "a mapping"));
        };
        if entries
            .iter()
            .any(|(k, _)| k.scalar() == Some(p.key.as_str()))
        {
            return Err(shape(&field, "no probe where one was dropped"));
        }
        let anchor = p
            .after
            .as_deref()
            .and_then(|a| node.entry(a))
            .or_else(|| entries.last().map(|(k, v)| (k, v)))
            .filter(|_| p.after.is_some() || *flow);
        if *flow != p.flow {
            return Err(shape(
                &field,
                "the container in the style its probe was dropped from",
            ));
        }
        if *flow {
            let value = if self.json || !p.text.contains('\n') {
                p.text.clone()
            } else {
                p.text.replace('\n', " ")
            };
            match (p.after.is_some(), anchor) {
                (true, Some((k, v))) => {
                    let end = entry_end(self.text, k, v);
                    self.edits.push((end..end, format!(", {value}")));
                }
                _ => {
                    let start = entries.first().map_or(node.start + 1, |(k, _)| k.start);
                    let sep = if entries.is_empty() { "" } else { ", " };
                    self.edits.push((start..start, format!("{value}{sep}")));
                }
            }
            return Ok(());
        }
        let (k, v) = anchor.ok_or_else(|| shape(&field, "a key for the probe to follow"))?;
        let at = line_end(self.text, self.value_end(k, v).max(k.end));
        let col = column(self.text, entries[0].0.start);
        self.edits
            .push((at..at, format!("\n{}", shift_lines(&p.text, 0, col))));
        Ok(())
    }
}
