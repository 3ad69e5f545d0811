//! Sidecars moved between `containers` and `initContainers` as text: the item's lines (with
//! the comment and blank lines directly above it) are cut from one list and pasted into the
//! other, shifted to that list's indentation, with `restartPolicy: Always` added after its
//! `name` (or removed again). Nothing inside the item is re-emitted, so comments, quoting
//! and key order travel with it, and revert pastes back exactly what convert cut.
//!
//! Several items cut from one place go as one run, so the line breaks between what stays
//! are never doubled or lost. Flow lists keep their items' text too; a block item pasted
//! into a flow list is the one case written anew (as a flow mapping).

use super::argv::flow_style;
use super::{EditError, Editor, block_item, dash_column, shape};
use crate::convert::{Plan, is_injected_init};
use crate::emit;
use crate::text::{after_break, break_before, column, line_end, line_start, splice};
use crate::yaml::tree::{Body, Node, entry_end};
use serde_json::Value;
use std::ops::Range;

impl Editor<'_> {
    /// Applies the plan's moves of sidecars, and the init list they share with the injected
    /// init container (instead of the plain tail edit).
    pub(super) fn sidecar_moves(
        &mut self,
        spec: &Node,
        current: &Value,
        plan: &Plan,
    ) -> Result<(), EditError> {
        let containers = spec
            .get("containers")
            .and_then(Node::items)
            .ok_or_else(|| shape("containers", "a list"))?;
        let seq = spec.get("containers").expect("checked above");
        let now = |key: &str, i: usize| {
            current
                .get(key)
                .and_then(|l| l.get(i))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let init = spec.get("initContainers").filter(|n| !n.is_null());
        let init_items = init.and_then(Node::items).unwrap_or_default();
        let moves = &plan.moves;
        if !moves.to_init.is_empty() {
            // An empty `[]` list is replaced whole, in the style of the map around it.
            let flow_target = match init {
                Some(n) if !init_items.is_empty() => n.is_flow(),
                _ => spec.is_flow(),
            };
            let target_col = match init.filter(|n| !n.is_flow() && !init_items.is_empty()) {
                Some(n) => dash_column(self.text, n),
                None => self.key_column(spec) + self.seq_indent,
            };
            let mut texts = Vec::new();
            for &i in &moves.to_init {
                let node = containers
                    .get(i)
                    .ok_or_else(|| shape("containers", "a list"))?;
                let mut value = now("containers", i);
                if let Some(map) = value.as_object_mut() {
                    let at = map
                        .keys()
                        .position(|k| k == "name")
                        .map_or(map.len(), |k| k + 1);
                    map.shift_insert(at, "restartPolicy".into(), Value::from("Always"));
                }
                texts.push(self.moved_text(seq, node, &value, flow_target, target_col, true)?);
            }
            self.remove_runs(seq, containers, &moves.to_init);
            let generated: Vec<String> = plan
                .init_tail
                .iter()
                .map(|v| {
                    if flow_target {
                        self.inline(v)
                    } else {
                        block_item(v, target_col)
                    }
                })
                .collect();
            texts.extend(generated);
            match init_items.last() {
                Some(last) if flow_target => {
                    let (_, sep, _) = flow_style(self.text, init.expect("has items"));
                    let joined = texts.join(&sep);
                    self.edits
                        .push((last.end..last.end, format!("{sep}{joined}")));
                }
                Some(last) => {
                    let at = line_end(self.text, last.end);
                    self.edits.push((at..at, format!("\n{}", texts.join("\n"))));
                }
                None if flow_target => self.set(
                    spec,
                    "initContainers",
                    Some(format!(" [{}]", texts.join(", "))),
                    &[],
                )?,
                None => self.set(
                    spec,
                    "initContainers",
                    Some(format!("\n{}", texts.join("\n"))),
                    &[],
                )?,
            }
        }
        if !moves.to_containers.is_empty() {
            let init = init.ok_or_else(|| shape("initContainers", "a list"))?;
            let flow_target = seq.is_flow();
            let target_col = if flow_target {
                0
            } else {
                dash_column(self.text, seq)
            };
            let mut removed: Vec<usize> = moves.to_containers.iter().map(|m| m.0).collect();
            removed.extend(
                (0..init_items.len()).filter(|&i| is_injected_init(&now("initContainers", i))),
            );
            removed.sort_unstable();
            removed.dedup();
            let mut placed = 0;
            for (k, &(from, index)) in moves.to_containers.iter().enumerate() {
                let node = init_items
                    .get(from)
                    .ok_or_else(|| shape("initContainers", "a list"))?;
                let mut value = now("initContainers", from);
                if let Some(map) = value.as_object_mut() {
                    map.shift_remove("restartPolicy");
                }
                let text = self.moved_text(init, node, &value, flow_target, target_col, false)?;
                // Steps before it in the final list: its index less the sidecars before it.
                let before = index - k;
                placed += 1;
                self.paste(seq, containers, before, text);
            }
            debug_assert_eq!(placed, moves.to_containers.len());
            if removed.len() == init_items.len() {
                let (k, v) = spec.entry("initContainers").expect("checked above");
                match self.literal("initContainers") {
                    Some(text) => self.set(spec, "initContainers", Some(text), &[])?,
                    None => self.remove(spec, k, v)?,
                }
            } else {
                self.remove_runs(init, init_items, &removed);
            }
        }
        Ok(())
    }

    /// Puts a moved item's text into `containers` before the step at `before` (after the
    /// last one when there is none).
    fn paste(&mut self, seq: &Node, items: &[Node], before: usize, text: String) {
        if seq.is_flow() {
            // The list's own separator (`, `, or a line break and indentation).
            let (_, sep, _) = flow_style(self.text, seq);
            match (before, items.get(before.wrapping_sub(1))) {
                (0, _) | (_, None) => {
                    let at = items.first().map_or(seq.start + 1, |n| n.start);
                    self.edits.push((at..at, format!("{text}{sep}")));
                }
                (_, Some(prev)) => self
                    .edits
                    .push((prev.end..prev.end, format!("{sep}{text}"))),
            }
            return;
        }
        match items.get(before) {
            Some(next) => {
                let at = lead_start(self.text, next);
                self.edits.push((at..at, format!("{text}\n")));
            }
            None => {
                let at = line_end(self.text, items.last().map_or(seq.end, |n| n.end));
                self.edits.push((at..at, format!("\n{text}")));
            }
        }
    }

    /// Removes the items at `removed` (sorted), run by run.
    fn remove_runs(&mut self, seq: &Node, items: &[Node], removed: &[usize]) {
        let mut k = 0;
        while k < removed.len() {
            let first = removed[k];
            let mut last = first;
            while k + 1 < removed.len() && removed[k + 1] == last + 1 {
                k += 1;
                last += 1;
            }
            k += 1;
            let range: Range<usize> = if seq.is_flow() {
                match (first.checked_sub(1), items.get(last + 1)) {
                    (Some(prev), _) => items[prev].end..items[last].end,
                    (None, Some(next)) => items[first].start..next.start,
                    (None, None) => items[first].start..items[last].end,
                }
            } else {
                let from = lead_start(self.text, &items[first]);
                match items.get(last + 1) {
                    Some(next) => from..lead_start(self.text, next),
                    None if from > 0 => {
                        break_before(self.text, from)..line_end(self.text, items[last].end)
                    }
                    None => from..after_break(self.text, line_end(self.text, items[last].end)),
                }
            };
            self.edits.push((range, String::new()));
        }
    }

    /// The text of a container item moved to another list: its own text with
    /// `restartPolicy: Always` added after `name` (`add`) or removed, shifted from its list's
    /// dash column to `target_col`; in a flow list, its flow text.
    fn moved_text(
        &self,
        list: &Node,
        node: &Node,
        value: &Value,
        flow_target: bool,
        target_col: usize,
        add: bool,
    ) -> Result<String, EditError> {
        let text = self.text;
        let field = "restartPolicy";
        let mut inner: Vec<(Range<usize>, String)> = Vec::new();
        if add {
            let (k, v) = node
                .entry("name")
                .ok_or_else(|| shape("name", "a `name:` key"))?;
            if node.is_flow() {
                let at = entry_end(text, k, v);
                inner.push((
                    at..at,
                    format!(", {}: {}", self.scalar(field), self.scalar("Always")),
                ));
            } else {
                let at = line_end(text, v.end.max(k.end));
                let pad = " ".repeat(column(text, k.start));
                inner.push((at..at, format!("\n{pad}{field}: Always")));
            }
        } else {
            let Body::Map { entries, .. } = &node.body else {
                return Err(shape("initContainers", "a mapping"));
            };
            let pos = entries
                .iter()
                .position(|(k, _)| k.scalar() == Some(field))
                .ok_or_else(|| shape(field, "restartPolicy: Always"))?;
            let (k, v) = &entries[pos];
            let range = if node.is_flow() {
                match pos.checked_sub(1) {
                    Some(p) => entry_end(text, &entries[p].0, &entries[p].1)..entry_end(text, k, v),
                    None => match entries.get(1) {
                        Some((next, _)) => k.start..next.start,
                        None => k.start..entry_end(text, k, v),
                    },
                }
            } else {
                if on_dash_line(text, k.start) {
                    return Err(shape(field, "a key after the container's first line"));
                }
                break_before(text, line_start(text, k.start))..line_end(text, v.end.max(k.end))
            };
            inner.push((range, String::new()));
        }
        if node.is_flow() {
            let raw = splice_within(text, node.start..node.end, inner);
            return Ok(if flow_target {
                raw
            } else {
                format!("{}- {raw}", " ".repeat(target_col))
            });
        }
        if flow_target {
            // A block mapping cannot stand in a flow list: written anew, as a flow mapping.
            return Ok(if self.json {
                value.to_string()
            } else {
                emit::inline(value)
            });
        }
        let from = lead_start(text, node);
        let end = line_end(text, node.end);
        let raw = splice_within(text, from..end, inner);
        Ok(shift_lines(&raw, dash_column(text, list), target_col))
    }
}

