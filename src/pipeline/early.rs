//! The config, guessed before the scan so that objects can be converted while it runs. kpt and
//! kustomize write `functionConfig` after `items`, so it is found by its line, not by the scan.
//! The caller checks the guess against what the scan finds and drops what was done on a wrong
//! guess, so a guess can cost time but never change the output.

use super::{Overrides, config_for, function_config_value};
use crate::config::Spec as Config;
use serde_json::Value;

/// The config to convert with, and the `functionConfig` it was read from (`None` for a plain
/// stream, or a ResourceList without one). `None` when it cannot be told from the text alone.
pub(super) fn config(text: &str, overrides: &Overrides) -> Option<(Config, Option<Value>)> {
    let resource_list = top_level_line(text, "kind: ResourceList").is_some();
    // A ResourceList written otherwise (JSON, flow style) has its config where no line search
    // finds it: a guess would be wrong and every object converted twice.
    if !resource_list && text.contains("ResourceList") {
        return None;
    }
    let function_config = if resource_list {
        match top_level_line(text, "functionConfig:") {
            Some(at) => {
                let value_start = at + "functionConfig:".len();
                let end = next_top_level(text, value_start);
                Some(function_config_value(text, value_start..end).ok()?)
            }
            None => None,
        }
    } else {
        None
    };
    let config = config_for(overrides, function_config.as_ref()).ok()?;
    Some((config, function_config))
}

/// Where a line that starts with `prefix` at column 0 starts.
fn top_level_line(text: &str, prefix: &str) -> Option<usize> {
    if text.starts_with(prefix) {
        return Some(0);
    }
    let mut from = 0;
    while let Some(i) = text[from..].find(prefix) {
        let at = from + i;
        if text.as_bytes()[at - 1] == b'\n' {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Where the next line that starts at column 0 with content (a top-level key or a document
/// marker) starts, after `from`; the end of the text when there is none.
fn next_top_level(text: &str, from: usize) -> usize {
    let mut at = from;
    while let Some(i) = text[at..].find('\n') {
        let line = at + i + 1;
        match text.as_bytes().get(line) {
            None => return text.len(),
            Some(b' ' | b'\t' | b'#' | b'\n' | b'\r') => at = line,
            Some(_) => return line,
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_config_after_the_items() {
        let text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- kind: Pod\n  functionConfig: no\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data:\n    selectAll: \"true\"\n\n  # c\nresults: []\n";
        let (config, value) = config(text, &Overrides::default()).unwrap();
        assert!(config.select_all);
        assert_eq!(value.unwrap()["data"]["selectAll"], "true");
    }

    #[test]
    fn no_guess_for_a_broken_config_and_none_for_a_stream() {
        let broken = "kind: ResourceList\nfunctionConfig:\n  kind: ConfigMap\n  data: {sepc: 1}\n";
        assert!(config(broken, &Overrides::default()).is_none());
        let (_, value) = config("kind: Job\n", &Overrides::default()).unwrap();
        assert_eq!(value, None);
    }

    #[test]
    fn no_guess_for_a_resource_list_in_json_or_flow_style() {
        let json = "{\"apiVersion\": \"config.kubernetes.io/v1\", \"kind\": \"ResourceList\",\n\"functionConfig\": {\"kind\": \"ConfigMap\", \"apiVersion\": \"v1\"}, \"items\": []}\n";
        assert!(config(json, &Overrides::default()).is_none());
        let flow = "{apiVersion: config.kubernetes.io/v1, kind: ResourceList, items: []}\n";
        assert!(config(flow, &Overrides::default()).is_none());
    }
}
