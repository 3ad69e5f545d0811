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

/// Offset of the line break ending the line holding `offset` (its `\r` in a `\r\n` pair; the
/// text's end on the last line).
pub fn line_end(text: &str, offset: usize) -> usize {
    text[offset..].find('\n').map_or(text.len(), |nl| {
        let at = offset + nl;
        if at > offset && text.as_bytes()[at - 1] == b'\r' {
            at - 1
        } else {
            at
        }
    })
}

/// Offset just past the line break at `line_end` (as returned by [`line_end`]).
pub fn after_break(text: &str, line_end: usize) -> usize {
    let rest = &text.as_bytes()[line_end..];
    line_end
        + if rest.starts_with(b"\r\n") {
            2
        } else {
            usize::from(!rest.is_empty())
        }
}

/// Offset of the line break that ends the line before the one starting at `line_start`.
pub fn break_before(text: &str, line_start: usize) -> usize {
    if line_start >= 2 && &text.as_bytes()[line_start - 2..line_start] == b"\r\n" {
        line_start - 2
    } else {
        line_start.saturating_sub(1)
    }
}

/// A line without its comment, which starts with `#` at the line's start or after white space
/// (a line holding a quoted `#` must not be given here).
pub fn before_comment(line: &str) -> &str {
    line.char_indices()
        .find(|&(i, c)| c == '#' && (i == 0 || line[..i].ends_with([' ', '\t'])))
        .map_or(line, |(i, _)| &line[..i])
}

/// The offset of the `-` that opens the block list item whose content starts at `at`. It is
/// usually on the same line (`- name: a`), but a comment or nothing may follow the dash, the
/// content then starting on a line below (`- # the first step`), with only blank or comment
/// lines between. `None` when no dash precedes the content that way (not a block item).
pub fn block_item_dash(text: &str, at: usize) -> Option<usize> {
    let mut end = at;
    loop {
        let ls = line_start(text, end);
        let line = &text[ls..end];
        let code = before_comment(line).trim_end();
        if let Some(before) = code.strip_suffix('-') {
            let opens_item = before.is_empty() || before.ends_with([' ', '\t']);
            let only_dashes = before.chars().all(|c| matches!(c, '-' | ' ' | '\t'));
            return (opens_item && (end == at || only_dashes)).then_some(ls + before.len());
        }
        if !code.trim_start().is_empty() || ls == 0 {
            return None;
        }
        end = break_before(text, ls);
    }
}

/// Whether the text ends its lines with `\r\n`, so that lines written into it must too.
pub fn uses_crlf(text: &str) -> bool {
    text.find('\n')
        .is_some_and(|nl| nl > 0 && text.as_bytes()[nl - 1] == b'\r')
}

/// `inserted` with every bare `\n` written as `\r\n`.
pub fn to_crlf(inserted: &str) -> String {
    let mut out = String::with_capacity(inserted.len() + inserted.len() / 16);
    let mut prev = '\0';
    for c in inserted.chars() {
        if c == '\n' && prev != '\r' {
            out.push('\r');
        }
        out.push(c);
        prev = c;
    }
    out
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

    #[test]
    fn crlf_line_breaks() {
        let t = "ab\r\ncd\r\n";
        assert_eq!(line_end(t, 0), 2);
        assert_eq!(after_break(t, 2), 4);
        assert_eq!(break_before(t, 4), 2);
        assert_eq!(line_end(t, 2), 2);
        assert!(uses_crlf(t) && !uses_crlf("a\nb\r\n"));
        assert_eq!(to_crlf("x\ny\r\nz\n"), "x\r\ny\r\nz\r\n");
        assert_eq!(after_break("ab\ncd", 2), 3);
        assert_eq!(after_break("ab", 2), 2);
    }

    #[test]
    fn a_block_items_dash_on_its_line_or_above_a_comment() {
        let dash = |t: &str, content: &str| block_item_dash(t, t.find(content).unwrap());
        assert_eq!(dash("  - name: a\n", "name"), Some(2));
        assert_eq!(dash("- - a\n", "a"), Some(2));
        assert_eq!(dash("  - # first\n    name: a\n", "name"), Some(2));
        assert_eq!(dash("  -\n    name: a\n", "name"), Some(2));
        let crlf = "  - # first\r\n\r\n    # more\r\n    name: a\r\n";
        assert_eq!(dash(crlf, "name"), Some(2));
        // Not an item: a key above, a comment-only line with no dash, the text's start.
        assert_eq!(dash("  key:\n    name: a\n", "name"), None);
        assert_eq!(dash("  # - no\n  name: a\n", "name"), None);
        assert_eq!(dash("name: a\n", "name"), None);
        assert_eq!(dash("  x: a -\n    name: a\n", "name"), None);
    }
}
