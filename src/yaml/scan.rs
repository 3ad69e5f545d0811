//! One pass over the whole input that finds every object and reads only what selecting it
//! takes (apiVersion, kind, name, namespace, a few annotations). No tree is kept for objects
//! that are only copied, so memory stays near the input's size, and their bytes are never
//! re-emitted, so big integers, custom tags and odd styles in them pass through untouched.

use super::tree::{Body, Builder, Node, Style, SyntaxError, flow_end};
use crate::text::column;
use saphyr_parser::{Event, ScalarStyle, Span};
use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

/// Nesting deeper than this is refused: no Kubernetes object comes close, and recursion on
/// hostile input must not overflow the stack.
pub const MAX_DEPTH: usize = 256;

/// The keys a ResourceList or List is read by (not built into an object's tree).
const STRUCTURAL_KEYS: [&str; 3] = ["items", "functionConfig", "results"];

/// The annotation that selects an object.
pub const SELECTION: &str = "kueueleuleu.io/sequential";

/// A scalar read during the scan, with how it was written (a bare `true` is not `"true"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar<'t> {
    /// The value (borrowed from the input unless escapes or folding changed it).
    pub text: Cow<'t, str>,
    /// Unquoted: may be a boolean, a number or null rather than a string.
    pub plain: bool,
}

/// What selecting and naming an object takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary<'t> {
    /// Top-level `apiVersion`, when a scalar.
    pub api_version: Option<Scalar<'t>>,
    /// Top-level `kind`, when a scalar.
    pub kind: Option<Scalar<'t>>,
    /// The selection annotation's value. Names and the other annotations are read again
    /// only for objects that get a report, so that copied objects cost almost nothing.
    pub selection: Option<Scalar<'t>>,
    /// An alias, merge key, tag or repeated key on the path to these fields: only a full
    /// read of the object says what they are.
    pub needs_full_read: bool,
}

/// One mapping of the input that is (or may be) a Kubernetes object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<'t> {
    /// Bytes of the node's content.
    pub range: Range<usize>,
    /// Column of its first byte: the object is indented back by this much when cut out.
    pub column: usize,
    /// 1-based line where it starts.
    pub line: usize,
    /// Whether it is a mapping at all.
    pub is_mapping: bool,
    /// What a non-mapping node is, for messages.
    pub shape: &'static str,
    /// Read when it is a mapping.
    pub summary: Summary<'t>,
    /// Byte offsets of anchored nodes in it that other objects refer to by alias.
    pub exported_anchors: Vec<usize>,
    /// Whether it refers by alias to an anchor defined outside it.
    pub imports_alias: bool,
    /// Its position among the items of its list (0 for a document's root).
    pub index: usize,
}

impl Found<'_> {
    /// An empty value with an anchor or tag ends right after them, before the place saphyr
    /// gives it (whatever follows): start it there too, so that its range is never reversed
    /// and a message names its own line.
    fn start_no_later_than_end(&mut self, text: &str) {
        if self.range.end < self.range.start {
            self.range.start = self.range.end;
            self.line = crate::text::line_of(text, self.range.end);
            self.column = column(text, self.range.end);
        }
    }
}

/// A top-level document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document<'t> {
    /// 1-based position among all documents of the input, empty ones included.
    pub number: usize,
    /// The document's root.
    pub root: Found<'t>,
    /// When the root maps `items` to a list: each item, except those handed to the sink.
    pub items: Option<Vec<Found<'t>>>,
    /// How many of the items were handed to the sink (and are not in `items`).
    pub items_handed_over: usize,
    /// Whether the root was handed to the sink.
    pub root_handed_over: bool,
    /// The first of `items`, `functionConfig` and `results` that the root has twice, and the
    /// line of the second: a ResourceList or List like that means different things to
    /// different readers.
    pub repeated_key: Option<(&'static str, usize)>,
    /// When `items` is there but not a list: what it is.
    pub items_shape: Option<&'static str>,
    /// `functionConfig`'s value, when present.
    pub function_config: Option<Range<usize>>,
    /// The whole `results:` entry (key to end of value), when present.
    pub results_entry: Option<Range<usize>>,
    /// Whether the root is written `{...}` (JSON).
    pub flow: bool,
}

