//! Applies a [`Plan`] to one object's YAML text as a few splices at known positions.
//!
//! Only the owned fields change. Where a `command` or `args` item moves between the two lists,
//! its text moves with it (quotes, block scripts and trailing comments included), and each list
//! keeps its own style (flow or block, indentation, separators), so converted output stays
//! readable and revert gives back the input byte for byte. New scalars come from
//! [`crate::emit`], which never writes a word a YAML 1.1 reader takes for something else.

use crate::convert::{ContainerPlan, Plan, is_injected_init, is_injected_volume};
use crate::emit;
use crate::text::{column, line_end, line_start, splice};
use crate::yaml::tree::{Body, Node, Style, colon_after};
use crate::yaml::value::yaml11_reading;
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

/// The new text of the object and the scalars that had to be quoted on the way.
pub fn apply(
    text: &str,
    spec: &Node,
    current: &Value,
    plan: &Plan,
) -> Result<(String, Vec<Reinterpreted>), EditError> {
    let mut e = Editor {
        text,
        edits: Vec::new(),
        new_keys: Vec::new(),
        notes: Vec::new(),
        seq_indent: seq_indent(text, spec),
    };
    let containers = spec
        .get("containers")
        .and_then(Node::items)
        .ok_or_else(|| shape("containers", "a list"))?;
    let now = current.get("containers").and_then(Value::as_array);
    for (i, want) in plan.containers.iter().enumerate() {
        let node = containers
            .get(i)
            .filter(|n| matches!(n.body, Body::Map { .. }))
            .ok_or_else(|| shape(&format!("containers[{i}]"), "a mapping"))?;
        let value = now.and_then(|c| c.get(i)).unwrap_or(&Value::Null);
        e.container(node, value, want, i)?;
    }
    e.tail(
        spec,
        current,
        "initContainers",
        is_injected_init,
        &plan.init_tail,
    )?;
    e.tail(
        spec,
        current,
        "volumes",
        is_injected_volume,
        &plan.volume_tail,
    )?;
    let policy = plan
        .restart_policy
        .as_deref()
        .map(|p| Value::String(p.into()));
    e.scalar_field(spec, current, "restartPolicy", policy.as_ref())?;
    // A new key goes after everything else that ends where it is inserted: items appended
    // to the list before it belong to that list.
    let mut edits = e.edits;
    edits.append(&mut e.new_keys);
    Ok((splice(text, edits), e.notes))
}

type Edit = (std::ops::Range<usize>, String);

struct Editor<'t> {
    text: &'t str,
    edits: Vec<Edit>,
    new_keys: Vec<Edit>,
    notes: Vec<Reinterpreted>,
    /// How far this object indents a block list under its key (0 or 2, usually).
    seq_indent: usize,
}

/// A list item to write: the user's own node (its text is reused) or a new string.
enum Item<'n> {
    Reused(&'n Node, String),
    New(String),
}

