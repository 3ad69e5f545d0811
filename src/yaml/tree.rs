//! A syntax tree of one YAML text that knows where every node is: the converter reads an
//! object's meaning from it and edits the object's text at exactly these places, so nothing
//! outside the edited nodes changes. Built from saphyr's event stream in one pass.

use super::offsets::Offsets;
use compact_str::CompactString;
use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// One node and where its text is. `start..end` is the node's content: a block collection
/// starts at its first item (the `-` or the first key) and ends where its last item ends; a
/// block scalar ends at its last non-blank character. Anchors and tags precede `start`.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Byte offset of the content's first character.
    pub start: usize,
    /// Byte offset just past the content.
    pub end: usize,
    /// 1-based line of `start`, for messages.
    pub line: usize,
    /// saphyr's anchor id (0 when the node has no anchor).
    pub anchor: usize,
    /// The tag as written (`!!str`, `!custom`), if any.
    pub tag: Option<String>,
    /// What the node is.
    pub body: Body,
}

/// The kinds of node.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A scalar's value (escapes and folding applied) and how it was written. Short values
    /// are stored inline: an object has many scalars, and allocating each one dominated.
    Scalar(CompactString, Style),
    /// Items in order; `flow` for `[...]`.
    Seq { flow: bool, items: Vec<Node> },
    /// Key/value pairs in order, duplicates included; `flow` for `{...}`.
    Map {
        flow: bool,
        entries: Vec<(Node, Node)>,
    },
    /// `*name`: refers to the node with this anchor id.
    Alias(usize),
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Unquoted: its type depends on the reader's schema.
    Plain,
    /// `'...'`
    Single,
    /// `"..."`
    Double,
    /// `|`
    Literal,
    /// `>`
    Folded,
}

/// Text that is not YAML, with where the problem is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at line {line} column {column}")]
pub struct SyntaxError {
    /// What the parser found.
    pub message: String,
    /// 1-based.
    pub line: usize,
    /// 1-based.
    pub column: usize,
}

impl Node {
    /// The scalar's value, when the node is a scalar.
    pub fn scalar(&self) -> Option<&str> {
        match &self.body {
            Body::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// The value under `key` in a mapping (the last one when a key is repeated, as kpt does).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key and value nodes of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.body {
            Body::Map { entries, .. } => entries
                .iter()
                .rev()
                .find(|(k, _)| k.scalar() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// A sequence's items.
    pub fn items(&self) -> Option<&[Node]> {
        match &self.body {
            Body::Seq { items, .. } => Some(items),
            _ => None,
        }
    }

    /// Whether the node is a `[...]` or `{...}` collection.
    pub fn is_flow(&self) -> bool {
        matches!(
            self.body,
            Body::Seq { flow: true, .. } | Body::Map { flow: true, .. }
        )
    }

    /// An empty plain scalar: what `key:` with nothing after it holds.
    pub fn is_empty_null(&self) -> bool {
        matches!(&self.body, Body::Scalar(s, Style::Plain) if s.is_empty())
    }

    /// Whether the node reads as null: empty, `null`, `Null`, `NULL` or `~`, unquoted and
    /// untagged. Such a value stands for an absent list when a list is written in its place.
    pub fn is_null(&self) -> bool {
        self.tag.is_none()
            && matches!(&self.body, Body::Scalar(s, Style::Plain)
                if matches!(s.as_str(), "" | "null" | "Null" | "NULL" | "~"))
    }

    /// Calls `f` on this node and every node below it, keys included.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Node)) {
        f(self);
        match &self.body {
            Body::Seq { items, .. } => items.iter().for_each(|n| n.walk(f)),
            Body::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
                k.walk(f);
                v.walk(f);
            }),
            Body::Scalar(..) | Body::Alias(_) => {}
        }
    }
}

/// The parser's next event, its errors as [`SyntaxError`]; the end of the stream once the
/// parser has no more. Shared by every reader of this module.
pub(super) fn next_event<'t>(
    parser: &mut Parser<'t, saphyr_parser::StrInput<'t>>,
) -> Result<(Event<'t>, Span), SyntaxError> {
    match parser.next_event() {
        Some(Ok(pair)) => Ok(pair),
        Some(Err(e)) => Err(SyntaxError {
            message: e.info().to_string(),
            line: e.marker().line(),
            column: e.marker().col() + 1,
        }),
        None => Ok((Event::StreamEnd, Span::default())),
    }
}

