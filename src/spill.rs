//! Where a run keeps the converted texts until it knows every object succeeded. The
//! all-or-nothing rule means nothing reaches stdout before the last object is done, so a
//! stream where every object is converted would otherwise hold its whole output in memory
//! (several times the input). Past a small budget the texts go to an anonymous temporary
//! file instead, and are copied out from there: memory stays near the input's size.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Texts up to this many bytes in total stay in memory; later ones go to the file.
pub const MEMORY_BUDGET: usize = 1 << 18;

/// How much the file is written and read at a time: a stream of small objects then costs a
/// system call per this many bytes, not one per object (or four: seek, copy, and the two
/// file-type checks `io::copy` makes).
const CHUNK: usize = 1 << 16;

/// One stored text.
#[derive(Debug)]
pub enum Text {
    /// Kept in memory.
    Inline(String),
    /// Written to the spill file at `offset`; `last` is its final byte (to know whether it
    /// ends a line without reading it back).
    Spilled { offset: u64, len: usize, last: u8 },
}

/// The texts of one run.
#[derive(Debug, Default)]
pub struct Texts {
    inline_bytes: usize,
    file: Option<Spill>,
    /// The file could not be created or written (a read-only /tmp in a function
    /// container, a full disk): everything stays in memory.
    no_file: bool,
    written: u64,
}

/// The spill file with its two small buffers. A text lies wholly in the file or wholly in
/// `pending`, so reading never needs a flush (and works through `&self`).
#[derive(Debug)]
struct Spill {
    file: File,
    /// Bytes in the file; texts at or past this offset are in `pending`.
    flushed: u64,
    /// Stored texts not yet written to the file, at most [`CHUNK`] bytes.
    pending: Vec<u8>,
    /// The last chunk read back: texts are written out in the order they were stored, so
    /// one read serves the many small texts that follow.
    ahead: RefCell<ReadAhead>,
}

#[derive(Debug, Default)]
struct ReadAhead {
    start: u64,
    bytes: Vec<u8>,
}

impl Texts {
    /// Stores `text`, in memory while the budget lasts.
    pub fn store(&mut self, text: String) -> Text {
        if self.inline_bytes + text.len() <= MEMORY_BUDGET || self.no_file || text.is_empty() {
            self.inline_bytes += text.len();
            return Text::Inline(text);
        }
        match self.append(text.as_bytes()) {
            Ok(offset) => Text::Spilled {
                offset,
                len: text.len(),
                last: *text.as_bytes().last().expect("not empty"),
            },
            Err(_) => {
                self.no_file = true;
                self.inline_bytes += text.len();
                Text::Inline(text)
            }
        }
    }

    fn append(&mut self, bytes: &[u8]) -> io::Result<u64> {
        if self.file.is_none() {
            self.file = Some(Spill {
                file: tempfile::tempfile()?,
                flushed: 0,
                pending: Vec::new(),
                ahead: RefCell::default(),
            });
        }
        let spill = self.file.as_mut().expect("just created");
        let offset = self.written;
        if spill.pending.len() + bytes.len() > CHUNK {
            spill.file.write_all(&spill.pending)?;
            spill.flushed += spill.pending.len() as u64;
            spill.pending.clear();
        }
        if bytes.len() > CHUNK {
            spill.file.write_all(bytes)?;
            spill.flushed += bytes.len() as u64;
        } else {
            spill.pending.extend_from_slice(bytes);
        }
        self.written += bytes.len() as u64;
        Ok(offset)
    }

    /// Copies a stored text to `w`.
    pub fn write(&self, text: &Text, w: &mut impl Write) -> io::Result<()> {
        match text {
            Text::Inline(s) => w.write_all(s.as_bytes()),
            Text::Spilled { offset, len, .. } => {
                let spill = self.file.as_ref().ok_or_else(|| {
                    io::Error::other("a spilled text has no spill file (internal error)")
                })?;
                spill.write(*offset, *len, w)
            }
        }
    }

