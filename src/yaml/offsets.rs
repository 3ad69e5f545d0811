//! saphyr reports positions in characters; text is sliced in bytes. This turns one into the
//! other in amortised constant time, since the parser's positions mostly move forward.

/// Converts character indexes of one text into byte offsets.
pub struct Offsets<'t> {
    text: &'t str,
    ascii: bool,
    chars: usize,
    bytes: usize,
}

impl<'t> Offsets<'t> {
    /// For positions into `text`.
    pub fn new(text: &'t str) -> Self {
        Offsets {
            text,
            ascii: text.is_ascii(),
            chars: 0,
            bytes: 0,
        }
    }

    /// The byte offset of character `index` (the text's length when past its end).
    pub fn byte(&mut self, index: usize) -> usize {
        if self.ascii {
            return index.min(self.text.len());
        }
        if index < self.chars {
            self.chars = 0;
            self.bytes = 0;
        }
        for c in self.text[self.bytes..].chars() {
            if self.chars == index {
                break;
            }
            self.chars += 1;
            self.bytes += c.len_utf8();
        }
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::Offsets;

    #[test]
    fn counts_multibyte_characters_forwards_and_back() {
        let text = "aé→😀b";
        let mut o = Offsets::new(text);
        assert_eq!(o.byte(0), 0);
        assert_eq!(o.byte(2), 3);
        assert_eq!(o.byte(4), 10);
        assert_eq!(o.byte(1), 1);
        assert_eq!(o.byte(99), text.len());
        assert_eq!(Offsets::new("abc").byte(2), 2);
    }
}
