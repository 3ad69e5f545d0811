//! What selection reads of an object (apiVersion, kind, the selection annotation) and what
//! forces a full read of it (aliases, merge keys, tags, repeated keys), from events while
//! scanning and from nodes when the tree is built; both ways agree.

use super::extent::is_empty_at;
use super::{SELECTION, Scalar, Scanner, Summary};
use crate::yaml::tree::{Body, Node, Style, SyntaxError, flow_end};
use saphyr_parser::{Event, ScalarStyle, Span};
use std::borrow::Cow;

impl<'t> Scanner<'_, 't> {
    /// Walks a mapping at one of the levels that selection reads, and returns its end.
    pub(super) fn summarize(
        &mut self,
        event: Event<'t>,
        span: Span,
        summary: &mut Summary<'t>,
        depth: usize,
        level: Level,
    ) -> Result<usize, SyntaxError> {
        let start = self.b.offsets.byte(span.start.index());
        self.note_anchor(&event, start);
        let flow = span.end.index() > span.start.index();
        let mut seen: Vec<String> = Vec::new();
        let mut last_end = start;
        loop {
            let (key, key_span) = self.next()?;
            if matches!(key, Event::MappingEnd) {
                return Ok(if flow {
                    flow_end(self.text, self.b.offsets.byte(key_span.start.index()))
                } else {
                    last_end
                });
            }
            let name = self.key_name(&key, summary, &mut seen);
            let key_end = self.skip(key, key_span, depth + 1)?;
            let (value, value_span) = self.next()?;
            let empty = is_empty_at(
                self.text,
                self.b.offsets.byte(value_span.start.index()),
                &value,
            );
            let end = match (level, name.as_deref()) {
                (Level::Object, Some(field)) => {
                    self.field(field, value, value_span, summary, depth + 1)?
                }
                (Level::Metadata, Some("annotations"))
                    if matches!(value, Event::MappingStart(..)) =>
                {
                    self.summarize(value, value_span, summary, depth + 1, Level::Annotations)?
                }
                (Level::Metadata, Some("annotations")) => {
                    summary.needs_full_read |= matches!(value, Event::Alias(_));
                    self.skip(value, value_span, depth + 1)?
                }
                (Level::Annotations, Some(SELECTION)) => {
                    let (scalar, end) = self.scalar(value, value_span, summary, depth + 1)?;
                    summary.selection = scalar;
                    end
                }
                _ => self.skip(value, value_span, depth + 1)?,
            };
            last_end = self.entry_end(empty, key_end, end);
        }
    }

    /// A top-level field of an object (or of a document root).
    pub(super) fn field(
        &mut self,
        field: &str,
        value: Event<'t>,
        span: Span,
        summary: &mut Summary<'t>,
        depth: usize,
    ) -> Result<usize, SyntaxError> {
        match field {
            "apiVersion" | "kind" => {
                let (scalar, end) = self.scalar(value, span, summary, depth)?;
                if field == "kind" {
                    summary.kind = scalar;
                } else {
                    summary.api_version = scalar;
                }
                Ok(end)
            }
            "metadata" if matches!(value, Event::MappingStart(..)) => {
                self.summarize(value, span, summary, depth, Level::Metadata)
            }
            "metadata" => {
                summary.needs_full_read |= matches!(value, Event::Alias(_));
                self.skip(value, span, depth)
            }
            _ => self.skip(value, span, depth),
        }
    }

    /// The name of a key at a level selection reads; notes what forces a full read.
    pub(super) fn key_name(
        &self,
        key: &Event<'t>,
        summary: &mut Summary<'t>,
        seen: &mut Vec<String>,
    ) -> Option<String> {
        match key {
            Event::Scalar(text, style, anchor, tag) => {
                if (*style == ScalarStyle::Plain && text == "<<") || *anchor != 0 || tag.is_some() {
                    summary.needs_full_read = true;
                }
                if seen.iter().any(|s| s == text) {
                    summary.needs_full_read = true;
                } else if remembered(seen.len(), text) {
                    seen.push(text.to_string());
                }
                Some(text.to_string())
            }
            _ => {
                summary.needs_full_read = true;
                None
            }
        }
    }

    pub(super) fn scalar(
        &mut self,
        event: Event<'t>,
        span: Span,
        summary: &mut Summary<'t>,
        depth: usize,
    ) -> Result<(Option<Scalar<'t>>, usize), SyntaxError> {
        // A block scalar is read as the tree reads it: saphyr gives an empty one the line
        // break after it, when that ends the input.
        if let Event::Scalar(_, ScalarStyle::Literal | ScalarStyle::Folded, anchor, ref tag) = event
        {
            summary.needs_full_read |= anchor != 0 || tag.is_some();
            let node = self.b.node(event, span)?;
            let text = Cow::Owned(node.scalar().unwrap_or_default().to_string());
            return Ok((Some(Scalar { text, plain: false }), node.end));
        }
        let scalar = match &event {
            Event::Scalar(text, style, anchor, tag) => {
                summary.needs_full_read |= *anchor != 0 || tag.is_some();
                // An absent value is saphyr's `~`; the tree reads it as the empty text it is.
                let start = self.b.offsets.byte(span.start.index());
                let text = if is_empty_at(self.text, start, &event) {
                    Cow::Borrowed("")
                } else {
                    text.clone()
                };
                Some(Scalar {
                    text,
                    plain: *style == ScalarStyle::Plain,
                })
            }
            Event::Alias(_) => {
                summary.needs_full_read = true;
                None
            }
            _ => None,
        };
        let end = self.skip(event, span, depth)?;
        Ok((scalar, end))
    }
}

