//! `command` and `args`: rewritten together, reusing the text of every item that stays, in
//! each list's own style (flow or block, indentation, separators, comments).

use super::EditError;
use super::{Editor, Item, Reinterpreted, dash_column};
use crate::convert::ContainerPlan;
use crate::emit;
use crate::text::{line_end, line_start};
use crate::yaml::tree::{Body, Node, Style};
use crate::yaml::value::yaml11_reading;
use serde_json::Value;

impl Editor<'_> {
    /// Rewrites `command` and `args` together: items the plan keeps, in the order it keeps
    /// them at the end of the new command line, keep their text.
    pub(super) fn argv(
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
        let cmd_node = node.get("command").filter(|n| !n.is_null());
        let args_node = node.get("args").filter(|n| !n.is_null());
        let plain_words = [cmd_node, args_node]
            .into_iter()
            .flatten()
            .flat_map(|n| n.items().unwrap_or_default())
            .any(
                |n| matches!(&n.body, Body::Scalar(s, Style::Plain) if yaml11_reading(s).is_some()),
            );
        let (cmd_literal, args_literal) = (
            self.literal(&format!("containers[{index}].command")),
            self.literal(&format!("containers[{index}].args")),
        );
        let same = have_cmd == want.command
            && have_args == want.args
            && node.get("command").is_some() == (want.command.is_some() || cmd_literal.is_some())
            && node.get("args").is_some() == (want.args.is_some() || args_literal.is_some());
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
        self.set(
            node,
            "command",
            cmd_text.or(cmd_literal),
            &["image", "name"],
        )?;
        self.set(
            node,
            "args",
            args_text.or(args_literal),
            &["command", "image", "name"],
        )
    }

    /// The text after `key:` for a list of items, in the style of `like` (or block style).
    pub(super) fn list(
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
            if parts.is_empty() {
                return Ok(" []".into());
            }
            let mut out = format!(" [{lead}{}", parts[0]);
            for (k, part) in parts.iter().enumerate().skip(1) {
                // Items that were neighbours in a flow list keep what stood between them:
                // a comment, a line break.
                match self.between_neighbours(&items[k - 1], &items[k]) {
                    Some(between) => out.push_str(between),
                    None => out.push_str(&sep),
                }
                out.push_str(part);
            }
            out.push_str(&trail);
            out.push(']');
            return Ok(out);
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
                    out.push('-');
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

    /// The text between two reused items that stood next to each other in the same flow
    /// list, when it is a plain separator (one comma, with spaces, line breaks or a comment).
    fn between_neighbours(&self, a: &Item<'_>, b: &Item<'_>) -> Option<&str> {
        let (Item::Reused(a, fa), Item::Reused(b, fb)) = (a, b) else {
            return None;
        };
        let split = |f: &str| {
            let (list, index) = f.rsplit_once('[')?;
            Some((
                list.to_string(),
                index.trim_end_matches(']').parse::<usize>().ok()?,
            ))
        };
        let ((la, ia), (lb, ib)) = (split(fa)?, split(fb)?);
        if la != lb || ia + 1 != ib || a.end > b.start {
            return None;
        }
        let between = self.text.get(a.end..b.start)?;
        let code: String = between
            .lines()
            .map(|line| line.split_once('#').map_or(line, |(code, _)| code))
            .collect();
        (code.trim() == ",").then_some(between)
    }

    pub(super) fn note_all(&mut self, items: &[Item<'_>]) {
        for item in items {
            if let Item::Reused(node, field) = item
                && let Body::Scalar(s, Style::Plain) = &node.body
                && let Some(reading) = yaml11_reading(s)
            {
                self.notes.push(Reinterpreted {
                    field: field.clone(),
                    text: s.to_string(),
                    reading,
                });
            }
        }
    }

    /// Whether a user's item can keep its text: a scalar with no YAML 1.1 double meaning.
    pub(super) fn reusable(&self, node: &Node) -> bool {
        match &node.body {
            Body::Scalar(s, Style::Plain) => yaml11_reading(s).is_none(),
            Body::Scalar(..) => true,
            _ => false,
        }
    }

    /// The item's text inside a flow list, when it can go there.
    pub(super) fn flow_text(&self, item: &Item<'_>) -> Option<String> {
        match item {
            Item::New(s) => Some(self.scalar(s)),
            Item::Reused(node, _) => {
                let raw = &self.text[node.start..node.end];
                let single_line = !raw.contains('\n');
                let ok = match &node.body {
                    // A plain scalar may span lines too, for the same reason.
                    Body::Scalar(s, Style::Plain) => {
                        (single_line || !raw.contains(": "))
                            && yaml11_reading(s).is_none()
                            && !raw.contains([',', '[', ']', '{', '}'])
                            && !raw.contains(" #")
                    }
                    // A quoted scalar may span lines: it stays valid in any flow list of the
                    // same container, whose lines are indented alike.
                    Body::Scalar(_, Style::Single | Style::Double) => true,
                    _ => false,
                };
                Some(if ok {
                    raw.to_string()
                } else {
                    self.scalar(node.scalar()?)
                })
            }
        }
    }

    /// A block item's comment lines before it, its text after the `-` to the end of its last
    /// line (the space or comment after the dash and a trailing comment included), and the
    /// column its continuation lines are relative to. A flow item moved into a block list
    /// keeps just its scalar text.
    pub(super) fn block_item_text(&self, node: &Node) -> (String, String, usize) {
        let text = self.text;
        let start = block_scalar_header(text, node).unwrap_or(node.start);
        let Some(dash) = crate::text::block_item_dash(text, start) else {
            let raw = &text[node.start..node.end];
            let body = if raw.contains('\n') {
                emit::scalar(node.scalar().unwrap_or_default())
            } else {
                raw.to_string()
            };
            return (String::new(), format!(" {body}"), 0);
        };
        let ls = line_start(text, dash);
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
        (lead, text[dash + 1..body_end].to_string(), dash - ls)
    }
}

/// The `|`/`>` header of a block scalar, which precedes the node's content.
pub(super) fn block_scalar_header(text: &str, node: &Node) -> Option<usize> {
    if !matches!(node.body, Body::Scalar(_, Style::Literal | Style::Folded)) {
        return None;
    }
    let before = &text[..node.start];
    let at = before.rfind(['|', '>'])?;
    Some(at)
}

/// The separators of a flow list: after `[`, between items, before `]`.
pub(super) fn flow_style(text: &str, node: &Node) -> (String, String, String) {
    let Some(items) = node.items() else {
        return (String::new(), ", ".into(), String::new());
    };
    let ws = |s: &str| s.chars().all(char::is_whitespace);
    // A trailing comma (`[a, b,]`) is part of the list's style.
    let trail_ok = |s: &str| ws(s.trim_start().strip_prefix(',').unwrap_or(s.trim_start()));
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
        if trail_ok(trail) {
            trail.to_string()
        } else {
            String::new()
        },
    )
}

/// Shifts every line after the first from column `from` to column `to`.
pub(super) fn reindent(body: &str, from: usize, to: usize) -> String {
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