impl<'t> Editor<'t> {
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
            "volumeMounts",
            is_injected_volume,
            &want.mount_tail,
        )
    }

    /// Rewrites `command` and `args` together: items the plan keeps, in the order it keeps
    /// them at the end of the new command line, keep their text.
    fn argv(
        &mut self,
        node: &Node,
        now: &Value,
        want: &ContainerPlan,
        index: usize,
    ) -> Result<(), EditError> {
        let strings = |key: &str| {
            now.get(key).and_then(Value::as_array).map(|a| {
                a.iter()
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .collect::<Vec<_>>()
            })
        };
        let (have_cmd, have_args) = (strings("command"), strings("args"));
        let cmd_node = node.get("command").filter(|n| !n.is_empty_null());
        let args_node = node.get("args").filter(|n| !n.is_empty_null());
        let plain_words = [cmd_node, args_node]
            .into_iter()
            .flatten()
            .flat_map(|n| n.items().unwrap_or_default())
            .any(
                |n| matches!(&n.body, Body::Scalar(s, Style::Plain) if yaml11_reading(s).is_some()),
            );
        let same = have_cmd == want.command
            && have_args == want.args
            && node.get("command").is_some() == want.command.is_some()
            && node.get("args").is_some() == want.args.is_some();
        if same && !plain_words {
            return Ok(());
        }
        // Source items, with the list and position they came from, for messages.
        let mut sources: Vec<(&Node, String)> = Vec::new();
        for (key, list) in [("command", cmd_node), ("args", args_node)] {
            for (j, item) in list
                .and_then(Node::items)
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                sources.push((item, format!("containers[{index}].{key}[{j}]")));
            }
        }
        let empty = Vec::new();
        let target: Vec<&String> = want
            .command
            .iter()
            .flatten()
            .chain(want.args.as_ref().unwrap_or(&empty))
            .collect();
        let mut common = 0;
        while common < sources.len()
            && common < target.len()
            && sources[sources.len() - 1 - common].0.scalar()
                == Some(target[target.len() - 1 - common].as_str())
        {
            common += 1;
        }
        let first_reused = target.len() - common;
        let source_offset = sources.len() - common;
        let mut items: Vec<Item<'_>> = Vec::with_capacity(target.len());
        for (t, value) in target.iter().enumerate() {
            if t >= first_reused {
                let (source, field) = &sources[source_offset + t - first_reused];
                items.push(Item::Reused(source, field.clone()));
            } else {
                items.push(Item::New((*value).clone()));
            }
        }
        let split = want.command.as_ref().map_or(0, Vec::len);
        let args_items = items.split_off(split);
        let cmd_style = cmd_node.or(args_node);
        let args_style = args_node.or(cmd_node);
        let cmd_text = want
            .command
            .as_ref()
            .map(|_| self.list(node, cmd_style, args_style, items))
            .transpose()?;
        let args_text = want
            .args
            .as_ref()
            .map(|_| self.list(node, args_style, cmd_style, args_items))
            .transpose()?;
        self.set(node, "command", cmd_text, &["image", "name"])?;
        self.set(node, "args", args_text, &["command", "image", "name"])
    }

    /// The text after `key:` for a list of items, in the style of `like` (or block style).
    fn list(
        &mut self,
        map: &Node,
        like: Option<&Node>,
        other: Option<&Node>,
        items: Vec<Item<'_>>,
    ) -> Result<String, EditError> {
        let flow = like.is_some_and(Node::is_flow) || map.is_flow();
        if flow && items.iter().all(|i| self.flow_text(i).is_some()) {
            // Separators come from a flow list with at least two items: this one, or else
            // the other of command/args (a one-item list shows none).
            let has_sep = |n: &&Node| n.is_flow() && n.items().is_some_and(|i| i.len() >= 2);
            let source = like.filter(has_sep).or(other.filter(has_sep)).or(like);
            let (lead, sep, trail) = source
                .map_or((String::new(), ", ".to_string(), String::new()), |n| {
                    flow_style(self.text, n)
                });
            let parts: Vec<String> = items
                .iter()
                .map(|i| self.flow_text(i).unwrap_or_default())
                .collect();
            self.note_all(&items);
            return Ok(format!(" [{lead}{}{trail}]", parts.join(&sep)));
        }
        let col = match like.filter(|n| !n.is_flow()) {
            Some(n) => dash_column(self.text, n),
            None => self.key_column(map) + self.seq_indent,
        };
        let pad = " ".repeat(col);
        let mut out = String::new();
        for item in &items {
            match item {
                Item::Reused(node, _) if self.reusable(node) => {
                    let (lead, body, from_col) = self.block_item_text(node);
                    for line in lead.lines() {
                        out.push('\n');
                        out.push_str(&pad);
                        out.push_str(line.trim_start());
                    }
                    out.push('\n');
                    out.push_str(&pad);
                    out.push_str("- ");
                    out.push_str(&reindent(&body, from_col, col));
                }
                Item::Reused(node, _) => {
                    out.push('\n');
                    out.push_str(&pad);
                    out.push_str("- ");
                    out.push_str(&emit::scalar(node.scalar().unwrap_or_default()));
                }
                Item::New(s) => {
                    out.push('\n');
                    out.push_str(&pad);
                    out.push_str("- ");
                    out.push_str(&emit::scalar(s));
                }
            }
        }
        self.note_all(&items);
        if items.is_empty() {
            return Ok(" []".into());
        }
        Ok(out)
    }

    fn note_all(&mut self, items: &[Item<'_>]) {
        for item in items {
            if let Item::Reused(node, field) = item
                && let Body::Scalar(s, Style::Plain) = &node.body
                && let Some(reading) = yaml11_reading(s)
            {
                self.notes.push(Reinterpreted {
                    field: field.clone(),
                    text: s.clone(),
                    reading,
                });
            }
        }
    }

    /// Whether a user's item can keep its text: a scalar with no YAML 1.1 double meaning.
    fn reusable(&self, node: &Node) -> bool {
        match &node.body {
            Body::Scalar(s, Style::Plain) => yaml11_reading(s).is_none(),
            Body::Scalar(..) => true,
            _ => false,
        }
    }

    /// The item's text inside a flow list, when it can go there.
    fn flow_text(&self, item: &Item<'_>) -> Option<String> {
        match item {
            Item::New(s) => Some(emit::scalar(s)),
            Item::Reused(node, _) => {
                let raw = &self.text[node.start..node.end];
                let single_line = !raw.contains('\n');
                let ok = match &node.body {
                    Body::Scalar(s, Style::Plain) => {
                        single_line
                            && yaml11_reading(s).is_none()
                            && !raw.contains([',', '[', ']', '{', '}'])
                            && !raw.contains(" #")
                    }
                    Body::Scalar(_, Style::Single | Style::Double) => single_line,
                    _ => false,
                };
                Some(if ok {
                    raw.to_string()
                } else {
                    emit::scalar(node.scalar()?)
                })
            }
        }
    }

    /// A block item's comment lines before it, its text from after `- ` to the end of its
    /// last line (trailing comment included), and the column its continuation lines are
    /// relative to. A flow item moved into a block list keeps just its scalar text.
    fn block_item_text(&self, node: &Node) -> (String, String, usize) {
        let text = self.text;
        let header = block_scalar_header(text, node);
        let start = header.unwrap_or(node.start);
        let ls = line_start(text, start);
        let before = &text[ls..start];
        let in_block_list = before.trim_end().ends_with('-')
            && before.trim_end()[..before.trim_end().len() - 1]
                .trim()
                .is_empty();
        if !in_block_list {
            let raw = &text[node.start..node.end];
            let body = if raw.contains('\n') {
                emit::scalar(node.scalar().unwrap_or_default())
            } else {
                raw.to_string()
            };
            return (String::new(), body, 0);
        }
        let dash_col = before.trim_end().len() - 1;
        // Whole comment lines directly above the item travel with it.
        let mut lead_start = ls;
        while lead_start > 0 {
            let prev = line_start(text, lead_start - 1);
            let line = text[prev..lead_start].trim();
            if line.starts_with('#') {
                lead_start = prev;
            } else {
                break;
            }
        }
        let lead = text[lead_start..ls].to_string();
        let end = line_end(text, node.end);
        let tail = &text[node.end..end];
        let body_end = if tail.trim_start().starts_with('#') || tail.trim().is_empty() {
            node.end + tail.trim_end().len()
        } else {
            node.end
        };
        (lead, text[start..body_end].to_string(), dash_col)
    }

    fn key_column(&self, map: &Node) -> usize {
        match &map.body {
            Body::Map { entries, .. } if !entries.is_empty() => {
                column(self.text, entries[0].0.start)
            }
            _ => column(self.text, map.start),
        }
    }

    /// Sets `key` of `map` to the value text `value` (what follows `key:`), inserting the key
    /// after the first of `after` that exists, or removes it when `value` is `None`.
    fn set(
        &mut self,
        map: &Node,
        key: &str,
        value: Option<String>,
        after: &[&str],
    ) -> Result<(), EditError> {
        let entry = map.entry(key);
        match (entry, value) {
            (None, None) => Ok(()),
            (Some((k, v)), Some(value)) => {
                let colon = colon_after(self.text, k).ok_or_else(|| shape(key, "a `key:`"))?;
                let end = self.value_end(k, v);
                self.edits.push((colon + 1..end, value));
                Ok(())
            }
            (Some((k, v)), None) => self.remove(map, k, v),
            (None, Some(value)) => {
                let anchor = after.iter().find_map(|a| map.entry(a));
                self.insert(map, anchor, key, &value);
                Ok(())
            }
        }
    }

    /// Where a value's text ends, trailing comments of a block list's last item included.
    fn value_end(&self, k: &Node, v: &Node) -> usize {
        if v.is_empty_null() {
            return colon_after(self.text, k).map_or(k.end, |c| c + 1);
        }
        if matches!(v.body, Body::Seq { flow: false, .. }) {
            let end = line_end(self.text, v.end);
            let tail = &self.text[v.end..end];
            if tail.trim_start().starts_with('#') {
                return v.end + tail.trim_end().len();
            }
        }
        v.end
    }

    fn insert(&mut self, map: &Node, after: Option<(&Node, &Node)>, key: &str, value: &str) {
        let Body::Map { flow, entries } = &map.body else {
            return;
        };
        if *flow {
            let close = map.end - 1;
            let sep = if entries.is_empty() { "" } else { ", " };
            let value = if value.starts_with('\n') {
                String::new()
            } else {
                value.to_string()
            };
            self.new_keys
                .push((close..close, format!("{sep}{}:{value}", emit::scalar(key))));
            return;
        }
        let (k, v) = match after.or_else(|| entries.last().map(|(k, v)| (k, v))) {
            Some(pair) => pair,
            None => return,
        };
        let at = line_end(self.text, self.value_end(k, v).max(k.end));
        let pad = " ".repeat(column(self.text, entries[0].0.start));
        self.new_keys
            .push((at..at, format!("\n{pad}{}:{value}", emit::scalar(key))));
    }

    fn remove(&mut self, map: &Node, k: &Node, v: &Node) -> Result<(), EditError> {
        let Body::Map { flow, entries } = &map.body else {
            return Err(shape("", "a mapping"));
        };
        let end = self.value_end(k, v);
        if *flow {
            // Take the separator before the entry, or after it when it is the first, so that
            // removing several entries never leaves a stray comma.
            let pos = entries.iter().position(|(key, _)| std::ptr::eq(key, k));
            let range = match pos {
                Some(p) if p > 0 => {
                    let (pk, pv) = &entries[p - 1];
                    entry_end_at(self.text, pk, pv)..end
                }
                _ => match entries.get(1) {
                    Some((next, _)) => k.start..next.start,
                    None => k.start..end,
                },
            };
            self.edits.push((range, String::new()));
            return Ok(());
        }
        let ls = line_start(self.text, k.start);
        if self.text[ls..k.start].trim().is_empty() {
            // The entry's lines go with the line break before them, so that removing the
            // last entries of an object leaves no empty line behind.
            let le = line_end(self.text, end);
            let range = if ls > 0 {
                ls - 1..le
            } else {
                0..(le + 1).min(self.text.len())
            };
            self.edits.push((range, String::new()));
            return Ok(());
        }
        // The first key of a `- key: value` item: pull the next key up into its place.
        let pos = entries.iter().position(|(key, _)| std::ptr::eq(key, k));
        match pos.and_then(|p| entries.get(p + 1)) {
            Some((next, _)) => {
                self.edits.push((k.start..next.start, String::new()));
                Ok(())
            }
            None => Err(shape(
                k.scalar().unwrap_or_default(),
                "another key in the same mapping",
            )),
        }
    }

    fn scalar_field(
        &mut self,
        map: &Node,
        now: &Value,
        key: &str,
        want: Option<&Value>,
    ) -> Result<(), EditError> {
        let have = now.get(key).filter(|v| !v.is_null());
        if have == want && (want.is_some() || map.get(key).is_none()) {
            return Ok(());
        }
        let text = want.map(|w| format!(" {}", emit::inline(w)));
        self.set(map, key, text, &[])
    }

    /// Makes the list at `key` hold the user's items in their order, then `tail`: injected
    /// items are removed wherever they are, and the tail appended.
    fn tail(
        &mut self,
        map: &Node,
        now: &Value,
        key: &str,
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
        let Some((k, seq)) = map.entry(key).filter(|(_, v)| !v.is_empty_null()) else {
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
            return self.remove(map, k, seq);
        }
        let flow = seq.is_flow();
        if users == 0 {
            let text = if flow {
                format!(" {}", emit::inline(&Value::from(tail.to_vec())))
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
                    line_end(self.text, item.end) + 1
                };
                let to = to.min(self.text.len());
                self.edits.push((from..to, String::new()));
            }
        }
        if tail.is_empty() {
            return Ok(());
        }
        let last_kept = keep.last().map(|&i| &items[i]);
        if flow {
            let close = seq.end - 1;
            let parts: Vec<String> = tail.iter().map(emit::inline).collect();
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
            return format!(" {}", emit::inline(&Value::from(items.to_vec())));
        }
        let col = self.key_column(map) + self.seq_indent;
        items
            .iter()
            .map(|i| format!("\n{}", block_item(i, col)))
            .collect()
    }
}

