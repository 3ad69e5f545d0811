//! Building the syntax tree of a Pod, Job or CronJob from the scan's own events, one root
//! entry at a time, for as long as the object may be one the sink takes: the tree is given
//! away whole or dropped as soon as the object turns out not to qualify.

use super::extent::is_empty_at;
use super::select::{field_of_node, is_workload_kind};
use super::{Found, Scanner, Summary};
use crate::yaml::tree::{Body, Node, SyntaxError};
use saphyr_parser::{Event, Span};

impl<'t> Scanner<'_, 't> {
    /// Gives the sink the tree of a scanned object, when one was built for all of it; says
    /// whether it did.
    pub(super) fn hand_over(&mut self, found: &Found<'t>, tree: Tree, flow: bool) -> bool {
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
    pub(super) fn entry(
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
            let end = crate::yaml::tree::entry_end(self.text, &k, &v);
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
    pub(super) fn note_tree(&mut self, node: &Node) -> bool {
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
}

/// An object's root entries while its tree is built.
pub(super) struct Tree {
    /// Whether every root entry so far went into `list` (false once the object cannot be
    /// handed over: it is then only scanned).
    pub(super) building: bool,
    list: Vec<(Node, Node)>,
}

impl Tree {
    /// An empty tree to build, or (`building` false) none: the object is only scanned.
    pub(super) fn new(building: bool) -> Self {
        Tree {
            building,
            list: Vec::new(),
        }
    }

    /// The entries, when the whole object was built and it is a Pod, Job or CronJob.
    fn entries(self, summary: &Summary<'_>) -> Option<Vec<(Node, Node)>> {
        (self.building && summary.kind.as_ref().is_some_and(is_workload_kind)).then_some(self.list)
    }
}
