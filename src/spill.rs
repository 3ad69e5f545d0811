//! Where a run keeps the converted texts until it knows every object succeeded. The
//! all-or-nothing rule means nothing reaches stdout before the last object is done, so a
//! stream where every object is converted would otherwise hold its whole output in memory
//! (several times the input). Past a small budget the texts go to an anonymous temporary
//! file instead, and are copied out from there: memory stays near the input's size.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Texts up to this many bytes in total stay in memory; later ones go to the file.
pub const MEMORY_BUDGET: usize = 1 << 18;

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
    file: Option<File>,
    /// The file could not be created or written (a read-only /tmp in a function
    /// container, a full disk): everything stays in memory.
    no_file: bool,
    written: u64,
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
            self.file = Some(tempfile::tempfile()?);
        }
        let file = self.file.as_mut().expect("just created");
        let offset = self.written;
        file.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(offset)
    }

    /// Copies a stored text to `w`.
    pub fn write(&self, text: &Text, w: &mut impl Write) -> io::Result<()> {
        match text {
            Text::Inline(s) => w.write_all(s.as_bytes()),
            Text::Spilled { offset, len, .. } => {
                let mut file = self.file.as_ref().ok_or_else(|| {
                    io::Error::other("a spilled text has no spill file (internal error)")
                })?;
                file.seek(SeekFrom::Start(*offset))?;
                let copied = io::copy(&mut file.take(*len as u64), w)?;
                if copied != *len as u64 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the spill file is shorter than what was written to it",
                    ));
                }
                Ok(())
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
}
