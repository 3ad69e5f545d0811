//! Reads the input once and says where every object is: a ResourceList's items, a `kind:
//! List`'s items, or the documents of a plain stream. Meaning comes from `yaml_serde`;
//! byte ranges come from the lossless `yaml-edit` tree, so untouched text is never rewritten.

use serde::Deserialize;
use serde_json::Value;
use std::ops::Range;
use std::str::FromStr;
use yaml_edit::{Mapping, YamlFile};

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
    #[error("the input is not valid YAML: {0}")]
    Yaml(String),
    #[error(
        "document {index} is not a Kubernetes object (found {found}); expected a mapping with apiVersion and kind"
    )]
    NotAnObject { index: usize, found: &'static str },
    #[error(
        "a ResourceList must be the only document of its input, but it is document {0} of several"
    )]
    ResourceListNotAlone(usize),
    #[error("ResourceList `items` must be a list of objects, found {0}")]
    ItemsNotAList(&'static str),
    #[error(
        "{what} item {index} is not an object (found {found}); every item must be a mapping with apiVersion and kind"
    )]
    ItemNotAnObject {
        what: &'static str,
        index: usize,
        found: &'static str,
    },
    #[error(
        "the input holds no Kubernetes objects (only empty Lists); an empty result would make \
         Argo CD or `kubectl apply --prune` delete everything, so this is an error"
    )]
    NoObjects,
    #[error("internal: could not locate {0} in the YAML text; please report this input")]
    Locate(String),
}

/// One object of the input and where its text is.
#[derive(Debug, Clone)]
pub struct Located {
    /// The object's meaning, parsed strictly.
    pub value: Value,
    /// Where its text is in the input; only this span is ever rewritten.
    pub range: Range<usize>,
    /// Column of the first byte: the object is re-indented by this much when cut out.
    pub column: usize,
}

/// What the input is.
#[derive(Debug)]
pub enum Input {
    /// KRM function mode: a single `ResourceList`.
    ResourceList {
        /// Every item, in order.
        items: Vec<Located>,
        /// The config kpt or kustomize passed, if any.
        function_config: Option<Value>,
        /// Where an existing top-level `results` entry is, to be replaced.
        results_entry: Option<Range<usize>>,
        /// The ResourceList mapping itself, and whether it is written in flow style (JSON).
        /// Where the ResourceList mapping is.
        top: Range<usize>,
        /// Written in flow style (JSON), so results must be too.
        flow: bool,
    },
    /// Plain objects (Helm, Argo CD, pipes); the items of `kind: List` documents are included.
    Stream {
        /// Every object, in order.
        objects: Vec<Located>,
    },
}

/// Parses and locates. `text` must be the whole input.
pub fn read(bytes: &[u8]) -> Result<(String, Input), InputError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| InputError::NotUtf8(e.valid_up_to()))?
        .to_string();
    let input = locate(&text)?;
    Ok((text, input))
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "an empty document",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Whether a value is a `ResourceList` kpt or kustomize would send.
pub fn is_resource_list(v: &Value) -> bool {
    str_at(v, "kind") == "ResourceList" && RESOURCE_LIST_VERSIONS.contains(&str_at(v, "apiVersion"))
}

/// Whether a value is a `kind: List` (what `kubectl get -o yaml` prints).
pub fn is_list(v: &Value) -> bool {
    str_at(v, "kind") == "List" && str_at(v, "apiVersion") == "v1" && v.get("items").is_some()
}

fn locate(text: &str) -> Result<Input, InputError> {
    let docs = parse_documents(text)?;
    if docs.is_empty() {
        return Err(InputError::Empty);
    }
    for (index, doc) in docs.iter().enumerate() {
        if !doc.is_object() {
            return Err(InputError::NotAnObject {
                index,
                found: kind_name(doc),
            });
        }
        if docs.len() > 1 && is_resource_list(doc) {
            return Err(InputError::ResourceListNotAlone(index));
        }
    }
    let file = YamlFile::from_str(text).map_err(|e| InputError::Yaml(e.to_string()))?;
    let roots: Vec<Mapping> = file.documents().filter_map(|d| d.as_mapping()).collect();
    if roots.len() != docs.len() {
        return Err(InputError::Locate(format!(
            "{} documents (the YAML parser saw {})",
            roots.len(),
            docs.len()
        )));
    }
    if is_resource_list(&docs[0]) {
        let mut docs = docs;
        let mut list = docs.remove(0);
        let root = &roots[0];
        let items = match list.get_mut("items").map(Value::take) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(other) => return Err(InputError::ItemsNotAList(kind_name(&other))),
        };
        let items = locate_items(text, root, items, "ResourceList")?;
        let results_entry = root
            .find_entry_by_key("results")
            .map(|e| range(e.byte_range()));
        return Ok(Input::ResourceList {
            items,
            function_config: list.get_mut("functionConfig").map(Value::take),
            results_entry,
            top: range(root.byte_range()),
            flow: root.is_flow_style(),
        });
    }
    let mut objects = Vec::new();
    for (mut doc, root) in docs.into_iter().zip(&roots) {
        if is_list(&doc) {
            let items = match doc.get_mut("items").map(Value::take) {
                Some(Value::Array(items)) => items,
                Some(Value::Null) | None => Vec::new(),
                Some(other) => return Err(InputError::ItemsNotAList(kind_name(&other))),
            };
            objects.extend(locate_items(text, root, items, "List")?);
        } else {
            let r = range(root.byte_range());
            objects.push(Located {
                column: column(text, r.start),
                value: doc,
                range: r,
            });
        }
    }
    if objects.is_empty() {
        return Err(InputError::NoObjects);
    }
    Ok(Input::Stream { objects })
}

fn parse_documents(text: &str) -> Result<Vec<Value>, InputError> {
    let mut docs = Vec::new();
    for de in serde_yaml::Deserializer::from_str(text) {
        let value = Value::deserialize(de).map_err(|e| InputError::Yaml(e.to_string()))?;
        if !value.is_null() {
            docs.push(value);
        }
    }
    Ok(docs)
}

fn locate_items(
    text: &str,
    root: &Mapping,
    items: Vec<Value>,
    what: &'static str,
) -> Result<Vec<Located>, InputError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let seq = root
        .get_sequence("items")
        .ok_or_else(|| InputError::Locate(format!("{what} items")))?;
    let nodes: Vec<_> = seq.values().collect();
    if nodes.len() != items.len() {
        return Err(InputError::Locate(format!(
            "{what} items ({} vs {})",
            nodes.len(),
            items.len()
        )));
    }
    items
        .into_iter()
        .zip(nodes)
        .enumerate()
        .map(|(index, (value, node))| {
            if !value.is_object() {
                return Err(InputError::ItemNotAnObject {
                    what,
                    index,
                    found: kind_name(&value),
                });
            }
            let r = range(node.byte_range());
            Ok(Located {
                column: column(text, r.start),
                value,
                range: r,
            })
        })
        .collect()
}

fn range(p: yaml_edit::TextPosition) -> Range<usize> {
    p.start as usize..p.end as usize
}

fn column(text: &str, offset: usize) -> usize {
    offset - text[..offset].rfind('\n').map_or(0, |nl| nl + 1)
}