/// The column of a block list's dashes. The parser starts an unindented list (`key:` and
/// `- ` in one column) at its first item's content, so look for the dash before it.
fn dash_column(text: &str, seq: &Node) -> usize {
    let first = seq
        .items()
        .and_then(|i| i.first())
        .map_or(seq.start, |n| n.start.min(seq.start));
    let first = block_scalar_header(text, seq.items().and_then(|i| i.first()).unwrap_or(seq))
        .unwrap_or(first);
    let ls = line_start(text, first);
    let before = text[ls..first].trim_end();
    match before.rfind('-') {
        Some(at) if before[at + 1..].trim().is_empty() => at,
        _ => column(text, seq.start),
    }
}

/// Where a flow entry's text ends.
fn entry_end_at(text: &str, k: &Node, v: &Node) -> usize {
    crate::yaml::tree::entry_end(text, k, v)
}

/// `- ` and a generated mapping or scalar, as a block list item at `col`.
fn block_item(item: &Value, col: usize) -> String {
    let pad = " ".repeat(col);
    match item {
        Value::Object(_) => format!("{pad}- {}", emit::block(item, col + 2).trim()),
        other => format!("{pad}- {}", emit::inline(other)),
    }
}

/// The `|`/`>` header of a block scalar, which precedes the node's content.
fn block_scalar_header(text: &str, node: &Node) -> Option<usize> {
    if !matches!(node.body, Body::Scalar(_, Style::Literal | Style::Folded)) {
        return None;
    }
    let before = &text[..node.start];
    let at = before.rfind(['|', '>'])?;
    Some(at)
}

