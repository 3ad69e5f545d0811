//! Small helpers on positions in a text: lines, columns, and applying splices.

use std::ops::Range;

/// Column (0-based, in bytes) of `offset`.
pub fn column(text: &str, offset: usize) -> usize {
    offset - line_start(text, offset)
}

/// Offset of the first byte of the line holding `offset`.
pub fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |nl| nl + 1)
}

/// Offset of the `\n` ending the line holding `offset` (the text's end on the last line).
pub fn line_end(text: &str, offset: usize) -> usize {
    text[offset..]
        .find('\n')
        .map_or(text.len(), |nl| offset + nl)
}

/// 1-based line number of `offset`.
pub fn line_of(text: &str, offset: usize) -> usize {
    1 + text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Replaces ranges of `text`. Edits are applied in order of position; at one position an
/// insertion comes before a replacement starting there, and insertions keep their order.
pub fn splice(text: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(r, _)| (r.start, r.end));
    let extra: usize = edits.iter().map(|(_, t)| t.len()).sum();
    let mut out = String::with_capacity(text.len() + extra);
    let mut at = 0;
    for (range, new_text) in edits {
        let start = range.start.max(at);
        out.push_str(&text[at..start]);
        out.push_str(&new_text);
        at = range.end.max(at);
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insertions_before_replacements_at_one_place() {
        let t = "abcdef";
        let out = splice(
            t,
            vec![(2..4, "X".into()), (2..2, "1".into()), (2..2, "2".into())],
        );
        assert_eq!(out, "ab12Xef");
        assert_eq!(column("ab\ncd", 4), 1);
        assert_eq!(line_end("ab\ncd", 1), 2);
        assert_eq!(line_of("a\nb\nc", 4), 3);
    }
}
