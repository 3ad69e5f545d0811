//! Applies a [`Plan`] to one object's YAML text as a few splices at known positions.
//!
//! Only the owned fields change. Where a `command` or `args` item moves between the two lists,
//! its text moves with it (quotes, block scripts and trailing comments included), and each list
//! keeps its own style (flow or block, indentation, separators), so converted output stays
//! readable and revert gives back the input byte for byte. New scalars come from
//! [`crate::emit`], which never writes a word a YAML 1.1 reader takes for something else.

mod argv;
mod keys;
mod moves;
mod probes;
mod resources;

pub use resources::written_texts;

pub use probes::probe_entry_text;

use crate::convert::{ContainerPlan, Literals, Plan, is_injected_init, is_injected_volume};
use crate::emit;
use crate::text::{after_break, column, line_end, line_start, splice, to_crlf, uses_crlf};
use crate::yaml::tree::{Body, Node};
use argv::block_scalar_header;
use serde_json::Value;

/// Why an edit could not be made; the object is then left unchanged with an error result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("{field}: expected {expected} in the YAML text")]
    Shape {
        field: String,
        expected: &'static str,
    },
}

/// A scalar the user wrote that kubectl would read as something other than the string this
/// tool reads (and now writes, quoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reinterpreted {
    /// Path below the pod spec, e.g. `containers[0].args[1]`.
    pub field: String,
    /// The word as written.
    pub text: String,
    /// What a YAML 1.1 reader makes of it: "a boolean", "an octal integer", ...
    pub reading: &'static str,
}

/// The new text of the object at `range` of `text` (which the tree's offsets point into) and
/// the scalars that had to be quoted on the way.
pub fn apply<'t>(
    text: &'t str,
    range: std::ops::Range<usize>,
    spec: &Node,
    current: &Value,
    plan: &'t Plan,
    json: bool,
) -> Result<(String, Vec<Reinterpreted>), EditError> {
    // Nothing after the object is visible, as if it had been cut out of the input.
    let text = &text[..range.end];
    let mut e = Editor {
        text,
        json,
        edits: Vec::new(),
        new_keys: Vec::new(),
        notes: Vec::new(),
        seq_indent: seq_indent(text, spec),
        literals: &plan.literals,
    };
    let containers = spec
        .get("containers")
        .and_then(Node::items)
        .ok_or_else(|| shape("containers", "a list"))?;
    // Containers' keys before the injected items (a key inserted where a list is appended
    // goes first), pod-level ones after everything.
    e.key_edits(spec, current, &plan.key_edits, true)?;
    let now = current.get("containers").and_then(Value::as_array);
    for (i, want) in plan.containers.iter().enumerate() {
        // A sidecar moved to `initContainers` travels as its own text, untouched: an edit
        // inside it (quoting a YAML 1.1 word) would land in the text cut away.
        if plan.moves.to_init.contains(&i) {
            continue;
        }
        let node = containers
            .get(i)
            .filter(|n| matches!(n.body, Body::Map { .. }))
            .ok_or_else(|| shape(&format!("containers[{i}]"), "a mapping"))?;
        let value = now.and_then(|c| c.get(i)).unwrap_or(&Value::Null);
        e.container(node, value, want, i)?;
    }
    e.probe_moves(spec, plan)?;
    if plan.moves.touches_init() {
        e.sidecar_moves(spec, current, plan)?;
    } else {
        e.tail(
            spec,
            current,
            ("initContainers", "initContainers"),
            is_injected_init,
            &plan.init_tail,
        )?;
    }
    e.tail(
        spec,
        current,
        ("volumes", "volumes"),
        is_injected_volume,
        &plan.volume_tail,
    )?;
    let policy = plan
        .restart_policy
        .as_deref()
        .map(|p| Value::String(p.into()));
    e.scalar_field(spec, current, "restartPolicy", policy.as_ref())?;
    e.key_edits(spec, current, &plan.key_edits, false)?;
    // A new key goes after everything else that ends where it is inserted: items appended
    // to the list before it belong to that list.
    let mut edits = e.edits;
    edits.append(&mut e.new_keys);
    if uses_crlf(&text[range.start..]) {
        for (_, inserted) in &mut edits {
            *inserted = to_crlf(inserted);
        }
    }
    for (r, _) in &mut edits {
        *r = r.start - range.start..r.end - range.start;
    }
    Ok((splice(&text[range], edits), e.notes))
}

