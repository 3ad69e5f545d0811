//! The little JSON the runner needs, without serde (the runner binary stays small): escaping
//! into a bounded budget, and a reader for one flat object of strings, integers and booleans.

use super::record::RecordError;

/// Appends `s` JSON-escaped, stopping (at a character boundary) before `budget` bytes.
pub(crate) fn escape_into(out: &mut String, s: &str, budget: usize) {
    let mut used = 0;
    let mut buf = [0u8; 4];
    for c in s.chars() {
        let piece: &str = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => {
                let esc = format!("\\u{:04x}", c as u32);
                if used + esc.len() > budget {
                    return;
                }
                used += esc.len();
                out.push_str(&esc);
                continue;
            }
            c => c.encode_utf8(&mut buf),
        };
        if used + piece.len() > budget {
            return;
        }
        used += piece.len();
        out.push_str(piece);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
}

/// A parser for exactly what records need: one object of string and integer values.
pub(crate) fn parse_flat_object(text: &str) -> Result<Vec<(String, Value)>, RecordError> {
    let mut p = Cursor {
        s: text.as_bytes(),
        i: 0,
    };
    let mut fields = Vec::new();
    p.ws();
    p.expect(b'{')?;
    p.ws();
    if p.peek() == Some(b'}') {
        p.i += 1;
    } else {
        loop {
            p.ws();
            let key = p.string()?;
            p.ws();
            p.expect(b':')?;
            p.ws();
            let value = match p.peek() {
                Some(b'"') => Value::Str(p.string()?),
                Some(b'-' | b'0'..=b'9') => Value::Int(p.int()?),
                Some(b't') => p.word(b"true", Value::Bool(true))?,
                Some(b'f') => p.word(b"false", Value::Bool(false))?,
                _ => {
                    return Err(RecordError::Syntax(
                        "value is neither a string, an integer nor a boolean",
                    ));
                }
            };
            fields.push((key, value));
            p.ws();
            match p.next() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => return Err(RecordError::Syntax("expected `,` or `}`")),
            }
        }
    }
    p.ws();
    if p.i != p.s.len() {
        return Err(RecordError::Syntax("trailing data"));
    }
    Ok(fields)
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let c = self.peek();
        self.i += 1;
        c
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
    }
    fn expect(&mut self, c: u8) -> Result<(), RecordError> {
        if self.next() == Some(c) {
            Ok(())
        } else {
            Err(RecordError::Syntax("unexpected character"))
        }
    }
    fn word(&mut self, word: &[u8], value: Value) -> Result<Value, RecordError> {
        if self.s.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(value)
        } else {
            Err(RecordError::Syntax("bad literal"))
        }
    }
    fn int(&mut self) -> Result<i64, RecordError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or(RecordError::Syntax("bad integer"))
    }
    fn hex4(&mut self) -> Result<u32, RecordError> {
        let part = self
            .s
            .get(self.i..self.i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or(RecordError::Syntax("bad \\u escape"))?;
        self.i += 4;
        Ok(part)
    }
    fn string(&mut self) -> Result<String, RecordError> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            match self.next() {
                None => return Err(RecordError::Syntax("unterminated string")),
                Some(b'"') => break,
                Some(b'\\') => {
                    let c = match self.next() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi)
                                && self.s.get(self.i..self.i + 2) == Some(b"\\u")
                            {
                                self.i += 2;
                                let lo = self.hex4()?;
                                0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF)
                            } else {
                                hi
                            };
                            char::from_u32(code).unwrap_or('\u{FFFD}')
                        }
                        _ => return Err(RecordError::Syntax("bad escape")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                Some(c) => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|_| RecordError::Syntax("string is not UTF-8"))
    }
}
