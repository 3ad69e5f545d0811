//! Independent readings of manifests, for checking the converter against something that
//! is not its own reader: how many objects a text holds, and what they mean to Kubernetes.

use serde::Deserialize;
use serde_json::Value;

/// Objects a YAML text holds, the way the converter counts them (a byte order mark is not
/// content; a `List` or `ResourceList` counts its items); `None` if it does not parse.
#[allow(dead_code)]
pub fn count_objects(text: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(text).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut n = 0;
    for de in serde_yaml::Deserializer::from_str(text) {
        let v = Value::deserialize(de).ok()?;
        n += match v.get("kind").and_then(Value::as_str) {
            Some("ResourceList" | "List") => {
                v.get("items").and_then(Value::as_array).map_or(0, Vec::len)
            }
            _ => usize::from(!v.is_null()),
        };
    }
    Some(n)
}

/// Drops keys set to `null` or `[]`: Kubernetes reads them as unset. (Revert losing them is
/// a known byte-exactness bug with its own fixture, `explicit-nulls-and-empty-lists`.)
#[allow(dead_code)]
pub fn normal(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null() && v != &Value::Array(vec![]));
            map.values_mut().for_each(normal);
        }
        Value::Array(items) => items.iter_mut().for_each(normal),
        _ => {}
    }
}
