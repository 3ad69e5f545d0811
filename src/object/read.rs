//! An object read on its own: its text indented back to where it stood, its syntax tree
//! and its meaning, and its identity even when it has no single meaning.

use super::ObjectRef;
use crate::source::Located;
use crate::yaml::tree::{self, Body, Node};
use crate::yaml::value::Resolver;
use serde_json::Value;
use std::borrow::Cow;
use std::ops::Range;

/// One object, parsed: the text its tree's offsets point into, its tree and its meaning.
pub(super) struct Parsed<'a> {
    /// Column the object's first line stood at.
    pub(super) column: usize,
    /// Line of the object's first byte in the input.
    pub(super) first_line: usize,
    /// The whole input, when the scan built the tree; else the object's own text indented
    /// back to where it stood.
    pub(super) text: Cow<'a, str>,
    /// Where the object is in `text`.
    pub(super) range: Range<usize>,
    pub(super) root: Node,
    pub(super) value: Value,
    /// Anchor ids that some alias in the object (or another object) refers to.
    pub(super) used_anchors: Vec<usize>,
}

/// The object whose tree the scan built from the input's own events: nothing is parsed again.
/// The scan passes only objects without anchors and aliases, so none is shared.
pub(super) fn from_tree<'a>(
    input: &'a str,
    found: &Located<'_>,
    root: Node,
) -> Result<Parsed<'a>, String> {
    let value = Resolver::new(&root)
        .value(&root)
        .map_err(|e| e.to_string())?;
    Ok(Parsed {
        column: found.column,
        first_line: found.line,
        text: Cow::Borrowed(input),
        range: found.range.clone(),
        root,
        value,
        used_anchors: Vec::new(),
    })
}

/// Parses an object cut out of the input; `first_line` turns its lines into the input's.
pub(super) fn parse_object(
    text: &str,
    column: usize,
    first_line: usize,
    exported: &[usize],
    start: usize,
) -> Result<Parsed<'static>, String> {
    // The line break after the object ends its last line, as in the input: a kept block
    // scalar (`|+`) at its end counts it.
    let padded = format!("{}{}\n", " ".repeat(column), text);
    let shift = |line: usize| line + first_line - 1;
    let mut docs = tree::parse(&padded)
        .map_err(|e| format!("not valid YAML: {} at line {}", e.message, shift(e.line)))?;
    let root = match docs.pop() {
        Some(Some(root)) if docs.is_empty() => root,
        _ => {
            return Err(
                "internal: the object is not one YAML node; please report this input".into(),
            );
        }
    };
    let value = Resolver::new(&root)
        .value(&root)
        .map_err(|e| relines(&e.to_string(), first_line))?;
    let mut used = Vec::new();
    root.walk(&mut |n| {
        if let Body::Alias(id) = n.body {
            used.push(id);
        }
        if n.anchor != 0 && exported.contains(&(n.start + start - column)) {
            used.push(n.anchor);
        }
    });
    Ok(Parsed {
        column,
        first_line,
        range: column..padded.len() - 1,
        text: Cow::Owned(padded),
        root,
        value,
        used_anchors: used,
    })
}

/// The identity of an object that has no single meaning (a repeated key, say), read from
/// its syntax tree with the last of any repeated key, so the error can still name it.
pub(super) fn loose_identity(text: &str, column: usize) -> Option<ObjectRef> {
    let padded = format!("{}{}", " ".repeat(column), text);
    let root = tree::parse(&padded).ok()?.pop()??;
    let scalar = |n: Option<&Node>| n.and_then(Node::scalar).map(|s| Value::String(s.into()));
    let meta = root.get("metadata");
    let mut annotations = serde_json::Map::new();
    if let Some(Body::Map { entries, .. }) =
        meta.and_then(|m| m.get("annotations")).map(|a| &a.body)
    {
        for (k, v) in entries {
            if let (Some(k), Some(v)) = (k.scalar(), v.scalar()) {
                annotations.insert(k.into(), Value::String(v.into()));
            }
        }
    }
    let mut value = serde_json::json!({"metadata": {"annotations": annotations}});
    for (key, node) in [
        ("apiVersion", root.get("apiVersion")),
        ("kind", root.get("kind")),
    ] {
        if let Some(v) = scalar(node) {
            value[key] = v;
        }
    }
    for key in ["name", "namespace"] {
        if let Some(v) = scalar(meta.and_then(|m| m.get(key))) {
            value["metadata"][key] = v;
        }
    }
    Some(ObjectRef::of(&value))
}

/// Messages from a lone object count lines from its start; make them the input's lines.
pub(super) fn relines(message: &str, first_line: usize) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(at) = rest.find("line") {
        let (head, tail) = rest.split_at(at);
        out.push_str(head);
        let word_len = if tail.starts_with("lines ") {
            6
        } else if tail.starts_with("line ") {
            5
        } else {
            4
        };
        out.push_str(&tail[..word_len]);
        rest = &tail[word_len..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            let n: usize = rest[..digits].parse().unwrap_or(0);
            out.push_str(&(n + first_line - 1).to_string());
            rest = &rest[digits..];
            if let Some(more) = rest.strip_prefix(" and ") {
                let d = more.len() - more.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                if d > 0 {
                    let n: usize = more[..d].parse().unwrap_or(0);
                    out.push_str(&format!(" and {}", n + first_line - 1));
                    rest = &more[d..];
                }
            }
        }
    }
    out.push_str(rest);
    out
}
