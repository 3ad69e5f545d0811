//! One pass over the whole input that finds every object and reads only what selecting it
//! takes (apiVersion, kind, name, namespace, a few annotations). No tree is kept for objects
//! that are only copied, so memory stays near the input's size, and their bytes are never
//! re-emitted, so big integers, custom tags and odd styles in them pass through untouched.

mod build;
mod extent;
mod select;

use super::tree::{Builder, Node, SyntaxError, flow_end, properties_start};
use crate::text::column;
use build::Tree;
use extent::is_empty_at;
use saphyr_parser::{Event, Span};
use select::Level;
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
    /// The mapping that starts at `start`, before any of it is read: its range ends there,
    /// and scanning it fills in the rest.
    fn at(text: &str, start: usize, line: usize, index: usize) -> Self {
        Found {
            range: start..start,
            column: column(text, start),
            line,
            is_mapping: true,
            shape: "a mapping",
            summary: Summary::default(),
            exported_anchors: vec![],
            imports_alias: false,
            index,
        }
    }

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

impl<'t> Document<'t> {
    /// A document whose root is `root`, with nothing of a list read yet.
    fn new(number: usize, root: Found<'t>, flow: bool) -> Self {
        Document {
            number,
            root,
            items: None,
            items_handed_over: 0,
            root_handed_over: false,
            repeated_key: None,
            items_shape: None,
            function_config: None,
            results_entry: None,
            flow,
        }
    }
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
            let mut root = Found::at(self.text, start, line, 0);
            root.is_mapping = false;
            root.shape = shape;
            root.range.end = self.skip(event, span, 0)?;
            root.start_no_later_than_end(self.text);
            return Ok(Some(Document::new(doc_index, root, false)));
        }
        self.owner = Some((doc_index, None));
        self.note_anchor(&event, start);
        let plain_root = matches!(event, Event::MappingStart(0, None));
        let flow = span.end.index() > span.start.index();
        let mut doc = Document::new(doc_index, Found::at(self.text, start, line, 0), flow);
        let mut seen: Vec<String> = Vec::new();
        let mut structural: Vec<&'static str> = Vec::new();
        let mut last_end = start;
        let mut tree = Tree::new(self.sink.is_some() && plain_root);
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
            let mut key_start = self.b.offsets.byte(key_span.start.index());
            if matches!(key, Event::Scalar(_, _, anchor, ref tag) if anchor != 0 || tag.is_some()) {
                key_start = properties_start(self.text, key_start);
            }
            let name = self.key_name(&key, &mut doc.root.summary, &mut seen);
            if let Some(&key) = STRUCTURAL_KEYS
                .iter()
                .find(|k| name.as_deref() == Some(**k))
            {
                if structural.contains(&key) {
                    doc.repeated_key.get_or_insert((key, key_span.start.line()));
                }
                structural.push(key);
                tree = Tree::new(false);
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
        let mut found = Found::at(self.text, start, line, index);
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
        let mut tree = Tree::new(true);
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
}
