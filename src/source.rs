//! What the input is and where every object is in it: a ResourceList's items, a `kind: List`'s
//! items, or the documents of a plain stream. One scan finds them; objects are not parsed
//! further unless they are selected.

use crate::text::line_of;
use crate::yaml::scan::{self, Document, Found};
use crate::yaml::tree::SyntaxError;
use std::ops::Range;

/// API versions of `ResourceList` that kpt and kustomize send.
pub const RESOURCE_LIST_VERSIONS: &[&str] =
    &["config.kubernetes.io/v1", "config.kubernetes.io/v1beta1"];

/// Input that cannot be processed at all. Nothing goes to stdout in that case.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("the input is empty; expected a ResourceList or Kubernetes objects as YAML")]
    Empty,
    #[error(
        "the input is not UTF-8 text (invalid byte at offset {0}); Kubernetes YAML must be UTF-8"
    )]
    NotUtf8(usize),
    #[error(
        "line {line}: character U+{code:04X} is a line break for YAML 1.1 readers (kubectl, Helm) \
         but not for YAML 1.2 readers, so they would read different objects; write it as an \
         escape (\\u{code:04X}) inside a double-quoted string"
    )]
    AmbiguousBreak { line: usize, code: u32 },
    #[error(
        "line {line}: a carriage return (U+000D) is not followed by a line feed; YAML reads it \
         as a line break, but editors and diff tools do not, so they would show other objects \
         than the ones converted; use LF or CRLF line ends"
    )]
    LoneCarriageReturn { line: usize },
    #[error(
        "line {line}: character U+{code:04X} is a control character, which YAML does not allow \
         in a document (kubectl refuses it too); write it as an escape (\\u{code:04X}) \
         inside a double-quoted string, or remove it"
    )]
    ControlCharacter { line: usize, code: u32 },
    #[error(
        "line {line}: a byte order mark (U+FEFF) starts this line; YAML allows one only at the \
         start of the input, and elsewhere readers disagree on it (PyYAML reads it as part of a \
         key, other parsers do not), so they would read different objects; \
         remove it (files joined with `cat` keep each file's mark)"
    )]
    MisplacedByteOrderMark { line: usize },
    #[error("the input is not valid YAML: {0}")]
    Yaml(#[from] SyntaxError),
    #[error(
        "document {index} (line {line}) is not a Kubernetes object (found {found}); expected a mapping with apiVersion and kind"
    )]
    NotAnObject {
        index: usize,
        line: usize,
        found: &'static str,
    },
    #[error(
        "a ResourceList must be the only document of its input, but it is document {0} of several"
    )]
    ResourceListNotAlone(usize),
    #[error("ResourceList `items` must be a list of objects, found {0}")]
    ItemsNotAList(&'static str),
    #[error(
        "line {line}: the {what} has a second `{key}` key; readers disagree on which one counts, \
         so keep one"
    )]
    RepeatedKey {
        what: &'static str,
        key: &'static str,
        line: usize,
    },
    #[error(
        "{what} item {index} (line {line}) is not an object (found {found}); every item must be a mapping with apiVersion and kind"
    )]
    ItemNotAnObject {
        what: &'static str,
        index: usize,
        line: usize,
        found: &'static str,
    },
    #[error(
        "the input holds no Kubernetes objects (only empty Lists); an empty result would make \
         Argo CD or `kubectl apply --prune` delete everything, so this is an error"
    )]
    NoObjects,
}

/// One object of the input, where its text is and what selecting it takes.
pub type Located<'t> = Found<'t>;

/// What the input is.
#[derive(Debug)]
pub enum Input<'t> {
    /// KRM function mode: a single `ResourceList`.
    ResourceList {
        /// Every item, in order.
        items: Vec<Located<'t>>,
        /// Where the config kpt or kustomize passed is, if any.
        function_config: Option<Range<usize>>,
        /// Where an existing top-level `results` entry is, to be replaced.
        results_entry: Option<Range<usize>>,
        /// Where the ResourceList mapping is.
        top: Range<usize>,
        /// Written in flow style (JSON), so results must be too.
        flow: bool,
    },
    /// Plain objects (Helm, Argo CD, pipes); the items of `kind: List` documents are included.
    Stream {
        /// Every object, in order.
        objects: Vec<Located<'t>>,
    },
}

