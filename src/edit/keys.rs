//! Keys of a mapping: set a value, insert a key after another, remove one, in block or
//! flow style, without touching the text around them.

use super::{EditError, Editor, shape};
use crate::text::{after_break, break_before, column, line_end, line_start};
use crate::yaml::tree::{Body, Node, colon_after};
use serde_json::Value;

impl Editor<'_> {
    /// Sets `key` of `map` to the value text `value` (what follows `key:`), inserting the key
    /// after the first of `after` that exists, or removes it when `value` is `None`.
    pub(super) fn set(
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
                // A comment after `key:` whose value starts on a later line stays on the key's
                // line when the new value starts on a later line too.
                let key_line_end = line_end(self.text, colon);
                let start = if value.starts_with('\n')
                    && key_line_end < v.start
                    && self.text[colon + 1..key_line_end]
                        .trim_start()
                        .starts_with('#')
                {
                    key_line_end
                } else {
                    colon + 1
                };
                self.edits.push((start..end, value));
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
    pub(super) fn value_end(&self, k: &Node, v: &Node) -> usize {
        // An empty value's anchor or tag is its text: it goes with the value.
        if v.is_empty_null() && v.anchor == 0 && v.tag.is_none() {
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

    pub(super) fn insert(
        &mut self,
        map: &Node,
        after: Option<(&Node, &Node)>,
        key: &str,
        value: &str,
    ) {
        let Body::Map { flow, entries } = &map.body else {
            return;
        };
        if *flow {
            // Right after the entry it follows (or the last one), so that whatever space the
            // user left before `}` stays there, and removing the key gives the text back.
            let close = match after.or_else(|| entries.last().map(|(k, v)| (k, v))) {
                Some((k, v)) => entry_end_at(self.text, k, v),
                None => map.end - 1,
            };
            let sep = if entries.is_empty() { "" } else { ", " };
            let value = if value.starts_with('\n') {
                String::new()
            } else {
                value.to_string()
            };
            self.new_keys
                .push((close..close, format!("{sep}{}:{value}", self.scalar(key))));
            return;
        }
        let (k, v) = match after.or_else(|| entries.last().map(|(k, v)| (k, v))) {
            Some(pair) => pair,
            None => return,
        };
        let at = line_end(self.text, self.value_end(k, v).max(k.end));
        let pad = " ".repeat(column(self.text, entries[0].0.start));
        self.new_keys
            .push((at..at, format!("\n{pad}{}:{value}", self.scalar(key))));
    }

    pub(super) fn remove(&mut self, map: &Node, k: &Node, v: &Node) -> Result<(), EditError> {
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
                break_before(self.text, ls)..le
            } else {
                0..after_break(self.text, le)
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

    pub(super) fn scalar_field(
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
        let text = want
            .map(|w| format!(" {}", self.inline(w)))
            .or_else(|| self.literal(key));
        if text.is_none() && map.get(key).is_some_and(Node::is_null) && have.is_none() {
            return Ok(());
        }
        self.set(map, key, text, &[])
    }

    pub(super) fn key_column(&self, map: &Node) -> usize {
        match &map.body {
            Body::Map { entries, .. } if !entries.is_empty() => {
                column(self.text, entries[0].0.start)
            }
            _ => column(self.text, map.start),
        }
    }
}

/// Where a flow entry's text ends.
pub(super) fn entry_end_at(text: &str, k: &Node, v: &Node) -> usize {
    crate::yaml::tree::entry_end(text, k, v)
}