/// Parses every document of `text`; a document with no content is `None`.
pub fn parse(text: &str) -> Result<Vec<Option<Node>>, SyntaxError> {
    let mut builder = Builder::new(text);
    let mut docs = Vec::new();
    loop {
        match builder.next()? {
            (Event::StreamEnd, _) => return Ok(docs),
            (Event::DocumentStart(_), _) => {
                let (event, span) = builder.next()?;
                if matches!(event, Event::DocumentEnd) {
                    docs.push(None);
                    continue;
                }
                let node = builder.node(event, span)?;
                docs.push((!node.is_empty_null()).then_some(node));
                // DocumentEnd
                builder.next()?;
            }
            _ => {}
        }
    }
}

/// Builds nodes from saphyr's events; the scan shares one with the trees it builds, so an
/// object it keeps is read from the same events it was found by.
pub(super) struct Builder<'t> {
    parser: Parser<'t, saphyr_parser::StrInput<'t>>,
    pub(super) offsets: Offsets<'t>,
    text: &'t str,
    /// How deep the next node is; the scan sets it to where the object's entries stand, so
    /// that deep nesting is refused at the same depth, with the same message, on both paths.
    pub(super) depth: usize,
}

impl<'t> Builder<'t> {
    /// A builder over the events of `text`.
    pub(super) fn new(text: &'t str) -> Self {
        Builder {
            parser: Parser::new_from_str(text),
            offsets: Offsets::new(text),
            text,
            depth: 0,
        }
    }

    /// The parser's next event.
    pub(super) fn next(&mut self) -> Result<(Event<'t>, Span), SyntaxError> {
        next_event(&mut self.parser)
    }

    /// The node that starts with `event` (its events are consumed).
    pub(super) fn node(&mut self, event: Event<'t>, span: Span) -> Result<Node, SyntaxError> {
        if self.depth > super::scan::MAX_DEPTH {
            return Err(SyntaxError {
                message: format!("nesting deeper than {} levels", super::scan::MAX_DEPTH),
                line: span.start.line(),
                column: span.start.col() + 1,
            });
        }
        self.depth += 1;
        let node = self.node_inner(event, span);
        self.depth -= 1;
        node
    }

