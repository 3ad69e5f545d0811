//! Whether a YAML text means exactly a given value, checked against saphyr's event stream
//! as it is parsed: no tree and no value are built. The converter checks every edited
//! object this way, which costs little more than parsing it.

use super::tree::{Style, SyntaxError};
use super::value::scalar;
use saphyr_parser::{Event, Parser, ScalarStyle, Span, StrInput};
use serde_json::Value;

/// The answer, or why this fast check cannot give one (the caller then reads the text in
/// full): anchors, aliases, merge keys and tags need the full reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The text's one document means exactly the value.
    Same,
    /// It means something else (or is not one document).
    Different,
    /// It uses something only the full reader handles.
    Undecided,
}

/// Checks that `text` (one document) means `expected`.
pub fn matches(text: &str, expected: &Value) -> Result<Verdict, SyntaxError> {
    let mut m = Matcher {
        parser: Parser::new_from_str(text),
        depth: 0,
    };
    loop {
        match m.next()?.0 {
            Event::StreamStart => {}
            Event::DocumentStart(_) => break,
            _ => return Ok(Verdict::Different),
        }
    }
    let (event, _) = m.next()?;
    let verdict = m.node(event, expected)?;
    if verdict != Verdict::Same {
        return Ok(verdict);
    }
    // The document must end here: one object, nothing after it.
    loop {
        match m.next()?.0 {
            Event::DocumentEnd => {}
            Event::StreamEnd => return Ok(Verdict::Same),
            _ => return Ok(Verdict::Different),
        }
    }
}

struct Matcher<'t> {
    parser: Parser<'t, StrInput<'t>>,
    depth: usize,
}

impl<'t> Matcher<'t> {
    fn next(&mut self) -> Result<(Event<'t>, Span), SyntaxError> {
        super::tree::next_event(&mut self.parser)
    }

    fn node(&mut self, event: Event<'t>, expected: &Value) -> Result<Verdict, SyntaxError> {
        if self.depth > super::scan::MAX_DEPTH {
            return Ok(Verdict::Undecided);
        }
        self.depth += 1;
        let verdict = self.node_inner(event, expected);
        self.depth -= 1;
        verdict
    }

    fn node_inner(&mut self, event: Event<'t>, expected: &Value) -> Result<Verdict, SyntaxError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return Ok(Verdict::Undecided);
                }
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::Single,
                    ScalarStyle::DoubleQuoted => Style::Double,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                // A block scalar without content: saphyr counts line breaks after it that
                // are not its own; the tree knows better.
                if matches!(style, Style::Literal | Style::Folded)
                    && !text.is_empty()
                    && text.bytes().all(|b| b == b'\n')
                {
                    return Ok(Verdict::Undecided);
                }
                let same = match (expected, style) {
                    // The common case, without building a value.
                    (
                        Value::String(s),
                        Style::Single | Style::Double | Style::Literal | Style::Folded,
                    ) => s.as_str() == text.as_ref(),
                    _ => scalar(&text, style, None) == *expected,
                };
                Ok(verdict(same))
            }
            Event::Alias(_) => Ok(Verdict::Undecided),
            Event::SequenceStart(anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return Ok(Verdict::Undecided);
                }
                let items = expected.as_array();
                let mut i = 0;
                loop {
                    let (event, _) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        return Ok(verdict(items.is_some_and(|a| a.len() == i)));
                    }
                    let Some(want) = items.and_then(|a| a.get(i)) else {
                        return Ok(Verdict::Different);
                    };
                    let v = self.node(event, want)?;
                    if v != Verdict::Same {
                        return Ok(v);
                    }
                    i += 1;
                }
            }
            Event::MappingStart(anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return Ok(Verdict::Undecided);
                }
                let Some(map) = expected.as_object() else {
                    return Ok(Verdict::Different);
                };
                let mut seen: Vec<std::borrow::Cow<'t, str>> = Vec::with_capacity(map.len());
                loop {
                    let (key, _) = self.next()?;
                    let key = match key {
                        Event::MappingEnd => return Ok(verdict(seen.len() == map.len())),
                        Event::Scalar(text, style, 0, None) => {
                            if style == ScalarStyle::Plain && text == "<<" {
                                return Ok(Verdict::Undecided);
                            }
                            text
                        }
                        _ => return Ok(Verdict::Undecided),
                    };
                    // A repeated key is a difference (the full reader refuses it).
                    if seen.contains(&key) {
                        return Ok(Verdict::Different);
                    }
                    let Some(want) = map.get(key.as_ref()) else {
                        return Ok(Verdict::Different);
                    };
                    let (value, _) = self.next()?;
                    let v = self.node(value, want)?;
                    if v != Verdict::Same {
                        return Ok(v);
                    }
                    seen.push(key);
                }
            }
            _ => Ok(Verdict::Different),
        }
    }
}

fn verdict(same: bool) -> Verdict {
    if same {
        Verdict::Same
    } else {
        Verdict::Different
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_and_different_meanings() {
        let v = json!({"a": [1, "x", true, null], "b": {"c": "on"}});
        assert_eq!(
            matches("b: {c: 'on'}\na: [1, x, true, ~]\n", &v).unwrap(),
            Verdict::Same
        );
        assert_eq!(
            matches("a: [1, x, true]\nb: {c: 'on'}\n", &v).unwrap(),
            Verdict::Different
        );
        assert_eq!(
            matches("a: [1, x, true, null]\nb: {c: on, d: 1}\n", &v).unwrap(),
            Verdict::Different
        );
        assert_eq!(
            matches("a: [1, x, true, null]\nb: {c: on}\nb: {c: on}\n", &v).unwrap(),
            Verdict::Different
        );
        assert_eq!(
            matches("a: &x [1, x, true, null]\nb: {c: on}\n", &v).unwrap(),
            Verdict::Undecided
        );
        assert_eq!(
            matches("a: [1, x, true, null]\nb: {c: on}\n---\nx: 1\n", &v).unwrap(),
            Verdict::Different
        );
        assert!(matches("a: [1\n", &v).is_err());
    }
}
