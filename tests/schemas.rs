//! Every converted fixture must be a valid object for a current Kubernetes version, checked
//! with the real `kubernetes-validate --strict` (no unknown fields, right types).

mod support {
    pub mod tools;
}

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn converted_objects() -> Vec<(String, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let exit = std::fs::read_to_string(dir.join("expected.exit")).unwrap_or_default();
        let reverting =
            std::fs::read_to_string(dir.join("args")).is_ok_and(|a| a.starts_with("revert"));
        if exit.trim() != "0" || reverting || dir.join("known-gap").exists() {
            continue;
        }
        let text = std::fs::read_to_string(dir.join("expected.out")).unwrap();
        // The project's own reader: it takes what the converter takes (a byte order mark,
        // custom tags and big integers in objects it only copies).
        let docs = kueueleuleu::yaml::tree::parse(text.trim_start_matches('\u{feff}'))
            .unwrap_or_else(|e| panic!("{}: expected.out: {e}", dir.display()));
        for root in docs.into_iter().flatten() {
            let doc = kueueleuleu::yaml::value::Resolver::new(&root)
                .value(&root)
                .unwrap_or_else(|e| panic!("{}: expected.out: {e}", dir.display()));
            let items = match doc.get("kind").and_then(Value::as_str) {
                Some("ResourceList" | "List") => {
                    doc["items"].as_array().cloned().unwrap_or_default()
                }
                _ => vec![doc],
            };
            for mut item in items {
                // Kubernetes 1.37 no longer serves batch/v1beta1 CronJobs; their schema is the
                // same as batch/v1's where the conversion edits, so validate them as that.
                if item["apiVersion"] == "batch/v1beta1" && item["kind"] == "CronJob" {
                    item["apiVersion"] = "batch/v1".into();
                }
                let kind = item["kind"].as_str().unwrap_or_default();
                let converted = item
                    .to_string()
                    .contains("/kueueleuleu/bin/kueueleuleu-step");
                if matches!(kind, "Pod" | "Job" | "CronJob") && converted {
                    out.push((
                        dir.file_name().unwrap().to_string_lossy().into_owned(),
                        item,
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn converted_fixtures_validate_strictly() {
    let Some(tool) = support::tools::find("kubernetes-validate") else {
        return;
    };
    let objects = converted_objects();
    assert!(
        objects.len() >= 6,
        "expected converted Pods, Jobs and CronJobs among the fixtures, found {}",
        objects.len()
    );
    let kinds: std::collections::BTreeSet<_> = objects
        .iter()
        .map(|(_, o)| o["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["CronJob", "Job", "Pod"]
    );
    let dir = tempdir();
    let mut files = Vec::new();
    for (i, (case, object)) in objects.iter().enumerate() {
        let path = dir.join(format!("{i:02}-{case}.json"));
        let mut object = object.clone();
        // kubernetes-validate checks the schema, not kpt's bookkeeping annotations.
        if let Some(ann) = object
            .pointer_mut("/metadata/annotations")
            .and_then(Value::as_object_mut)
        {
            ann.retain(|k, _| {
                !k.starts_with("config.kubernetes.io/") && !k.starts_with("internal.config")
            });
        }
        std::fs::write(&path, serde_json::to_string_pretty(&object).unwrap()).unwrap();
        files.push(path);
    }
    let out = Command::new(&tool)
        .arg("--strict")
        .args(&files)
        .output()
        .expect("kubernetes-validate runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "kubernetes-validate --strict failed:\n{report}"
    );
    assert_eq!(
        report.matches(" passed ").count(),
        files.len(),
        "every file must pass:\n{report}"
    );
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kueueleuleu-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