/// Checks the bytes are text; a UTF-8 byte order mark is allowed and kept.
pub fn text(bytes: &[u8]) -> Result<&str, InputError> {
    let text = std::str::from_utf8(bytes).map_err(|e| InputError::NotUtf8(e.valid_up_to()))?;
    let Some(offset) = first_unreadable(text.as_bytes()) else {
        return Ok(text);
    };
    let c = text[offset..].chars().next().unwrap_or_default();
    let (line, code) = (line_of(text, offset), c as u32);
    Err(match c {
        '\r' => InputError::LoneCarriageReturn { line },
        '\u{85}' | '\u{2028}' | '\u{2029}' => InputError::AmbiguousBreak { line, code },
        '\u{feff}' => InputError::MisplacedByteOrderMark { line },
        _ => InputError::ControlCharacter { line, code },
    })
}

/// Where the first character is that readers would not agree on: a line break only YAML 1.1
/// has (NEL, LS, PS), a carriage return without its line feed, or a character YAML does not
/// allow written as it is (C0 and C1 controls other than tab, line feed and carriage return,
/// DEL, U+FFFE and U+FFFF), or a byte order mark where a line's content starts, other than
/// the input's first character. Read byte by byte: every one of them starts with a byte that
/// ordinary text seldom has.
fn first_unreadable(bytes: &[u8]) -> Option<usize> {
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let starts_line = |i: usize| {
        let indent = bytes[..i]
            .iter()
            .rev()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        i > 0 && (indent == i || bytes[i - indent - 1] == b'\n')
    };
    bytes.iter().enumerate().position(|(i, &b)| match b {
        b'\t' | b'\n' => false,
        b'\r' => at(i + 1) != b'\n',
        0..=0x1f | 0x7f => true,
        // U+0080..U+009F (NEL among them).
        0xc2 => (0x80..=0x9f).contains(&at(i + 1)),
        // U+2028, U+2029.
        0xe2 => at(i + 1) == 0x80 && matches!(at(i + 2), 0xa8 | 0xa9),
        // U+FFFE, U+FFFF.
        0xef => {
            (at(i + 1) == 0xbf && matches!(at(i + 2), 0xbe | 0xbf))
                || (at(i + 1) == 0xbb && at(i + 2) == 0xbf && starts_line(i))
        }
        _ => false,
    })
}

/// Whether the input is JSON (its first character opens an object or array), so the
/// output must be JSON too.
pub fn is_json(text: &str) -> bool {
    let text = text.trim_start_matches('\u{feff}');
    // Flow-style YAML also starts with `{`: only text that really is JSON (one or more JSON
    // documents, nothing else) is answered in JSON, or YAML words would change meaning.
    text.trim_start().starts_with(['{', '['])
        && serde_json::Deserializer::from_str(text)
            .into_iter::<serde::de::IgnoredAny>()
            .all(|doc| doc.is_ok())
}

fn str_of<'f>(
    f: &'f Found<'_>,
    pick: fn(&'f scan::Summary<'_>) -> &'f Option<scan::Scalar<'f>>,
) -> &'f str {
    pick(&f.summary).as_ref().map_or("", |s| s.text.as_ref())
}

/// Whether a scanned root is a `ResourceList` kpt or kustomize would send.
fn is_resource_list(f: &Found<'_>) -> bool {
    str_of(f, |s| &s.kind) == "ResourceList"
        && RESOURCE_LIST_VERSIONS.contains(&str_of(f, |s| &s.api_version))
}

/// Whether a scanned root is a `kind: List` (what `kubectl get -o yaml` prints).
fn is_list(doc: &Document<'_>) -> bool {
    str_of(&doc.root, |s| &s.kind) == "List"
        && str_of(&doc.root, |s| &s.api_version) == "v1"
        && (doc.items.is_some() || doc.items_shape.is_some())
}

