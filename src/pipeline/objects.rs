//! Every object's outcome gathered into edits and reports: the objects converted during the
//! scan (already processed, nothing of them kept but their new text) merged with the ones the
//! scan kept, in input order; no edit at all when any object has an error.

use super::Edit;
use crate::config::Spec as Config;
use crate::object::{self, Operation, Reports};
use crate::source::Located;
use crate::spill::{Text, Texts};

/// What processing every object gave.
#[derive(Default)]
pub(super) struct Processed {
    pub(super) edits: Vec<Edit>,
    pub(super) texts: Texts,
    pub(super) reports: Reports,
    pub(super) workloads: usize,
    pub(super) selected: usize,
}

/// Objects converted during the scan (the scan keeps nothing of them), with their new texts
/// and reports already stored.
#[derive(Default)]
pub(super) struct Eager {
    texts: Texts,
    reports: Reports,
    done: Vec<Done>,
}

/// What became of one object converted during the scan.
struct Done {
    range: std::ops::Range<usize>,
    text: Option<Text>,
    is_workload: bool,
    touched: bool,
}

impl Eager {
    pub(super) fn push(&mut self, range: std::ops::Range<usize>, outcome: object::Outcome) {
        for report in &outcome.reports {
            self.reports.push(range.start, report);
        }
        self.done.push(Done {
            text: outcome.text.map(|t| self.texts.store(t)),
            range,
            is_workload: outcome.is_workload,
            touched: outcome.touched,
        });
    }
}

/// The text edits for every object, or none at all when any object has an error. `objects`
/// are the ones the scan kept; `eager` has the others, already processed.
pub(super) fn process_all(
    text: &str,
    objects: &[Located],
    op: Operation,
    config: &Config,
    json: bool,
    eager: Eager,
) -> Processed {
    let Eager {
        texts,
        reports,
        mut done,
    } = eager;
    let mut out = Processed {
        texts,
        reports,
        ..Processed::default()
    };
    // An object's items are handed over before the object itself. Those handed over from
    // inside another object (the `items` of a document that is no List) are not objects:
    // dropped with their reports.
    done.sort_by_key(|d| d.range.start);
    let inside_kept = |at: usize| {
        let before = objects.partition_point(|o| o.range.start <= at);
        before > 0 && at < objects[before - 1].range.end
    };
    let mut not_objects = Vec::new();
    let mut covered = 0;
    // Collected into the allocation `done` had: a converted object is never held twice.
    out.edits = done
        .into_iter()
        .filter_map(|d| {
            if d.range.start < covered || inside_kept(d.range.start) {
                not_objects.push(d.range.start);
                return None;
            }
            covered = d.range.end;
            out.workloads += usize::from(d.is_workload);
            out.selected += usize::from(d.touched);
            Some((d.range, d.text?))
        })
        .collect();
    for obj in objects {
        let outcome = object::process(text, obj, op, config, json, None);
        for report in &outcome.reports {
            out.reports.push(obj.range.start, report);
        }
        out.workloads += usize::from(outcome.is_workload);
        out.selected += usize::from(outcome.touched);
        if let Some(new_text) = outcome.text {
            out.edits
                .push((obj.range.clone(), out.texts.store(new_text)));
        }
    }
    if !not_objects.is_empty() {
        out.reports
            .retain_positions(|p| not_objects.binary_search(&p).is_err());
    }
    out.reports.order_by_position();
    if out.reports.has_errors() {
        out.edits.clear();
        out.texts = Texts::default();
    }
    out
}
