//! Mutations of a seed manifest, chosen by proptest so that failures shrink to few, small
//! edits. Positions are `Index`es, resolved against the input as it is when applied.

use proptest::prelude::*;
use proptest::sample::Index;

/// YAML and JSON syntax, and words the converter cares about.
const SPLICES: &[&str] = &[
    "",
    "\n",
    " ",
    "  ",
    "- ",
    ": ",
    ":",
    ",",
    "{",
    "}",
    "[",
    "]",
    "{}",
    "[]",
    "'",
    "\"",
    "#",
    " # c",
    "&a ",
    "*a",
    "&a",
    "<<: *a\n",
    "!!str ",
    "!!binary ",
    "!custom ",
    "? ",
    "|",
    "|-",
    ">",
    "|+2",
    "---\n",
    "...\n",
    "--- |\n",
    "%YAML 1.1\n",
    "\t",
    "\r",
    "\r\n",
    "\\",
    "\\u00e9",
    "\u{0}",
    "\u{85}",
    "\u{feff}",
    "\u{2028}",
    "é",
    "🚀",
    "\u{301}",
    "\u{fffe}",
    "null",
    "~",
    "command: ",
    "args: ",
    "containers:\n",
    "kind: List\n",
    "items:\n",
    "kueueleuleu-bin",
    "/kueueleuleu/bin/kueueleuleu-step",
    "--",
    "kueueleuleu.io/sequential",
    "kind: ResourceList\n",
    "\"kind\": \"List\",",
    "apiVersion: batch/v1beta1\n",
];

/// Scalars that read differently in YAML 1.1 and 1.2, or are otherwise awkward.
const SCALARS: &[&str] = &[
    "on",
    "yes",
    "No",
    "OFF",
    "y",
    "0123",
    "1_000",
    "12:30",
    "0b101",
    "0x1F",
    "~",
    "null",
    "",
    "''",
    "\"\"",
    "18446744073709551616",
    "-1e400",
    ".nan",
    "!!int 3",
    "*a",
    "&a x",
    "|\n  x",
    "[a, b]",
    "{a: b}",
    "- x",
    "$(VAR)",
    "$$",
    "--",
    "'it''s'",
    "\"\\t\"",
];

/// Characters that stress decoders and line counting.
const CHARS: &[char] = &[
    '\u{feff}',
    '\u{85}',
    '\u{2028}',
    '\u{2029}',
    '\u{a0}',
    '\u{301}',
    '\u{1f680}',
    '\u{7f}',
    '\u{1b}',
    '\u{fffd}',
    'é',
    '日',
    '\t',
    '\u{0}',
];