/// Every non-empty document of `text`, in order.
pub fn scan(text: &str) -> Result<Vec<Document<'_>>, SyntaxError> {
    scan_with(text, None, false)
}

/// Receives each Pod, Job or CronJob as soon as it is scanned, with its syntax tree built from
/// the same events (offsets into the whole input), so that it can be converted without being
/// parsed again and its tree dropped before the next object is read. Objects with anchors or
/// aliases are not passed: whether another object shares them is known only at the end.
/// What the sink takes is its own: the scan keeps nothing of it (not in `items`, and flagged
/// `root_handed_over`), so a stream of many converted objects costs no memory per object here.
pub type Sink<'s, 't> = &'s mut dyn FnMut(&Found<'t>, Node);

/// [`scan`], passing every workload object's tree to `sink` on the way; with
/// `only_annotated`, only objects whose metadata has the selection annotation (the others
/// would only be copied, so no tree is built for them).
pub fn scan_with<'t>(
    text: &'t str,
    sink: Option<Sink<'_, 't>>,
    only_annotated: bool,
) -> Result<Vec<Document<'t>>, SyntaxError> {
    let mut docs = Vec::new();
    scan_each(text, sink, only_annotated, &mut |doc| docs.push(doc))?;
    Ok(docs)
}

/// [`scan_with`], handing each document over as soon as it is read rather than keeping
/// them all: a stream of many small objects need not be held twice.
pub fn scan_each<'t>(
    text: &'t str,
    sink: Option<Sink<'_, 't>>,
    only_annotated: bool,
    each: &mut dyn FnMut(Document<'t>),
) -> Result<(), SyntaxError> {
    let mut s = Scanner {
        b: Builder::new(text),
        text,
        owner: None,
        anchors: HashMap::new(),
        aliases: Vec::new(),
        doc: 0,
        sink,
        only_annotated,
    };
    loop {
        let (event, span) = s.next()?;
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                s.doc += 1;
                let (event, span) = s.next()?;
                if matches!(event, Event::DocumentEnd) {
                    continue;
                }
                if let Some(mut doc) = s.document(event, span)? {
                    // Anchors belong to one document: its aliases are all known now.
                    s.link_aliases(std::slice::from_mut(&mut doc));
                    s.anchors.clear();
                    s.aliases.clear();
                    each(doc);
                }
                s.next()?;
            }
            _ => {
                let _ = span;
            }
        }
    }
    Ok(())
}

/// Which object (document index, item index) a node belongs to while scanning.
type Owner = (usize, Option<usize>);

struct Scanner<'s, 't> {
    b: Builder<'t>,
    text: &'t str,
    owner: Option<Owner>,
    /// (document, anchor id) -> owner and node offset.
    anchors: HashMap<(usize, usize), (Owner, usize)>,
    /// (document, anchor id, owner) of every alias.
    aliases: Vec<(usize, usize, Owner)>,
    doc: usize,
    sink: Option<Sink<'s, 't>>,
    only_annotated: bool,
}

/// saphyr reports an absent value as a plain `~` that is not written `~` in the text.
fn is_empty_at(text: &str, start: usize, event: &Event<'_>) -> bool {
    matches!(event, Event::Scalar(v, ScalarStyle::Plain, 0, None)
        if v.is_empty() || (v == "~" && !text[start..].starts_with('~')))
}