type Edit = (std::ops::Range<usize>, String);

struct Editor<'t> {
    text: &'t str,
    /// The input is JSON: everything written must be JSON too (all of it is flow style).
    json: bool,
    edits: Vec<Edit>,
    new_keys: Vec<Edit>,
    notes: Vec<Reinterpreted>,
    /// How far this object indents a block list under its key (0 or 2, usually).
    seq_indent: usize,
    /// Keys written back with these texts where the plan removes them.
    literals: &'t Literals,
}

/// A list item to write: the user's own node (its text is reused) or a new string.
enum Item<'n> {
    Reused(&'n Node, String),
    New(String),
}

impl<'t> Editor<'t> {
    /// A new string as a scalar: JSON-quoted in JSON, YAML 1.1-safe otherwise.
    fn scalar(&self, s: &str) -> String {
        if self.json {
            Value::from(s).to_string()
        } else {
            emit::scalar(s)
        }
    }

    /// A new value in flow style.
    fn inline(&self, v: &Value) -> String {
        if self.json {
            v.to_string()
        } else {
            emit::inline(v)
        }
    }

    fn container(
        &mut self,
        node: &Node,
        now: &Value,
        want: &ContainerPlan,
        index: usize,
    ) -> Result<(), EditError> {
        self.argv(node, now, want, index)?;
        self.tail(
            node,
            now,
            ("volumeMounts", &format!("containers[{index}].volumeMounts")),
            is_injected_volume,
            &want.mount_tail,
        )
    }

    /// The value text (after `key:`) of an explicit null or empty list the plan writes back
    /// at `path` instead of removing the key.
    fn literal(&self, path: &str) -> Option<String> {
        self.literals.get(path).map(|text| {
            if text.is_empty() {
                String::new()
            } else {
                format!(" {text}")
            }
        })
    }