    fn node_inner(&mut self, event: Event<'t>, span: Span) -> Result<Node, SyntaxError> {
        let start = self.offsets.byte(span.start.index());
        let line = span.start.line();
        let tag_text = |t: Option<std::borrow::Cow<'_, saphyr_parser::Tag>>| {
            t.map(|t| format!("{}{}", t.handle, t.suffix))
        };
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                let mut end = self.offsets.byte(span.end.index());
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::Single,
                    ScalarStyle::DoubleQuoted => Style::Double,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let mut start = start;
                // The value of a block scalar without content, which saphyr reads from what
                // follows it.
                let mut empty_block: Option<std::borrow::Cow<'_, str>> = None;
                if matches!(style, Style::Literal | Style::Folded) {
                    // Blank lines after the last content line are not the scalar's text, but
                    // all of that line is, its trailing spaces (and a no-break space, which
                    // YAML does not count as white space) included.
                    let written = self.text[start..end].trim_end_matches([' ', '\t', '\r', '\n']);
                    let content = if written.is_empty() {
                        written
                    } else {
                        &self.text[start..crate::text::line_end(self.text, start + written.len())]
                    };
                    end = start + content.len();
                    // Kept (`|+`, `>+`) blank lines after it are its text, though: one more
                    // line break in its value than clipping leaves, per blank line.
                    let kept = value.len() - value.trim_end_matches('\n').len();
                    if !content.is_empty() && kept > 1 && keeps_blank_lines(self.text, start) {
                        end = kept_lines_end(self.text, end, kept - 1);
                    }
                    // An empty block scalar's span starts at whatever follows it (the next
                    // key's indentation, lines below): place it at the end of its header line.
                    // At the end of the input saphyr's span starts at the header instead.
                    let header = if content.is_empty() {
                        self.text[..start].rfind(['|', '>'])
                    } else {
                        let first_line_end = crate::text::line_end(self.text, start);
                        // Content lines have only indentation before them; the header has
                        // its key or dash.
                        let before = &self.text[crate::text::line_start(self.text, start)..start];
                        (content.starts_with(['|', '>'])
                            && !before.trim().is_empty()
                            && self.text[first_line_end..end].trim().is_empty())
                        .then_some(start)
                    };
                    if let Some(header) = header {
                        start = crate::text::line_end(self.text, header);
                        end = start;
                        // Without content it means "", whatever line breaks follow (saphyr
                        // counts the input's last one); kept with `+`, one line break per
                        // blank line below its header, which are its text.
                        if self.text[header..start].contains('+') {
                            let blank = blank_lines_below(self.text, start);
                            end = kept_lines_end(self.text, start, blank);
                            empty_block = Some("\n".repeat(blank).into());
                        } else {
                            empty_block = Some("".into());
                        }
                    }
                }
                // saphyr reports an absent value as `~`, placed at the colon (or over a
                // following `---`); make it an empty, zero-width scalar.
                let value = if let Some(value) = empty_block {
                    value
                } else if style == Style::Plain && value == "~" && &self.text[start..end] != "~" {
                    end = start;
                    std::borrow::Cow::Borrowed("")
                } else if style == Style::Plain
                    && value.is_empty()
                    && (anchor != 0 || tag.is_some())
                {
                    // An empty value with an anchor or a tag is placed at whatever follows
                    // them (the next key, list item or line): place it right after them
                    // instead, so that its entry does not reach over what follows.
                    start = properties_end(self.text, start).unwrap_or(start).min(start);
                    end = start;
                    value
                } else {
                    value
                };
                Ok(Node {
                    start,
                    end,
                    line,
                    anchor,
                    tag: tag_text(tag),
                    body: Body::Scalar(CompactString::from(value.as_ref()), style),
                })
            }
            Event::Alias(id) => Ok(Node {
                start,
                end: self.offsets.byte(span.end.index()),
                line,
                anchor: 0,
                tag: None,
                body: Body::Alias(id),
            }),
            Event::SequenceStart(anchor, tag) => {
                let flow = span.end.index() > span.start.index();
                let mut items = Vec::new();
                let end = loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break if flow {
                            flow_end(self.text, self.offsets.byte(span.start.index()))
                        } else {
                            items.last().map_or(start, |n: &Node| n.end)
                        };
                    }
                    items.push(self.node(event, span)?);
                };
                Ok(Node {
                    start,
                    end,
                    line,
                    anchor,
                    tag: tag_text(tag),
                    body: Body::Seq { flow, items },
                })
            }
            Event::MappingStart(anchor, tag) => {
                let flow = span.end.index() > span.start.index();
                let mut entries = Vec::new();
                let end = loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::MappingEnd) {
                        break if flow {
                            flow_end(self.text, self.offsets.byte(span.start.index()))
                        } else {
                            entries
                                .last()
                                .map_or(start, |(k, v): &(Node, Node)| entry_end(self.text, k, v))
                        };
                    }
                    let mut key = self.node(event, span)?;
                    if key.anchor != 0 || key.tag.is_some() {
                        // A key's anchor and tag are part of its entry: they set the
                        // mapping's indentation, and go wherever the entry goes.
                        key.start = properties_start(self.text, key.start);
                    }
                    let (event, span) = self.next()?;
                    let value = self.node(event, span)?;
                    entries.push((key, value));
                };
                Ok(Node {
                    start,
                    end,
                    line,
                    anchor,
                    tag: tag_text(tag),
                    body: Body::Map { flow, entries },
                })
            }
            other => Err(SyntaxError {
                message: format!("unexpected {other:?}"),
                line,
                column: span.start.col() + 1,
            }),
        }
    }
}

/// Where a flow collection's text ends, given where the parser put its end event: just past
/// its `]` or `}`. After a trailing comma at the end of the input the event sits on the comma,
/// so the closing bracket is looked for past it.
pub(super) fn flow_end(text: &str, at: usize) -> usize {
    let rest = &text[at.min(text.len())..];
    let skipped = rest.len() - rest.trim_start_matches([',', ' ', '\t', '\r', '\n']).len();
    match rest[skipped..].chars().next() {
        Some(']' | '}') => at + skipped + 1,
        _ => at + 1,
    }
}