fn shape_of(event: &Event<'_>) -> &'static str {
    match event {
        Event::Scalar(..) => "a scalar",
        Event::SequenceStart(..) => "a list",
        Event::MappingStart(..) => "a mapping",
        Event::Alias(_) => "an alias",
        _ => "something else",
    }
}

impl<'t> Scanner<'_, 't> {
    fn next(&mut self) -> Result<(Event<'t>, Span), SyntaxError> {
        self.b.next()
    }

    fn document(
        &mut self,
        event: Event<'t>,
        span: Span,
    ) -> Result<Option<Document<'t>>, SyntaxError> {
        let doc_index = self.doc;
        let line = span.start.line();
        let start = self.b.offsets.byte(span.start.index());
        if !matches!(event, Event::MappingStart(..)) {
            if is_empty_at(self.text, start, &event) {
                self.skip(event, span, 0)?;
                return Ok(None);
            }
            let shape = shape_of(&event);
            self.owner = Some((doc_index, None));
            let end = self.skip(event, span, 0)?;
            let mut root = Found {
                range: start..end,
                column: column(self.text, start),
                line,
                is_mapping: false,
                shape,
                summary: Summary::default(),
                exported_anchors: vec![],
                imports_alias: false,
                index: 0,
            };
            root.start_no_later_than_end(self.text);
            return Ok(Some(Document {
                number: doc_index,
                root,
                items: None,
                items_handed_over: 0,
                root_handed_over: false,
                repeated_key: None,
                items_shape: None,
                function_config: None,
                results_entry: None,
                flow: false,
            }));
        }
        self.owner = Some((doc_index, None));
        self.note_anchor(&event, start);
        let plain_root = matches!(event, Event::MappingStart(0, None));
        let flow = span.end.index() > span.start.index();
        let mut doc = Document {
            number: doc_index,
            root: Found {
                range: start..start,
                column: column(self.text, start),
                line,
                is_mapping: true,
                shape: "a mapping",
                summary: Summary::default(),
                exported_anchors: vec![],
                imports_alias: false,
                index: 0,
            },
            items: None,
            items_handed_over: 0,
            root_handed_over: false,
            repeated_key: None,
            items_shape: None,
            function_config: None,
            results_entry: None,
            flow,
        };
        let mut seen: Vec<String> = Vec::new();
        let mut structural: Vec<&'static str> = Vec::new();
        let mut last_end = start;
        let mut tree = Tree {
            building: self.sink.is_some() && plain_root,
            list: Vec::new(),
        };
        loop {
            let (key, key_span) = self.next()?;
            if matches!(key, Event::MappingEnd) {
                last_end = if flow {
                    flow_end(self.text, self.b.offsets.byte(key_span.start.index()))
                } else {
                    last_end
                };
                break;
            }
            let key_start = self.b.offsets.byte(key_span.start.index());
            let name = self.key_name(&key, &mut doc.root.summary, &mut seen);
            if let Some(&key) = STRUCTURAL_KEYS
                .iter()
                .find(|k| name.as_deref() == Some(**k))
            {
                if structural.contains(&key) {
                    doc.repeated_key.get_or_insert((key, key_span.start.line()));
                }
                structural.push(key);
                tree = Tree {
                    building: false,
                    list: Vec::new(),
                };
            }
            if tree.building {
                last_end =
                    self.entry(name, (key, key_span), &mut doc.root.summary, &mut tree, 1)?;
                continue;
            }
            let key_end = self.skip(key, key_span, 1)?;
            let (value, value_span) = self.next()?;
            let empty = is_empty_at(
                self.text,
                self.b.offsets.byte(value_span.start.index()),
                &value,
            );
            let value_start = self.b.offsets.byte(value_span.start.index());
            let end = match name.as_deref() {
                Some("items") if matches!(value, Event::SequenceStart(..)) => {
                    let (items, handed, end) = self.items(value, value_span, doc_index)?;
                    self.owner = Some((doc_index, None));
                    doc.items = Some(items);
                    doc.items_handed_over = handed;
                    end
                }
                Some("items") if empty => {
                    doc.items = Some(Vec::new());
                    self.skip(value, value_span, 1)?
                }
                Some("items") => {
                    doc.items_shape = Some(shape_of(&value));
                    self.skip(value, value_span, 1)?
                }
                Some("functionConfig") => {
                    let end = self.skip(value, value_span, 1)?;
                    // An empty value with an anchor or tag ends right after them, before
                    // where saphyr places it: its text is then empty, never reversed.
                    doc.function_config = Some(value_start.min(end)..end);
                    end
                }
                Some("results") => {
                    let end = self.skip(value, value_span, 1)?;
                    doc.results_entry = Some(key_start..end.max(key_end));
                    end
                }
                Some(field) => self.field(field, value, value_span, &mut doc.root.summary, 1)?,
                None => self.skip(value, value_span, 1)?,
            };
            last_end = self.entry_end(empty, key_end, end);
        }
        doc.root.range = start..last_end;
        doc.root_handed_over = self.hand_over(&doc.root, tree, flow);
        Ok(Some(doc))
    }

    /// Reads a list of objects. Those handed to the sink are not kept: the sink has them.
    /// Returns the others, how many were handed over, and where the list ends.
    fn items(
        &mut self,
        event: Event<'t>,
        span: Span,
        doc_index: usize,
    ) -> Result<(Vec<Found<'t>>, usize, usize), SyntaxError> {
        let start = self.b.offsets.byte(span.start.index());
        self.note_anchor(&event, start);
        let flow = span.end.index() > span.start.index();
        let mut items = Vec::new();
        let (mut index, mut handed, mut last_end) = (0, 0, start);
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::SequenceEnd) {
                let end = if flow {
                    flow_end(self.text, self.b.offsets.byte(span.start.index()))
                } else {
                    last_end
                };
                return Ok((items, handed, end));
            }
            self.owner = Some((doc_index, Some(index)));
            let (found, handed_over) = self.object(event, span, index)?;
            index += 1;
            last_end = found.range.end;
            if handed_over {
                handed += 1;
            } else {
                items.push(found);
            }
        }
    }

    /// Reads one object's summary and finds where it ends; with a sink, also builds its tree
    /// while it may be a Pod, Job or CronJob, and hands the tree over. Says whether it did.
    fn object(
        &mut self,
        event: Event<'t>,
        span: Span,
        index: usize,
    ) -> Result<(Found<'t>, bool), SyntaxError> {
        let start = self.b.offsets.byte(span.start.index());
        let line = span.start.line();
        let mut found = Found {
            range: start..start,
            column: column(self.text, start),
            line,
            is_mapping: true,
            shape: "a mapping",
            summary: Summary::default(),
            exported_anchors: vec![],
            imports_alias: false,
            index,
        };
        let Event::MappingStart(anchor, tag) = &event else {
            found.is_mapping = false;
            found.shape = shape_of(&event);
            found.range.end = self.skip(event, span, 2)?;
            found.start_no_later_than_end(self.text);
            return Ok((found, false));
        };
        let plain_root = *anchor == 0 && tag.is_none();
        found.summary.needs_full_read |= !plain_root;
        if self.sink.is_none() || !plain_root {
            found.range.end = self.summarize(event, span, &mut found.summary, 2, Level::Object)?;
            return Ok((found, false));
        }
        let flow = span.end.index() > span.start.index();
        let mut tree = Tree::default();
        let mut seen: Vec<String> = Vec::new();
        let mut last_end = start;
        loop {
            let (key, key_span) = self.next()?;
            if matches!(key, Event::MappingEnd) {
                if flow {
                    last_end = flow_end(self.text, self.b.offsets.byte(key_span.start.index()));
                }
                break;
            }
            let name = self.key_name(&key, &mut found.summary, &mut seen);
            last_end = self.entry(name, (key, key_span), &mut found.summary, &mut tree, 3)?;
        }
        found.range.end = last_end;
        let handed_over = self.hand_over(&found, tree, flow);
        Ok((found, handed_over))
    }

    /// Gives the sink the tree of a scanned object, when one was built for all of it; says
    /// whether it did.
    fn hand_over(&mut self, found: &Found<'t>, tree: Tree, flow: bool) -> bool {
        if let Some(entries) = tree.entries(&found.summary)
            && let Some(sink) = self.sink.as_mut()
        {
            let root = Node {
                start: found.range.start,
                end: found.range.end,
                line: found.line,
                anchor: 0,
                tag: None,
                body: Body::Map { flow, entries },
            };
            sink(found, root);
            return true;
        }
        false
    }

    /// Reads one entry of an object's root mapping (its key event already read and named):
    /// into `tree` while it is being built, else only what selection needs. Returns where the
    /// entry ends.
    fn entry(
        &mut self,
        name: Option<String>,
        (key, key_span): (Event<'t>, Span),
        summary: &mut Summary<'t>,
        tree: &mut Tree,
        depth: usize,
    ) -> Result<usize, SyntaxError> {
        if tree.building {
            // Nodes nest from here: refused past MAX_DEPTH as `skip` refuses them.
            self.b.depth = depth;
            let k = self.b.node(key, key_span)?;
            let (value, value_span) = self.next()?;
            let v = self.b.node(value, value_span)?;
            self.b.depth = 0;
            let shared = self.note_tree(&k) | self.note_tree(&v);
            if let Some(field) = name.as_deref() {
                field_of_node(field, &v, summary);
            }
            let end = super::tree::entry_end(self.text, &k, &v);
            let unselected = self.only_annotated
                && name.as_deref() == Some("metadata")
                && summary.selection.is_none();
            tree.building = !shared
                && !unselected
                && !summary.needs_full_read
                && summary.kind.as_ref().is_none_or(is_workload_kind);
            if tree.building {
                tree.list.push((k, v));
            } else {
                tree.list = Vec::new();
            }
            return Ok(end);
        }
        let key_end = self.skip(key, key_span, depth)?;
        let (value, value_span) = self.next()?;
        let empty = is_empty_at(
            self.text,
            self.b.offsets.byte(value_span.start.index()),
            &value,
        );
        let end = match name.as_deref() {
            Some(field) => self.field(field, value, value_span, summary, depth)?,
            None => self.skip(value, value_span, depth)?,
        };
        Ok(self.entry_end(empty, key_end, end))
    }

    /// Records the anchors and aliases of a built node (as `skip` does for the ones it
    /// passes); true when there are any.
    fn note_tree(&mut self, node: &Node) -> bool {
        let mut any = false;
        node.walk(&mut |n| {
            if n.anchor != 0 || matches!(n.body, Body::Alias(_)) {
                any = true;
            }
        });
        if any {
            let mut marks = Vec::new();
            node.walk(&mut |n| {
                let alias = match n.body {
                    Body::Alias(id) => Some(id),
                    _ => None,
                };
                marks.push((n.anchor, n.start, alias));
            });
            for (anchor, start, alias) in marks {
                if anchor != 0 {
                    self.note_anchor(&Event::MappingStart(anchor, None), start);
                }
                if let Some(id) = alias {
                    self.note_anchor(&Event::Alias(id), start);
                }
            }
        }
        any
    }

    /// Walks a mapping at one of the levels that selection reads, and returns its end.
    fn summarize(
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
    fn field(
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
    fn key_name(
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

    fn scalar(
        &mut self,
        event: Event<'t>,
        span: Span,
        summary: &mut Summary<'t>,
        depth: usize,
    ) -> Result<(Option<Scalar<'t>>, usize), SyntaxError> {
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

    /// Consumes a node's events and returns where its content ends.
    fn skip(&mut self, event: Event<'t>, span: Span, depth: usize) -> Result<usize, SyntaxError> {
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
    fn entry_end(&self, empty: bool, key_end: usize, value_end: usize) -> usize {
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

    fn note_anchor(&mut self, event: &Event<'t>, offset: usize) {
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
    fn link_aliases(&self, docs: &mut [Document<'t>]) {
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

/// An object's root entries while its tree is built.
struct Tree {
    building: bool,
    list: Vec<(Node, Node)>,
}

impl Default for Tree {
    fn default() -> Self {
        Tree {
            building: true,
            list: Vec::new(),
        }
    }
}

impl Tree {
    /// The entries, when the whole object was built and it is a Pod, Job or CronJob.
    fn entries(self, summary: &Summary<'_>) -> Option<Vec<(Node, Node)>> {
        (self.building && summary.kind.as_ref().is_some_and(is_workload_kind)).then_some(self.list)
    }
}

/// The kinds that have a pod spec (their API version is checked later).
fn is_workload_kind(kind: &Scalar<'_>) -> bool {
    matches!(kind.text.as_ref(), "Pod" | "Job" | "CronJob")
}

/// What selection reads from a built root entry `field: value`, as [`Scanner::field`] reads
/// it from events.
fn field_of_node<'t>(field: &str, value: &Node, summary: &mut Summary<'t>) {
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
enum Level {
    Object,
    Metadata,
    Annotations,
}