    /// Makes the list at `key` hold the user's items in their order, then `tail`: injected
    /// items are removed wherever they are, and the tail appended. `path` names the list
    /// below the pod spec, for the literal an emptied list is written back as.
    fn tail(
        &mut self,
        map: &Node,
        now: &Value,
        (key, path): (&str, &str),
        injected: fn(&Value) -> bool,
        tail: &[Value],
    ) -> Result<(), EditError> {
        let values: &[Value] = now
            .get(key)
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        let users = values.iter().filter(|v| !injected(v)).count();
        let in_order = values.len() == users + tail.len()
            && values[..users].iter().all(|v| !injected(v))
            && values[users..] == *tail;
        if in_order {
            return Ok(());
        }
        let Some((k, seq)) = map.entry(key).filter(|(_, v)| !v.is_null()) else {
            if tail.is_empty() {
                return Ok(());
            }
            let text = self.new_list(map, tail);
            return self.set(map, key, Some(text), &[]);
        };
        let items = seq.items().ok_or_else(|| shape(key, "a list"))?;
        if items.len() != values.len() {
            return Err(shape(key, "a list matching its meaning"));
        }
        if users == 0 && tail.is_empty() {
            return match self.literal(path) {
                Some(text) => self.set(map, key, Some(text), &[]),
                None => self.remove(map, k, seq),
            };
        }
        let flow = seq.is_flow();
        if users == 0 {
            let text = if flow {
                format!(" {}", self.inline(&Value::from(tail.to_vec())))
            } else {
                let col = dash_column(self.text, seq);
                tail.iter()
                    .map(|i| format!("\n{}", block_item(i, col)))
                    .collect()
            };
            return self.set(map, key, Some(text), &[]);
        }
        let keep: Vec<usize> = (0..items.len())
            .filter(|&i| !injected(&values[i]))
            .collect();
        for i in (0..items.len()).filter(|&i| injected(&values[i])) {
            let item = &items[i];
            if flow {
                // Remove the item with the separator before it (or after it, when first).
                let range = if i > 0 {
                    items[i - 1].end..item.end
                } else if let Some(next) = items.get(1) {
                    item.start..next.start
                } else {
                    item.start..item.end
                };
                self.edits.push((range, String::new()));
            } else {
                let dash = line_start(self.text, item.start);
                let prev_end = if i > 0 {
                    line_end(self.text, items[i - 1].end)
                } else {
                    dash.saturating_sub(1)
                };
                let from = if i > 0 { prev_end } else { dash };
                let to = if i > 0 {
                    line_end(self.text, item.end)
                } else {
                    after_break(self.text, line_end(self.text, item.end))
                };
                self.edits.push((from..to, String::new()));
            }
        }
        if tail.is_empty() {
            return Ok(());
        }
        let last_kept = keep.last().map(|&i| &items[i]);
        if flow {
            let close = seq.end - 1;
            let parts: Vec<String> = tail.iter().map(|v| self.inline(v)).collect();
            let sep = if last_kept.is_some() { ", " } else { "" };
            let at = last_kept.map_or(close, |n| n.end);
            self.edits
                .push((at..at, format!("{sep}{}", parts.join(", "))));
        } else {
            let dash_col = dash_column(self.text, seq);
            let at = line_end(self.text, last_kept.map_or(seq.start, |n| n.end));
            let mut out = String::new();
            for item in tail {
                out.push('\n');
                out.push_str(&block_item(item, dash_col));
            }
            self.edits.push((at..at, out));
        }
        Ok(())
    }

    /// The text after `key:` for a new list of generated items in this map's style.
    fn new_list(&self, map: &Node, items: &[Value]) -> String {
        if map.is_flow() {
            return format!(" {}", self.inline(&Value::from(items.to_vec())));
        }
        let col = self.key_column(map) + self.seq_indent;
        items
            .iter()
            .map(|i| format!("\n{}", block_item(i, col)))
            .collect()
    }
}

/// The column of a block list's dashes. The parser starts an unindented list (`key:` and
/// `- ` in one column) at its first item's content, so look for the dash before it (on a
/// line above when a comment follows the dash).
pub(super) fn dash_column(text: &str, seq: &Node) -> usize {
    let first = seq
        .items()
        .and_then(|i| i.first())
        .map_or(seq.start, |n| n.start.min(seq.start));
    let first = block_scalar_header(text, seq.items().and_then(|i| i.first()).unwrap_or(seq))
        .unwrap_or(first);
    match crate::text::block_item_dash(text, first) {
        Some(dash) => column(text, dash),
        None => column(text, seq.start),
    }
}

/// `- ` and a generated mapping or scalar, as a block list item at `col`.
pub(super) fn block_item(item: &Value, col: usize) -> String {
    let pad = " ".repeat(col);
    match item {
        Value::Object(_) => format!("{pad}- {}", emit::block(item, col + 2).trim()),
        other => format!("{pad}- {}", emit::inline(other)),
    }
}

/// How this object indents block lists under their key, read from `containers:`.
pub(super) fn seq_indent(text: &str, spec: &Node) -> usize {
    match spec.entry("containers") {
        Some((k, v)) if matches!(v.body, Body::Seq { flow: false, .. }) => {
            dash_column(text, v).saturating_sub(column(text, k.start))
        }
        _ => 0,
    }
}

pub(super) fn shape(field: &str, expected: &'static str) -> EditError {
    EditError::Shape {
        field: field.to_string(),
        expected,
    }
}