/// Whether the block scalar whose content starts at `content` has a keep (`+`) chomping
/// indicator: read from its header, the first line above that is not blank. (Its value alone
/// cannot tell: at the end of the input saphyr counts a line of spaces as one more line.)
fn keeps_blank_lines(text: &str, content: usize) -> bool {
    let mut line_start = crate::text::line_start(text, content);
    while line_start > 0 {
        let above = crate::text::line_start(text, line_start - 1);
        let line = &text[above..line_start];
        line_start = above;
        if line.trim().is_empty() {
            continue;
        }
        // The header's indicators are its last token before any comment.
        let token = crate::text::before_comment(line)
            .split_whitespace()
            .last()
            .unwrap_or_default();
        return token.starts_with(['|', '>']) && token.contains('+');
    }
    false
}

/// How many lines of only white space follow the line ending at `line_end`, each ended by a
/// line break.
fn blank_lines_below(text: &str, line_end: usize) -> usize {
    let mut count = 0;
    let mut at = crate::text::after_break(text, crate::text::line_end(text, line_end));
    while at < text.len() {
        let end = crate::text::line_end(text, at);
        if end >= text.len() || !text[at..end].trim_matches([' ', '\t']).is_empty() {
            break;
        }
        count += 1;
        at = crate::text::after_break(text, end);
    }
    count
}

/// The end of the `lines`-th blank line after the line ending at `content_end` (before its
/// line break): a kept block scalar's blank lines are part of it, so whatever is written
/// after the scalar goes below them.
fn kept_lines_end(text: &str, content_end: usize, lines: usize) -> usize {
    let mut end = content_end;
    for _ in 0..lines {
        let next = crate::text::after_break(text, crate::text::line_end(text, end));
        if next >= text.len() {
            break;
        }
        end = crate::text::line_end(text, next);
    }
    end
}

/// Where the anchor and tag written on the same line before the node at `at` begin (`at`
/// when there are none).
pub fn properties_start(text: &str, at: usize) -> usize {
    let mut start = at;
    loop {
        let before = text[..start].trim_end_matches([' ', '\t']);
        let token = before
            .rfind([' ', '\t', '\n', '\r', '{', '[', ','])
            .map_or(0, |i| i + 1);
        if token < before.len() && before[token..].starts_with(['&', '!']) {
            start = token;
        } else {
            return start;
        }
    }
}

/// Where the anchor or tag of an empty value ends, found back from `next` (what follows the
/// value) over white space, line breaks and comments; `None` when what is there is neither.
fn properties_end(text: &str, next: usize) -> Option<usize> {
    let mut at = next;
    loop {
        at = text[..at].trim_end_matches([' ', '\t']).len();
        // A block sequence's `-` belongs to the item that follows (saphyr places an empty
        // list item at the next item's content, after its `- `).
        if text[..at].ends_with('-')
            && (at == 1 || text[..at - 1].ends_with([' ', '\t', '\n', '\r']))
        {
            at -= 1;
            continue;
        }
        if !text[..at].ends_with(['\n', '\r']) {
            break;
        }
        let line_end = text[..at].trim_end_matches(['\n', '\r']).len();
        let line_start = crate::text::line_start(text, line_end);
        let line = &text[line_start..line_end];
        let code = crate::text::before_comment(line);
        at = line_start + code.len();
        if !code.trim().is_empty() {
            at = text[..at].trim_end_matches([' ', '\t']).len();
            break;
        }
    }
    let token_start = text[..at]
        .rfind([' ', '\t', '\n', '\r', '{', '[', ','])
        .map_or(0, |i| i + 1);
    text[token_start..at].starts_with(['&', '!']).then_some(at)
}

/// Where a mapping entry's text ends: after its value, or after the `:` when the value is
/// empty (an empty value's position is that of whatever follows).
pub fn entry_end(text: &str, key: &Node, value: &Node) -> usize {
    if value.is_empty_null() && value.anchor == 0 && value.tag.is_none() {
        colon_after(text, key).map_or(key.end, |c| c + 1)
    } else {
        value.end.max(key.end)
    }
}

