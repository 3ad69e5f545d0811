//! Where each node ends in the text (an object's range is what is cut out or replaced), and
//! which anchors and aliases cross from one object to another (such objects are never
//! converted apart from each other).

use super::{Document, Found, MAX_DEPTH, Owner, Scanner};
use crate::yaml::tree::{SyntaxError, flow_end};
use saphyr_parser::{Event, ScalarStyle, Span};

impl<'t> Scanner<'_, 't> {
    /// Consumes a node's events and returns where its content ends.
    pub(super) fn skip(
        &mut self,
        event: Event<'t>,
        span: Span,
        depth: usize,
    ) -> Result<usize, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(SyntaxError {
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
                line: span.start.line(),
                column: span.start.col() + 1,
            });
        }
        let start = self.b.offsets.byte(span.start.index());
        self.note_anchor(&event, start);
        match event {
            // A block scalar, and an empty value with an anchor or tag, end where the tree
            // says they do (at the header, after the anchor; not at whatever saphyr's span
            // starts at after them), so that an object's range is the same whether the scan
            // builds its tree or not.
            Event::Scalar(_, ScalarStyle::Literal | ScalarStyle::Folded, ..) => {
                Ok(self.b.node(event, span)?.end)
            }
            Event::Scalar(ref value, ScalarStyle::Plain, anchor, ref tag)
                if value.is_empty() && (anchor != 0 || tag.is_some()) =>
            {
                Ok(self.b.node(event, span)?.end)
            }
            Event::Scalar(..) => Ok(self.b.offsets.byte(span.end.index())),
            Event::Alias(_) => Ok(self.b.offsets.byte(span.end.index())),
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                let is_map = matches!(event, Event::MappingStart(..));
                let flow = span.end.index() > span.start.index();
                let mut last_end = start;
                let mut value_next = false;
                loop {
                    let (child, child_span) = self.next()?;
                    if matches!(child, Event::SequenceEnd | Event::MappingEnd) {
                        return Ok(if flow {
                            flow_end(self.text, self.b.offsets.byte(child_span.start.index()))
                        } else {
                            last_end
                        });
                    }
                    let child_start = self.b.offsets.byte(child_span.start.index());
                    let empty = is_empty_at(self.text, child_start, &child);
                    let child_end = self.skip(child, child_span, depth + 1)?;
                    last_end = if is_map && value_next {
                        self.entry_end(empty, last_end, child_end)
                    } else {
                        last_end.max(child_end)
                    };
                    value_next = is_map && !value_next;
                }
            }
            _ => Ok(start),
        }
    }

    /// Where a mapping entry ends: after its value, or after the key's `:` when the value is
    /// empty (the parser puts an empty value where the next token is).
    pub(super) fn entry_end(&self, empty: bool, key_end: usize, value_end: usize) -> usize {
        if !empty {
            return value_end.max(key_end);
        }
        let rest = &self.text[key_end..];
        let gap = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if rest[gap..].starts_with(':') {
            key_end + gap + 1
        } else {
            key_end
        }
    }

    pub(super) fn note_anchor(&mut self, event: &Event<'t>, offset: usize) {
        let Some(owner) = self.owner else { return };
        match event {
            Event::Scalar(_, _, anchor, _)
            | Event::SequenceStart(anchor, _)
            | Event::MappingStart(anchor, _)
                if *anchor != 0 =>
            {
                self.anchors.insert((self.doc, *anchor), (owner, offset));
            }
            Event::Alias(id) => self.aliases.push((self.doc, *id, owner)),
            _ => {}
        }
    }

    /// Marks objects whose anchors are used by other objects, and objects using them.
    pub(super) fn link_aliases(&self, docs: &mut [Document<'t>]) {
        for &(doc, id, user) in &self.aliases {
            let Some(&(definer, offset)) = self.anchors.get(&(doc, id)) else {
                continue;
            };
            if definer == user {
                continue;
            }
            if let Some(found) = found_mut(docs, definer) {
                found.exported_anchors.push(offset);
            }
            if let Some(found) = found_mut(docs, user) {
                found.imports_alias = true;
            }
        }
    }
}

fn found_mut<'d, 't>(docs: &'d mut [Document<'t>], owner: Owner) -> Option<&'d mut Found<'t>> {
    // Documents without content are not in `docs`; match by the recorded document number.
    let doc = docs.iter_mut().find(|d| d.number == owner.0)?;
    match owner.1 {
        None => Some(&mut doc.root),
        // Items handed to the sink are not in the list (and have no anchors nor aliases).
        Some(i) => {
            let items = doc.items.as_mut()?;
            let at = items.binary_search_by_key(&i, |f| f.index).ok()?;
            items.get_mut(at)
        }
    }
}

/// saphyr reports an absent value as a plain `~` that is not written `~` in the text.
pub(super) fn is_empty_at(text: &str, start: usize, event: &Event<'_>) -> bool {
    matches!(event, Event::Scalar(v, ScalarStyle::Plain, 0, None)
        if v.is_empty() || (v == "~" && !text[start..].starts_with('~')))
}