#[derive(Debug, Clone)]
pub enum Mutation {
    /// Insert syntax at a byte.
    Splice(Index, &'static str),
    /// Add or remove spaces at the start of a line.
    Indent(Index, i8),
    /// Repeat a run of lines right after itself.
    Duplicate(Index, u8),
    /// Remove a line.
    Delete(Index),
    /// Exchange two lines.
    Swap(Index, Index),
    /// Cut the input at a byte.
    Truncate(Index),
    /// Insert an unusual character at a byte.
    Unicode(Index, char),
    /// Open (and maybe close) many flow or block collections at a byte.
    Nest(Index, u16, bool),
    /// Define an alias bomb at the top of the input and use it as the first `command:`.
    Bomb(u8, u8),
    /// Replace what follows the first `: ` or `- ` of a line with an awkward scalar.
    Scalar(Index, &'static str),
    /// Replace a byte with any byte (invalid UTF-8 included).
    Byte(Index, u8),
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    let i = any::<Index>;
    prop_oneof![
        3 => (i(), prop::sample::select(SPLICES)).prop_map(|(a, s)| Mutation::Splice(a, s)),
        2 => (i(), -4i8..=4).prop_map(|(a, n)| Mutation::Indent(a, n)),
        2 => (i(), 1u8..6).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        2 => i().prop_map(Mutation::Delete),
        1 => (i(), i()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        1 => i().prop_map(Mutation::Truncate),
        1 => (i(), prop::sample::select(CHARS)).prop_map(|(a, c)| Mutation::Unicode(a, c)),
        1 => (i(), 1u16..3000, any::<bool>()).prop_map(|(a, n, c)| Mutation::Nest(a, n, c)),
        1 => (1u8..12, 2u8..12).prop_map(|(l, w)| Mutation::Bomb(l, w)),
        3 => (i(), prop::sample::select(SCALARS)).prop_map(|(a, s)| Mutation::Scalar(a, s)),
        1 => (i(), any::<u8>()).prop_map(|(a, b)| Mutation::Byte(a, b)),
    ]
}

/// Byte offsets where lines start, and the end.
fn line_starts(input: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(
        input
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1)
            .filter(|i| *i < input.len()),
    );
    starts
}

fn line(input: &[u8], which: Index) -> (usize, usize) {
    let starts = line_starts(input);
    let n = which.index(starts.len());
    let end = starts.get(n + 1).copied().unwrap_or(input.len());
    (starts[n], end)
}

fn insert(input: &mut Vec<u8>, at: usize, what: &[u8]) {
    input.splice(at..at, what.iter().copied());
}

pub fn apply(input: &mut Vec<u8>, m: &Mutation) {
    match m {
        Mutation::Splice(at, s) => insert(input, at.index(input.len() + 1), s.as_bytes()),
        Mutation::Indent(at, n) => {
            let (start, _) = line(input, *at);
            if *n > 0 {
                insert(input, start, &vec![b' '; *n as usize]);
            } else {
                let spaces = input[start..].iter().take_while(|b| **b == b' ').count();
                input.drain(start..start + spaces.min(n.unsigned_abs() as usize));
            }
        }
        Mutation::Duplicate(at, n) => {
            let starts = line_starts(input);
            let first = at.index(starts.len());
            let last = (first + *n as usize).min(starts.len());
            let end = starts.get(last).copied().unwrap_or(input.len());
            let mut run = input[starts[first]..end].to_vec();
            if !run.ends_with(b"\n") {
                run.push(b'\n');
            }
            insert(input, end, &run);
        }
        Mutation::Delete(at) => {
            let (start, end) = line(input, *at);
            input.drain(start..end);
        }
        Mutation::Swap(a, b) => {
            let (a, b) = (line(input, *a), line(input, *b));
            let (first, second) = if a.0 <= b.0 { (a, b) } else { (b, a) };
            if first.1 <= second.0 {
                let mut out = input[..first.0].to_vec();
                out.extend_from_slice(&input[second.0..second.1]);
                out.extend_from_slice(&input[first.1..second.0]);
                out.extend_from_slice(&input[first.0..first.1]);
                out.extend_from_slice(&input[second.1..]);
                *input = out;
            }
        }
        Mutation::Truncate(at) => input.truncate(at.index(input.len() + 1)),
        Mutation::Unicode(at, c) => {
            let mut buf = [0; 4];
            insert(
                input,
                at.index(input.len() + 1),
                c.encode_utf8(&mut buf).as_bytes(),
            );
        }
        Mutation::Nest(at, depth, close) => {
            let depth = *depth as usize;
            let at = at.index(input.len() + 1);
            let mut text = match depth % 3 {
                0 => "[".repeat(depth),
                1 => "{a: ".repeat(depth),
                _ => (0..depth.min(400))
                    .map(|d| format!("\n{}- ", " ".repeat(d)))
                    .collect(),
            };
            if *close {
                text.push('x');
                text.push_str(&match depth % 3 {
                    0 => "]".repeat(depth),
                    1 => "}".repeat(depth),
                    _ => String::new(),
                });
            }
            insert(input, at, text.as_bytes());
        }
        Mutation::Bomb(levels, width) => {
            let mut defs = String::from("x-b0: &b0 [lol]\n");
            for l in 1..=*levels {
                let refs = vec![format!("*b{}", l - 1); *width as usize].join(", ");
                defs.push_str(&format!("x-b{l}: &b{l} [{refs}]\n"));
            }
            let text = String::from_utf8_lossy(input).into_owned();
            let used = match text.find("command:") {
                Some(at) => {
                    let end = text[at..].find('\n').map_or(text.len(), |e| at + e);
                    format!("{}command: *b{levels}{}", &text[..at], &text[end..])
                }
                None => text,
            };
            *input = format!("{defs}{used}").into_bytes();
        }
        Mutation::Scalar(at, s) => {
            let (start, end) = line(input, *at);
            let row = &input[start..end];
            let cut = row
                .windows(2)
                .position(|w| w == b": " || w == b"- ")
                .map(|p| start + p + 2);
            if let Some(cut) = cut {
                let stop = if input[end - 1] == b'\n' {
                    end - 1
                } else {
                    end
                };
                input.splice(cut..stop.max(cut), s.bytes());
            }
        }
        Mutation::Byte(at, b) => {
            if !input.is_empty() {
                let i = at.index(input.len());
                input[i] = *b;
            }
        }
    }
}