/// Finds every object of `text`.
pub fn locate(text: &str) -> Result<Input<'_>, InputError> {
    locate_with(text, None, false)
}

/// [`locate`], handing each Pod, Job and CronJob's syntax tree to `sink` as soon as it is read
/// (see [`scan::Sink`]); the object's range there already has its trailing comment. The objects
/// handed over are not in the result: the sink has them. Items handed over from a document that
/// turns out not to be a List are no objects at all; the caller tells them by their range,
/// which lies inside an object's.
pub fn locate_with<'t>(
    text: &'t str,
    sink: Option<scan::Sink<'_, 't>>,
    only_annotated: bool,
) -> Result<Input<'t>, InputError> {
    let mut collect = Collect {
        text,
        count: 0,
        resource_list: None,
        objects: Vec::new(),
        handed_over: 0,
        invalid: None,
        in_list: None,
    };
    let mut each = |doc| collect.add(doc);
    match sink {
        Some(sink) => scan::scan_each(
            text,
            Some(&mut |found: &Found<'t>, tree| {
                let mut found = found.clone();
                found.range.end = with_trailing_comment(text, found.range.end);
                sink(&found, tree);
            }),
            only_annotated,
            &mut each,
        )?,
        None => scan::scan_each(text, None, false, &mut each)?,
    }
    collect.finish()
}

/// Documents as the scan hands them over, checked in order. A stream's objects are kept, its
/// documents are not, so a stream of many small objects is not held twice.
struct Collect<'t> {
    text: &'t str,
    count: usize,
    /// The first document, when it is a ResourceList (it must then be the only one).
    resource_list: Option<Document<'t>>,
    objects: Vec<Located<'t>>,
    /// How many objects were handed to the sink instead of being kept.
    handed_over: usize,
    /// The first document that is not an object, or a ResourceList among others.
    invalid: Option<InputError>,
    /// The first problem with a List's items; reported after `invalid`.
    in_list: Option<InputError>,
}

impl<'t> Collect<'t> {
    fn add(&mut self, doc: Document<'t>) {
        let index = self.count;
        self.count += 1;
        if self.invalid.is_some() {
            return;
        }
        if index == 1 && self.resource_list.is_some() {
            self.invalid = Some(InputError::ResourceListNotAlone(0));
            return;
        }
        if !doc.root.is_mapping {
            self.invalid = Some(InputError::NotAnObject {
                index,
                line: doc.root.line,
                found: doc.root.shape,
            });
            return;
        }
        if let Some((key, line)) = doc.repeated_key
            && (is_resource_list(&doc.root) || is_list(&doc))
        {
            let what = if is_list(&doc) {
                "List"
            } else {
                "ResourceList"
            };
            self.invalid = Some(InputError::RepeatedKey { what, key, line });
            return;
        }
        if is_resource_list(&doc.root) {
            if index == 0 {
                self.resource_list = Some(doc);
            } else {
                self.invalid = Some(InputError::ResourceListNotAlone(index));
            }
            return;
        }
        if self.in_list.is_some() {
            return;
        }
        if is_list(&doc) {
            let items = match doc.items_shape {
                Some(shape) => Err(InputError::ItemsNotAList(shape)),
                None => located(self.text, doc.items.unwrap_or_default(), "List"),
            };
            match items {
                Ok(items) => self.objects.extend(items),
                Err(e) => self.in_list = Some(e),
            }
            self.handed_over += doc.items_handed_over;
        } else if doc.root_handed_over {
            self.handed_over += 1;
        } else {
            let mut found = doc.root;
            found.range.end = with_trailing_comment(self.text, found.range.end);
            self.objects.push(found);
        }
    }