/// The separators of a flow list: after `[`, between items, before `]`.
fn flow_style(text: &str, node: &Node) -> (String, String, String) {
    let Some(items) = node.items() else {
        return (String::new(), ", ".into(), String::new());
    };
    let ws = |s: &str| s.chars().all(char::is_whitespace);
    let lead = items.first().map_or("", |f| &text[node.start + 1..f.start]);
    let trail = items.last().map_or("", |l| &text[l.end..node.end - 1]);
    let sep = match items {
        [a, b, ..] => &text[a.end..b.start],
        _ => ", ",
    };
    let sep_ok = sep.trim() == "," && items.windows(2).all(|w| &text[w[0].end..w[1].start] == sep);
    (
        if ws(lead) {
            lead.to_string()
        } else {
            String::new()
        },
        if sep_ok { sep.to_string() } else { ", ".into() },
        if ws(trail) {
            trail.to_string()
        } else {
            String::new()
        },
    )
}

/// Shifts every line after the first from column `from` to column `to`.
fn reindent(body: &str, from: usize, to: usize) -> String {
    if from == to || !body.contains('\n') {
        return body.to_string();
    }
    let mut out = String::with_capacity(body.len());
    for (i, line) in body.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            if line.trim().is_empty() {
                continue;
            }
            if to > from {
                out.push_str(&" ".repeat(to - from));
                out.push_str(line);
            } else {
                let cut = (from - to).min(line.len() - line.trim_start_matches(' ').len());
                out.push_str(&line[cut..]);
            }
        } else {
            out.push_str(line);
        }
    }
    out
}

/// How this object indents block lists under their key, read from `containers:`.
fn seq_indent(text: &str, spec: &Node) -> usize {
    match spec.entry("containers") {
        Some((k, v)) if matches!(v.body, Body::Seq { flow: false, .. }) => {
            dash_column(text, v).saturating_sub(column(text, k.start))
        }
        _ => 0,
    }
}

fn shape(field: &str, expected: &'static str) -> EditError {
    EditError::Shape {
        field: field.to_string(),
        expected,
    }
}