/// Applies edits (absolute positions inside `range`) to that part of the text.
fn splice_within(text: &str, range: Range<usize>, edits: Vec<(Range<usize>, String)>) -> String {
    let base = range.start;
    let shifted = edits
        .into_iter()
        .map(|(r, t)| (r.start - base..r.end - base, t))
        .collect();
    splice(&text[range], shifted)
}

/// Whether the key at `at` is the first of a block list item, on the line of its `-`.
pub(super) fn on_dash_line(text: &str, at: usize) -> bool {
    let before = text[line_start(text, at)..at].trim();
    !before.is_empty() && before.chars().all(|c| c == '-' || c == ' ')
}

/// Where a block list item's lines start: its `-` line, or the comment and blank lines
/// directly above it.
pub(super) fn lead_start(text: &str, item: &Node) -> usize {
    let dash = crate::text::block_item_dash(text, item.start).unwrap_or(item.start);
    lead_above(text, line_start(text, dash))
}

/// The start of the comment and blank lines directly above the line starting at `ls`.
pub(super) fn lead_above(text: &str, ls: usize) -> usize {
    let mut start = ls;
    while start > 0 {
        let prev = line_start(text, start - 1);
        let line = text[prev..start].trim();
        if line.is_empty() || line.starts_with('#') {
            start = prev;
        } else {
            break;
        }
    }
    start
}

/// Shifts every line of `text` from column `from` to column `to` (blank lines stay blank).
pub(super) fn shift_lines(text: &str, from: usize, to: usize) -> String {
    if from == to {
        return text.to_string();
    }
    text.split('\n')
        .map(|line| {
            if line.trim().is_empty() {
                line.to_string()
            } else if to > from {
                format!("{}{line}", " ".repeat(to - from))
            } else {
                let cut = (from - to).min(line.len() - line.trim_start_matches(' ').len());
                line[cut..].to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