    fn finish(self) -> Result<Input<'t>, InputError> {
        if self.count == 0 {
            return Err(InputError::Empty);
        }
        if let Some(e) = self.invalid {
            return Err(e);
        }
        if let Some(doc) = self.resource_list {
            if let Some(shape) = doc.items_shape {
                return Err(InputError::ItemsNotAList(shape));
            }
            let items = located(self.text, doc.items.unwrap_or_default(), "ResourceList")?;
            return Ok(Input::ResourceList {
                items,
                function_config: doc.function_config,
                results_entry: doc.results_entry,
                // Results added at its end go below a comment on its last line, as an
                // item's new text does: never inside the last item's range.
                top: match doc.flow {
                    true => doc.root.range,
                    false => {
                        doc.root.range.start..with_trailing_comment(self.text, doc.root.range.end)
                    }
                },
                flow: doc.flow,
            });
        }
        if let Some(e) = self.in_list {
            return Err(e);
        }
        if self.objects.is_empty() && self.handed_over == 0 {
            return Err(InputError::NoObjects);
        }
        Ok(Input::Stream {
            objects: self.objects,
        })
    }
}

fn located<'t>(
    text: &str,
    items: Vec<Found<'t>>,
    what: &'static str,
) -> Result<Vec<Located<'t>>, InputError> {
    items
        .into_iter()
        .map(|mut found| {
            if !found.is_mapping {
                return Err(InputError::ItemNotAnObject {
                    what,
                    index: found.index,
                    line: line_of(text, found.range.start),
                    found: found.shape,
                });
            }
            found.range.end = with_trailing_comment(text, found.range.end);
            Ok(found)
        })
        .collect()
}

/// An object's text ends where its content does; a comment on its last line belongs to it
/// too, so that anything added after that line goes below the comment.
fn with_trailing_comment(text: &str, end: usize) -> usize {
    let line_end = crate::text::line_end(text, end);
    if text[end..line_end].trim_start().starts_with('#') {
        line_end
    } else {
        end
    }
}

/// The text up to its last line break when what follows it is only spaces and tabs. saphyr
/// reads such a last line as one more line of a block scalar that ends the input (which
/// libyaml, and the same object anywhere else, do not); it holds nothing, and is written back
/// as it came with the rest of the input. Everything that reads the input for objects reads
/// this part of it.
pub fn without_blank_last_line(text: &str) -> &str {
    let last_line = crate::text::line_start(text, text.len());
    if last_line > 0 && text[last_line..].trim_matches([' ', '\t']).is_empty() {
        &text[..last_line]
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_readers_disagree_on_are_found_where_they_are() {
        for (text, at) in [
            ("a: b\n", None),
            ("a:\tb\r\nc: d\r\n", None),
            ("é: \u{a0}\u{2027}\u{fffd}\n", None),
            ("ab\0", Some(2)),
            ("a\u{1b}[31m", Some(1)),
            ("a\u{7f}", Some(1)),
            ("é\u{85}", Some(2)),
            ("a\u{9f}", Some(1)),
            ("a\u{2028}", Some(1)),
            ("a\u{2029}", Some(1)),
            ("a\u{fffe}", Some(1)),
            ("a\u{ffff}", Some(1)),
            ("a\rb", Some(1)),
            ("a\r", Some(1)),
            // A byte order mark: first in the input, or inside a line, it is read alike.
            ("\u{feff}a: b\n", None),
            ("a: \"x\u{feff}\"\nb: \u{feff}c\n", None),
            // Where a line's content starts, readers disagree.
            ("a: 1\n\u{feff}b: 2\n", Some(5)),
            ("a:\n  x: 1\n \t\u{feff}  y: 2\n", Some(12)),
            ("---\r\n\u{feff}a: 1\n", Some(5)),
            (" \u{feff}a: 1\n", Some(1)),
        ] {
            assert_eq!(first_unreadable(text.as_bytes()), at, "{text:?}");
        }
    }

    #[test]
    fn each_kind_has_its_own_error_with_the_line() {
        let err = |t: &str| text(t.as_bytes()).unwrap_err().to_string();
        assert!(err("a: 1\nb\0").starts_with("line 2: character U+0000 is a control character"));
        assert!(err("a\u{85}").contains("line break for YAML 1.1 readers"));
        assert!(err("a\rb").contains("carriage return (U+000D) is not followed by a line feed"));
        assert!(err("a: 1\n\u{feff}b: 2").starts_with("line 2: a byte order mark (U+FEFF)"));
    }
}
