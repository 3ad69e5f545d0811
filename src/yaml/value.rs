//! What a node means, as JSON: aliases resolved, merge keys (`<<`) applied as Kubernetes'
//! YAML reader applies them, duplicate keys refused, and alias expansion bounded so that a
//! small "billion laughs" input cannot take the machine's memory.

use super::tree::{Body, Node, Style};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

/// Why a node has no single meaning.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeaningError {
    #[error(
        "key {key:?} appears twice in one mapping (lines {first} and {second}); readers disagree on which one counts (kpt keeps the last), so remove one"
    )]
    DuplicateKey {
        key: String,
        first: usize,
        second: usize,
    },
    #[error(
        "alias at line {line} refers to an anchor that is not defined before it in this object"
    )]
    UnknownAlias { line: usize },
    #[error(
        "aliases expand to more than {limit} nodes (an alias bomb?); write the repeated parts out or use fewer nested aliases"
    )]
    TooLarge { limit: usize },
    #[error(
        "aliases at line {line} nest deeper than {limit} levels (or an alias refers to a node that contains it); write the value out"
    )]
    TooDeep { line: usize, limit: usize },
    #[error("merge key `<<` at line {line} must refer to a mapping or a list of mappings")]
    BadMerge { line: usize },
    #[error("mapping key at line {line} is a collection; Kubernetes objects only have string keys")]
    ComplexKey { line: usize },
}

/// Resolves nodes of one parsed text; anchors are looked up among the text's own nodes.
pub struct Resolver<'n> {
    anchors: HashMap<usize, &'n Node>,
    budget: usize,
    depth: usize,
}

/// Expansion allowed beyond the nodes actually written: generous for real manifests that
/// share blocks by anchor, tiny next to what an alias bomb asks for.
const BUDGET_FACTOR: usize = 64;
const BUDGET_FLOOR: usize = 100_000;

impl<'n> Resolver<'n> {
    /// For nodes under `root` (anchors defined anywhere under it can be referred to).
    pub fn new(root: &'n Node) -> Self {
        let mut anchors = HashMap::new();
        let mut count = 0usize;
        root.walk(&mut |n| {
            count += 1;
            if n.anchor != 0 {
                anchors.insert(n.anchor, n);
            }
        });
        Resolver {
            anchors,
            budget: count.saturating_mul(BUDGET_FACTOR).max(BUDGET_FLOOR),
            depth: 0,
        }
    }

