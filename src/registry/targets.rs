//! Which images `resolve` must read: those of the selected objects' containers that have no
//! `command` (the converter needs their ENTRYPOINT), found with the converter's own reading.

use crate::object::{ANNOTATION, pod_spec_path};
use crate::source::{self, Input};
use crate::yaml::{tree, value::Resolver};
use serde_json::Value;
use std::collections::BTreeMap;

/// Where an image is used, for messages: `file: Pod/web container "app"`.
pub type Uses = BTreeMap<String, Vec<String>>;

/// The images of every selected container without `command` in `text` (input `name`), with
/// where each is used. `select_all`: `--all` or the config's `selectAll`.
pub fn images(name: &str, bytes: &[u8], select_all: bool, uses: &mut Uses) -> anyhow::Result<()> {
    let text = source::text(bytes).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let objects = match source::locate(text).map_err(|e| anyhow::anyhow!("{name}: {e}"))? {
        Input::ResourceList { items, .. } => items,
        Input::Stream { objects } => objects,
    };
    for found in objects {
        let padded = format!("{}{}", " ".repeat(found.column), &text[found.range.clone()]);
        let value = match tree::parse(&padded) {
            Ok(mut docs) => match docs.pop().flatten() {
                Some(root) => Resolver::new(&root)
                    .value(&root)
                    .map_err(|e| anyhow::anyhow!("{name}:{}: {e}", found.line))?,
                None => continue,
            },
            Err(e) => anyhow::bail!("{name}:{}: not valid YAML: {}", found.line, e.message),
        };
        collect(name, found.line, &value, select_all, uses);
    }
    Ok(())
}

fn collect(name: &str, line: usize, object: &Value, select_all: bool, uses: &mut Uses) {
    let s = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or("");
    let Some(path) = pod_spec_path(s("/apiVersion"), s("/kind")) else {
        return;
    };
    let annotated = object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(ANNOTATION))
        .and_then(Value::as_str)
        == Some("true");
    if !(annotated || select_all) {
        return;
    }
    let pointer: String = path.iter().map(|p| format!("/{p}")).collect();
    let Some(containers) = object
        .pointer(&format!("{pointer}/containers"))
        .and_then(Value::as_array)
    else {
        return;
    };
    for c in containers {
        let has_command = c
            .get("command")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        let Some(image) = c
            .get("image")
            .and_then(Value::as_str)
            .filter(|i| !i.is_empty())
        else {
            continue;
        };
        if has_command {
            continue;
        }
        let container = c.get("name").and_then(Value::as_str).unwrap_or("?");
        uses.entry(image.to_string()).or_default().push(format!(
            "{name}:{line}: {}/{} container {container:?}",
            s("/kind"),
            s("/metadata/name")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: a
  annotations: {kueueleuleu.io/sequential: "true"}
spec:
  containers:
  - {name: web, image: nginx:1.27}
  - {name: sh, image: busybox, command: [sh]}
  - {name: args-only, image: redis:7, args: [--port, "1"]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: unselected}
spec: {template: {spec: {containers: [{name: x, image: python:3.12}]}}}
"#;

    #[test]
    fn containers_without_command_of_selected_objects() {
        let mut uses = Uses::new();
        images("m.yaml", STREAM.as_bytes(), false, &mut uses).unwrap();
        assert_eq!(uses.keys().collect::<Vec<_>>(), ["nginx:1.27", "redis:7"]);
        assert_eq!(uses["nginx:1.27"], ["m.yaml:1: Pod/a container \"web\""]);
        let mut all = Uses::new();
        images("m.yaml", STREAM.as_bytes(), true, &mut all).unwrap();
        assert!(all.contains_key("python:3.12"));
    }
}