    /// Whether a stored text ends with `\n`.
    pub fn ends_with_newline(text: &Text) -> bool {
        match text {
            Text::Inline(s) => s.ends_with('\n'),
            Text::Spilled { last, .. } => *last == b'\n',
        }
    }

    /// Bytes written to the spill file (0 when everything stayed in memory).
    pub fn spilled_bytes(&self) -> u64 {
        self.written
    }
}

impl Spill {
    fn write(&self, offset: u64, len: usize, w: &mut impl Write) -> io::Result<()> {
        if offset >= self.flushed {
            let at = (offset - self.flushed) as usize;
            let bytes = self.pending.get(at..at + len).ok_or_else(short)?;
            return w.write_all(bytes);
        }
        let mut ahead = self.ahead.borrow_mut();
        let end = offset + len as u64;
        let held = ahead.start..ahead.start + ahead.bytes.len() as u64;
        if !(held.start <= offset && end <= held.end) {
            let want = (len.max(CHUNK) as u64).min(self.flushed - offset) as usize;
            if want < len {
                return Err(short());
            }
            ahead.bytes.clear();
            ahead.bytes.resize(want, 0);
            let read = (&self.file)
                .seek(SeekFrom::Start(offset))
                .and_then(|_| (&self.file).read_exact(&mut ahead.bytes));
            if let Err(e) = read {
                // Nothing half-read may serve a later text.
                ahead.bytes.clear();
                return Err(match e.kind() {
                    io::ErrorKind::UnexpectedEof => short(),
                    _ => e,
                });
            }
            ahead.start = offset;
        }
        let at = (offset - ahead.start) as usize;
        w.write_all(&ahead.bytes[at..at + len])
    }
}

fn short() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the spill file is shorter than what was written to it",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_past_the_budget_come_back_from_the_file() {
        let mut texts = Texts::default();
        let big = "x".repeat(MEMORY_BUDGET - 10) + "\n";
        let first = texts.store(big.clone());
        assert!(matches!(first, Text::Inline(_)));
        let spilled: Vec<Text> = (0..3)
            .map(|i| texts.store(format!("object {i}\nend")))
            .collect();
        assert!(spilled.iter().all(|t| matches!(t, Text::Spilled { .. })));
        assert!(texts.spilled_bytes() > 0);
        let mut out = Vec::new();
        texts.write(&spilled[1], &mut out).unwrap();
        texts.write(&first, &mut out).unwrap();
        texts.write(&spilled[0], &mut out).unwrap();
        let expected = format!("object 1\nend{big}object 0\nend");
        assert_eq!(String::from_utf8(out).unwrap(), expected);
        assert!(!Texts::ends_with_newline(&spilled[2]));
        assert!(Texts::ends_with_newline(&first));
    }

    /// Texts of every size around the chunk: buffered, flushed, written past the buffer,
    /// read back in order (through the read-ahead) and out of order (missing it).
    #[test]
    fn buffered_and_flushed_texts_come_back_in_any_order() {
        let mut texts = Texts::default();
        texts.store("x".repeat(MEMORY_BUDGET));
        let sizes = [
            1,
            100,
            CHUNK - 1,
            7,
            CHUNK,
            CHUNK + 1,
            3,
            5 * CHUNK / 2,
            40,
            1,
        ];
        let wanted: Vec<String> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let c = char::from(b'a' + i as u8);
                format!("{}\n", c.to_string().repeat(n - 1))
            })
            .collect();
        let stored: Vec<Text> = wanted.iter().map(|t| texts.store(t.clone())).collect();
        assert!(stored.iter().all(|t| matches!(t, Text::Spilled { .. })));
        let spill = texts.file.as_ref().unwrap();
        assert!(spill.flushed > 0 && !spill.pending.is_empty());
        for order in [
            (0..sizes.len()).collect::<Vec<_>>(),
            (0..sizes.len()).rev().collect(),
            vec![3, 0, 9, 5, 5, 1, 8, 2],
        ] {
            for i in order {
                let mut out = Vec::new();
                texts.write(&stored[i], &mut out).unwrap();
                assert_eq!(String::from_utf8(out).unwrap(), wanted[i], "text {i}");
            }
        }
    }
}