/// The byte offset of the `:` that follows a mapping key.
pub fn colon_after(text: &str, key: &Node) -> Option<usize> {
    let rest = &text[key.end..];
    let skipped = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    rest[skipped..]
        .starts_with(':')
        .then_some(key.end + skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        parse(text).unwrap().remove(0).unwrap()
    }

    #[test]
    fn spans_cover_content_only() {
        let text = "a: 1   # c\nb:\n  - p\n  - |\n    script\n\n  - q  # t\nc: {k: [1, 2]}\nd:\n";
        let doc = root(text);
        let b = doc.get("b").unwrap();
        assert_eq!(&text[b.start..b.end], "- p\n  - |\n    script\n\n  - q");
        let script = &b.items().unwrap()[1];
        assert_eq!(&text[script.start..script.end], "script");
        let c = doc.get("c").unwrap();
        assert_eq!(&text[c.start..c.end], "{k: [1, 2]}");
        let (k, v) = doc.entry("d").unwrap();
        assert_eq!(&text[..entry_end(text, k, v)], text.trim_end());
        assert_eq!(&text[doc.start..doc.end], text.trim_end());
    }

    #[test]
    fn positions_are_bytes_and_errors_have_lines() {
        let text = "é: →\nx: [a, b]\n";
        let doc = root(text);
        let x = doc.get("x").unwrap();
        assert_eq!(&text[x.start..x.end], "[a, b]");
        assert_eq!(x.line, 2);
        let err = parse("a: [1\nb: 2\n").unwrap_err();
        assert!(err.line >= 1, "{err}");
    }

    #[test]
    fn documents_and_aliases() {
        let docs = parse("---\na: &x 1\nb: *x\n---\n---\nc: 2\n").unwrap();
        assert_eq!(docs.len(), 3);
        assert!(docs[1].is_none());
        let a = docs[0].as_ref().unwrap();
        let id = a.get("a").unwrap().anchor;
        assert_ne!(id, 0);
        assert_eq!(a.get("b").unwrap().body, Body::Alias(id));
    }

    #[test]
    fn an_empty_value_with_an_anchor_or_tag_ends_right_after_them() {
        // saphyr places it at whatever follows; its entry must not reach over that.
        let items = |text: &str| {
            let root = root(text);
            let list = root.get("l").unwrap().items().unwrap().to_vec();
            list.iter().map(|n| (n.start, n.end)).collect::<Vec<_>>()
        };
        assert_eq!(items("l:\n- a: &c\n- b\n"), [(5, 10), (13, 14)]);
        assert_eq!(
            items("l:\n- a: !t # note\n  # more\n\n- b\n"),
            [(5, 10), (30, 31)]
        );
        assert_eq!(items("l:\n- a: &c"), [(5, 10)]);
        assert_eq!(items("l: [{a: &c }, b]\n"), [(4, 12), (14, 15)]);
        // An empty list item is placed after the next item's `- `: it ends right after its
        // anchor or tag, before that `-`.
        assert_eq!(items("l:\n- &c\n- kind: x\n"), [(7, 7), (10, 17)]);
        assert_eq!(items("l:\n- !t\n  # note\n- - b\n"), [(7, 7), (19, 22)]);
        assert_eq!(items("l:\n- &c\n-\n"), [(7, 7), (9, 9)]);
    }

    #[test]
    fn a_key_starts_at_its_anchor_and_tag() {
        // They set the mapping's indentation: the first key's column is where they start.
        let text = "spec:\n &a !!str  containers: 1\n b: 2\n";
        let spec = root(text).get("spec").unwrap().clone();
        let Body::Map { entries, .. } = &spec.body else {
            panic!("a map")
        };
        assert_eq!(
            &text[entries[0].0.start..entries[0].0.end],
            "&a !!str  containers"
        );
        assert_eq!(&text[entries[1].0.start..entries[1].0.end], "b");
        let text = "- !x k: 1\n  j: {!y m: 2}\n";
        let docs = parse(text).unwrap();
        let item = &docs[0].as_ref().unwrap().items().unwrap()[0];
        let Body::Map { entries, .. } = &item.body else {
            panic!("a map")
        };
        assert_eq!(&text[entries[0].0.start..entries[0].0.end], "!x k");
        let Body::Map { entries, .. } = &entries[1].1.body else {
            panic!("a map")
        };
        assert_eq!(&text[entries[0].0.start..entries[0].0.end], "!y m");
    }
}