    /// The node an alias refers to (the node itself otherwise).
    pub fn target(&self, node: &'n Node) -> Result<&'n Node, MeaningError> {
        match node.body {
            Body::Alias(id) => self
                .anchors
                .get(&id)
                .copied()
                .ok_or(MeaningError::UnknownAlias { line: node.line }),
            _ => Ok(node),
        }
    }

    /// What `node` means.
    pub fn value(&mut self, node: &'n Node) -> Result<Value, MeaningError> {
        // Aliases can nest values far deeper than the text does (and an alias inside its own
        // anchor never ends): bound the recursion, not only the node count.
        if self.depth >= super::scan::MAX_DEPTH {
            return Err(MeaningError::TooDeep {
                line: node.line,
                limit: super::scan::MAX_DEPTH,
            });
        }
        self.depth += 1;
        let value = self.value_inner(node);
        self.depth -= 1;
        value
    }

    fn value_inner(&mut self, node: &'n Node) -> Result<Value, MeaningError> {
        if self.budget == 0 {
            return Err(MeaningError::TooLarge {
                limit: BUDGET_FLOOR,
            });
        }
        self.budget -= 1;
        match &node.body {
            Body::Alias(_) => {
                let target = self.target(node)?;
                self.value(target)
            }
            Body::Scalar(text, style) => Ok(scalar(text, *style, node.tag.as_deref())),
            Body::Seq { items, .. } => items
                .iter()
                .map(|n| self.value(n))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Body::Map { entries, .. } => self.mapping(entries),
        }
    }

    fn mapping(&mut self, entries: &'n [(Node, Node)]) -> Result<Value, MeaningError> {
        let mut out = Map::with_capacity(entries.len());
        // Mappings are small: a linear search beats hashing every key.
        let mut lines: Vec<(&'n str, usize)> = Vec::with_capacity(entries.len());
        let mut merged: Vec<&'n Node> = Vec::new();
        for (key, value) in entries {
            let key_node = self.target(key)?;
            let name = match &key_node.body {
                Body::Scalar(text, Style::Plain) if text == "<<" => {
                    let target = self.target(value)?;
                    match &target.body {
                        Body::Map { .. } => merged.push(target),
                        Body::Seq { items, .. } => {
                            for item in items {
                                let t = self.target(item)?;
                                if !matches!(t.body, Body::Map { .. }) {
                                    return Err(MeaningError::BadMerge { line: key.line });
                                }
                                merged.push(t);
                            }
                        }
                        _ => return Err(MeaningError::BadMerge { line: key.line }),
                    }
                    continue;
                }
                Body::Scalar(text, _) => text.as_str(),
                _ => return Err(MeaningError::ComplexKey { line: key.line }),
            };
            if let Some(&(_, first)) = lines.iter().find(|(k, _)| *k == name) {
                return Err(MeaningError::DuplicateKey {
                    key: name.to_string(),
                    first,
                    second: key.line,
                });
            }
            lines.push((name, key.line));
            let v = self.value(value)?;
            out.insert(name.to_string(), v);
        }
        for source in merged {
            if let Value::Object(extra) = self.value(source)? {
                for (k, v) in extra {
                    out.entry(k).or_insert(v);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// A scalar under the YAML 1.2 core schema (what the parser of kpt's Go libraries and this
/// tool's own reader agree on); quoted and block scalars are always strings.
pub(super) fn scalar(text: &str, style: Style, tag: Option<&str>) -> Value {
    if let Some("tag:yaml.org,2002:str" | "!!str") = tag {
        return Value::String(text.into());
    }
    if style != Style::Plain {
        return Value::String(text.into());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = integer(text) {
        return Value::Number(n);
    }
    if is_float(text)
        && let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64)
    {
        return Value::Number(n);
    }
    Value::String(text.into())
}

fn integer(text: &str) -> Option<Number> {
    let (digits, radix) = if let Some(h) = text.strip_prefix("0x") {
        (h, 16)
    } else if let Some(o) = text.strip_prefix("0o") {
        (o, 8)
    } else {
        let body = text.strip_prefix(['-', '+']).unwrap_or(text);
        if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return match text.parse::<i64>() {
            Ok(i) => Some(i.into()),
            Err(_) => match text.parse::<u64>() {
                Ok(u) => Some(u.into()),
                Err(_) => text.parse::<f64>().ok().and_then(Number::from_f64),
            },
        };
    };
    if digits.is_empty() {
        return None;
    }
    u64::from_str_radix(digits, radix).ok().map(Number::from)
}

fn is_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(int)
        && frac.is_none_or(digits)
        && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// What a YAML 1.1 reader (kubectl, Helm, PyYAML) makes of a plain scalar when that is not a
/// string, though a YAML 1.2 reader sees a string: `on`, `yes`, `0123`, `1_000`, `12:30`.
pub fn yaml11_reading(text: &str) -> Option<&'static str> {
    const BOOLS: &[&str] = &["y", "yes", "n", "no", "on", "off"];
    if BOOLS.iter().any(|w| {
        text == *w
            || text.eq_ignore_ascii_case(w) && (text == w.to_uppercase() || first_upper(text, w))
    }) {
        return Some("a boolean");
    }
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let digits_and = |extra: &[u8]| {
        !body.is_empty()
            && body.as_bytes()[0].is_ascii_digit()
            && body
                .bytes()
                .all(|b| b.is_ascii_digit() || extra.contains(&b))
    };
    if body.len() > 1 && body.starts_with('0') && body.bytes().all(|b| b.is_ascii_digit()) {
        return Some("an octal integer");
    }
    if body.contains('_') && digits_and(b"_") {
        return Some("an integer");
    }
    if let Some(bin) = body.strip_prefix("0b")
        && !bin.is_empty()
        && bin.bytes().all(|b| b == b'0' || b == b'1' || b == b'_')
    {
        return Some("a binary integer");
    }
    if body.contains(':') && digits_and(b":.") && !body.ends_with(':') {
        return Some("a base-60 number");
    }
    None
}

fn first_upper(text: &str, word: &str) -> bool {
    let mut c = text.chars();
    c.next().is_some_and(char::is_uppercase) && c.as_str() == &word[1..]
}

#[cfg(test)]
mod tests {
    use super::super::tree::parse;
    use super::*;
    use serde_json::json;

    fn meaning(text: &str) -> Result<Value, MeaningError> {
        let root = parse(text).unwrap().remove(0).unwrap();
        Resolver::new(&root).value(&root)
    }

    #[test]
    fn scalars_follow_the_core_schema() {
        let v =
            meaning("a: [1, -2, 0x1F, 1.5, .5, 1e3, true, ~, on, '1', 0123, 18446744073709551616]")
                .unwrap();
        let a = v["a"].as_array().unwrap();
        assert_eq!(
            a[..8],
            json!([1, -2, 31, 1.5, 0.5, 1000.0, true, null])
                .as_array()
                .unwrap()[..]
        );
        assert_eq!(v["a"][8], json!("on"));
        assert_eq!(v["a"][9], json!("1"));
        assert!(v["a"][11].is_number());
    }

    #[test]
    fn merge_keys_apply_with_explicit_keys_winning() {
        let v = meaning("base: &b {x: 1, y: 2}\nother: &o {z: 3}\nm:\n  <<: [*b, *o]\n  y: 9\n")
            .unwrap();
        assert_eq!(v["m"], json!({"y": 9, "x": 1, "z": 3}));
    }

    #[test]
    fn duplicates_bombs_and_unknown_aliases_are_refused() {
        assert!(matches!(
            meaning("a: 1\nb: 2\na: 3\n"),
            Err(MeaningError::DuplicateKey {
                first: 1,
                second: 3,
                ..
            })
        ));
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(matches!(meaning(&bomb), Err(MeaningError::TooLarge { .. })));
    }

    #[test]
    fn aliases_inside_their_own_anchor_or_nested_deep_are_refused() {
        assert!(matches!(
            meaning("a: &x [1, *x]\n"),
            Err(MeaningError::TooDeep { .. } | MeaningError::UnknownAlias { .. })
        ));
        let mut deep = String::from("l0: &l0 [x]\n");
        for i in 1..400 {
            deep.push_str(&format!("l{i}: &l{i} [*l{}]\n", i - 1));
        }
        assert!(matches!(meaning(&deep), Err(MeaningError::TooDeep { .. })));
    }

    #[test]
    fn yaml11_words_are_named() {
        for (s, want) in [
            ("on", Some("a boolean")),
            ("Yes", Some("a boolean")),
            ("NO", Some("a boolean")),
            ("nO", None),
            ("0123", Some("an octal integer")),
            ("1_000", Some("an integer")),
            ("12:30", Some("a base-60 number")),
            ("0b101", Some("a binary integer")),
            ("0", None),
            ("echo", None),
            ("1.5", None),
        ] {
            assert_eq!(yaml11_reading(s), want, "{s}");
        }
    }
}
