//! The ResourceList's `results` entry, written as edits of the input: one report at a time,
//! in pieces, so that ten thousand results are never one string in memory.

use super::Edit;
use crate::object::Reports;
use crate::results;
use crate::spill::Texts;

/// The edit that puts the results into the ResourceList: it replaces an existing `results`
/// entry, or is appended as the last entry of the top mapping. Either way the line structure
/// around it is kept: a replaced or appended block entry ends with a newline exactly when the
/// text it follows did.
pub(super) fn results_edits(
    text: &str,
    reports: &Reports,
    (results_entry, top, flow): (Option<std::ops::Range<usize>>, std::ops::Range<usize>, bool),
    texts: &mut Texts,
    edits: &mut Vec<Edit>,
) {
    let end = results_entry.as_ref().map_or(top.end, |r| r.end);
    // At the end of an empty line (a kept block scalar's last blank line), the line is not
    // over: the results go on a line of their own after it.
    let ends_line = text[..end].ends_with('\n') && !text[end..].starts_with(['\n', '\r']);
    let (range, before, after) = match (results_entry, flow) {
        (Some(r), false) if ends_line => (r, "", "\n"),
        (Some(r), _) => (r, "", ""),
        // `top` ends at the closing brace of the flow mapping.
        (None, true) => (top.end - 1..top.end - 1, ", ", ""),
        (None, false) if ends_line => (top.end..top.end, "", "\n"),
        (None, false) => (top.end..top.end, "\n", ""),
    };
    let mut pieces = Pieces {
        texts,
        edits,
        range,
        first: true,
        buf: String::from(before),
    };
    let written = if flow {
        results::write_flow_entry(reports.iter(), &mut pieces)
    } else {
        results::write_block_entry(reports.iter(), &mut pieces)
    };
    written.expect("writing to memory cannot fail");
    pieces.buf.push_str(after);
    pieces.store();
}

/// A long text stored in pieces, each an edit at the same place of the input (the first one
/// replaces the range), so that ten thousand results are never one string in memory.
struct Pieces<'p> {
    texts: &'p mut Texts,
    edits: &'p mut Vec<Edit>,
    range: std::ops::Range<usize>,
    first: bool,
    buf: String,
}

impl Pieces<'_> {
    const SIZE: usize = 64 << 10;

    fn store(&mut self) {
        let range = if std::mem::take(&mut self.first) {
            self.range.clone()
        } else {
            self.range.end..self.range.end
        };
        let piece = std::mem::take(&mut self.buf);
        self.edits.push((range, self.texts.store(piece)));
    }
}

impl std::fmt::Write for Pieces<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.buf.push_str(s);
        if self.buf.len() >= Self::SIZE {
            self.store();
        }
        Ok(())
    }
}