/// The kinds that have a pod spec (their API version is checked later).
pub(super) fn is_workload_kind(kind: &Scalar<'_>) -> bool {
    matches!(kind.text.as_ref(), "Pod" | "Job" | "CronJob")
}

/// What selection reads from a built root entry `field: value`, as [`Scanner::field`] reads
/// it from events.
pub(super) fn field_of_node<'t>(field: &str, value: &Node, summary: &mut Summary<'t>) {
    match field {
        "apiVersion" | "kind" => {
            let scalar = scalar_of_node(value, summary);
            if field == "kind" {
                summary.kind = scalar;
            } else {
                summary.api_version = scalar;
            }
        }
        "metadata" => match &value.body {
            Body::Map { entries, .. } => {
                let mut seen = Vec::new();
                for (k, v) in entries {
                    if key_of_node(k, summary, &mut seen) != Some("annotations") {
                        continue;
                    }
                    match &v.body {
                        Body::Map { entries, .. } => {
                            let mut seen = Vec::new();
                            for (ak, av) in entries {
                                if key_of_node(ak, summary, &mut seen) == Some(SELECTION) {
                                    summary.selection = scalar_of_node(av, summary);
                                }
                            }
                        }
                        Body::Alias(_) => summary.needs_full_read = true,
                        _ => {}
                    }
                }
            }
            Body::Alias(_) => summary.needs_full_read = true,
            _ => {}
        },
        _ => {}
    }
}

/// Whether a key is remembered to spot a repeat of it: the first 64 keys of a mapping (a
/// bound on the work for huge ones), and always the keys selection reads, so that a repeated
/// one forces a full read however many keys come before it. The scan and the tree remember
/// the same keys, so they agree on which objects need a full read.
fn remembered(seen: usize, key: &str) -> bool {
    seen < 64
        || matches!(
            key,
            "apiVersion" | "kind" | "metadata" | "annotations" | SELECTION
        )
}

/// A key's name, noting what forces a full read, as [`Scanner::key_name`] does.
fn key_of_node<'n>(
    key: &'n Node,
    summary: &mut Summary<'_>,
    seen: &mut Vec<&'n str>,
) -> Option<&'n str> {
    match &key.body {
        Body::Scalar(text, style) => {
            if (*style == Style::Plain && text == "<<") || key.anchor != 0 || key.tag.is_some() {
                summary.needs_full_read = true;
            }
            if seen.contains(&text.as_str()) {
                summary.needs_full_read = true;
            } else if remembered(seen.len(), text) {
                seen.push(text);
            }
            Some(text)
        }
        _ => {
            summary.needs_full_read = true;
            None
        }
    }
}

fn scalar_of_node<'t>(node: &Node, summary: &mut Summary<'t>) -> Option<Scalar<'t>> {
    match &node.body {
        Body::Scalar(text, style) => {
            summary.needs_full_read |= node.anchor != 0 || node.tag.is_some();
            Some(Scalar {
                text: Cow::Owned(text.to_string()),
                plain: *style == Style::Plain,
            })
        }
        Body::Alias(_) => {
            summary.needs_full_read = true;
            None
        }
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Level {
    Object,
    Metadata,
    Annotations,
}
