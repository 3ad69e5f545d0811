//! Fixture tests: each folder under `tests/fixtures/` is one case, run through the real
//! `kueueleuleu` binary.
//!
//! - `input.yaml`: stdin; `args` (optional): the command line, one argument per line;
//!   `config.yaml` (optional): passed as `--config`; `revert-differs` (optional): why revert
//!   gives back the same objects but not the same bytes.
//! - `expected.out`, `expected.err`, `expected.exit`: the whole stdout, stderr and exit code.
//! - `known-gap` (optional): why the converter does not give the expected output yet; the
//!   case is listed as ignored until it does (`cargo test --test fixtures -- --ignored`).
//!
//! On a mismatch the test prints a unified diff; `UPDATE_EXPECTED=1 cargo test --test
//! fixtures` rewrites the expected files. Every successful convert case is also checked to be
//! a normal form (converting the output again changes no byte) and to revert to what its
//! input reverts to (the input itself, unless it was converted already).

#[path = "support/run.rs"]
mod support_run;

use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use support_run::kueueleuleu;

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("input.yaml").exists())
        .collect();
    dirs.sort();
    assert!(
        !dirs.is_empty(),
        "no fixture cases under {}",
        root.display()
    );
    dirs
}

fn args_of(dir: &Path) -> Vec<String> {
    let mut args: Vec<String> = std::fs::read_to_string(dir.join("args"))
        .map(|s| {
            s.lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if dir.join("config.yaml").exists() {
        args.push("--config".into());
        args.push(dir.join("config.yaml").display().to_string());
    }
    args
}

/// Compares or rewrites one expected file; returns a failure message on mismatch.
fn check(dir: &Path, file: &str, actual: &str) -> Option<String> {
    let path = dir.join(file);
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::write(&path, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected == actual {
        return None;
    }
    let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
        .unified_diff()
        .header(&format!("{}/{file} (expected)", dir.display()), "actual")
        .to_string();
    Some(format!(
        "{}/{file} differs (UPDATE_EXPECTED=1 rewrites it):\n{diff}",
        dir.display()
    ))
}

/// Custom tags (which the converter copies untouched) are not JSON; compare their values.
fn untagged(v: serde_yaml::Value) -> serde_yaml::Value {
    match v {
        serde_yaml::Value::Tagged(t) => untagged(t.value),
        serde_yaml::Value::Sequence(items) => {
            serde_yaml::Value::Sequence(items.into_iter().map(untagged).collect())
        }
        serde_yaml::Value::Mapping(map) => {
            serde_yaml::Value::Mapping(map.into_iter().map(|(k, v)| (k, untagged(v))).collect())
        }
        other => other,
    }
}

/// Objects of an input or output, without results: what revert must give back.
fn objects(text: &str) -> Option<Vec<Value>> {
    let mut out = Vec::new();
    let text = text.trim_start_matches('\u{feff}');
    for de in serde_yaml::Deserializer::from_str(text) {
        let v = untagged(serde_yaml::Value::deserialize(de).ok()?);
        let v: Value = serde_json::to_value(v).ok()?;
        if v.get("kind").and_then(Value::as_str) == Some("ResourceList") {
            out.extend(v["items"].as_array().cloned().unwrap_or_default());
        } else if !v.is_null() {
            out.push(v);
        }
    }
    Some(out)
}

/// One case: every mismatch found, or nothing.
fn run_case(dir: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    let input = std::fs::read(dir.join("input.yaml")).unwrap();
    let args = args_of(dir);
    let run = kueueleuleu(&args, &input);
    failures.extend(check(dir, "expected.out", run.text()));
    failures.extend(check(dir, "expected.err", &run.stderr));
    failures.extend(check(dir, "expected.exit", &format!("{}\n", run.exit())));
    let reverting = args.first().is_some_and(|a| a == "revert");
    if run.exit() != 0 || reverting {
        return failures;
    }
    let again = kueueleuleu(&args, &run.stdout);
    if again.stdout != run.stdout {
        let diff = similar::TextDiff::from_lines(run.text(), again.text())
            .unified_diff()
            .to_string();
        failures.push(format!(
            "{}: converting the output again changed it:\n{diff}",
            dir.display()
        ));
    }
    let mut revert_args = vec!["revert".to_string()];
    revert_args.extend(args.iter().filter(|a| *a != "convert").cloned());
    let reverted = kueueleuleu(&revert_args, &run.stdout);
    let input_text = kueueleuleu(&revert_args, &input).text().to_string();
    // A stream must come back byte for byte; a ResourceList differs in its results.
    let resource_list = input_text.contains("kind: ResourceList")
        || input_text.contains("\"kind\": \"ResourceList\"");
    // `revert-differs` names a case where byte-exactness is given up on purpose (the
    // file says why); its objects must still come back.
    let same = if resource_list || dir.join("revert-differs").exists() {
        match (objects(reverted.text()), objects(&input_text)) {
            (Some(a), Some(b)) => a == b,
            _ => reverted.text() == input_text,
        }
    } else {
        reverted.text() == input_text
    };
    if reverted.exit() != 0 || !same {
        failures.push(format!(
            "{}: revert did not give back the input objects (exit {}):\n{}",
            dir.display(),
            reverted.exit(),
            similar::TextDiff::from_lines(input_text.as_str(), reverted.text()).unified_diff()
        ));
    }
    failures
}

/// One test per fixture folder, named after it, so `cargo test --test fixtures NAME` runs one
/// case and a failure names its folder.
fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let trials = cases()
        .into_iter()
        .map(|dir| {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            // A `known-gap` file says why the case does not pass yet: it is reported as
            // ignored (run it with `-- --ignored`), never skipped silently.
            let gap = dir.join("known-gap").exists();
            libtest_mimic::Trial::test(name, move || {
                let failures = run_case(&dir);
                if failures.is_empty() {
                    Ok(())
                } else {
                    Err(failures.join("\n").into())
                }
            })
            .with_ignored_flag(gap)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
