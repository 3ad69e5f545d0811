//! What the API server's validation and admission make of converted objects: ResourceQuota
//! and LimitRange, the `kubectl get -o json | kueueleuleu convert | kubectl apply` pipe,
//! and server-side dry-run of every converted object among the fixtures' expected outputs.

use super::BUDGET;
use super::cluster;
use super::cluster_support::pods::{annotated_pod, phase, steps};
use super::cluster_support::{Namespace, convert, kueueleuleu, manifest};
use serde_json::{Value, json};
use std::path::Path;

/// The shared annotated Pod ([`annotated_pod`]) as YAML.
fn pod(name: &str, steps: &[Option<(&str, &str)>]) -> String {
    serde_yaml::to_string(&annotated_pod(name, steps)).expect("a Pod serializes")
}

/// Whether the API server would create `objects` (server-side dry-run: validation and
/// every admission plugin, quota included, but nothing stored); the error otherwise.
fn admitted(ns: &Namespace, objects: &str) -> Result<(), String> {
    let out = ns.kubectl(
        &["create", "--dry-run=server", "-o", "name", "-f", "-"],
        Some(objects),
    );
    if out.ok {
        Ok(())
    } else {
        Err(out.stderr.trim().to_owned())
    }
}

/// For each case: if the namespace admits the original Pod, it admits the converted one.
fn check_admission_implication(ns: &Namespace, cases: &[&[Option<(&str, &str)>]]) -> usize {
    let mut admitted_originals = 0;
    for (i, case) in cases.iter().enumerate() {
        let original = pod(&format!("case-{i}"), case);
        let converted = convert(&original);
        let before = admitted(ns, &original);
        let after = admitted(ns, &converted);
        eprintln!("case {i} {case:?}: original {before:?}, converted {after:?}");
        if before.is_ok() {
            admitted_originals += 1;
            assert!(
                after.is_ok(),
                "case {i} {case:?}: the original Pod is admitted, the converted one is not: {}",
                after.unwrap_err()
            );
        }
    }
    admitted_originals
}

#[test]
fn quota_and_limit_range_admit_the_converted_pod_whenever_they_admit_the_original() {
    let ns = namespace!("quota");
    ns.apply(&manifest("quota.yaml"));
    // Quota: requests.cpu 1, requests.memory 256Mi; LimitRange max 1 CPU per container.
    let cases: &[&[Option<(&str, &str)>]] = &[
        &[None, None],
        &[
            Some(("300m", "64Mi")),
            Some(("300m", "64Mi")),
            Some(("300m", "64Mi")),
        ],
        &[Some(("500m", "128Mi")), Some(("500m", "128Mi"))], // exactly the quota
        &[Some(("990m", "250Mi"))],
        &[Some(("10m", "8Mi"))], // the LimitRange minimum
        &[Some(("600m", "64Mi")), Some(("600m", "64Mi"))], // over the quota
        &[Some(("1100m", "64Mi"))], // over the LimitRange max
    ];
    let admitted = check_admission_implication(&ns, cases);
    assert_eq!(
        admitted, 5,
        "the cases are built so that five originals fit"
    );
    // And one for real: LimitRange defaults on the steps, charged to the quota, runs.
    ns.apply(&convert(&pod("real", &[None, None])));
    let done = ns.wait_pod_done("real");
    assert_eq!(phase(&done), "Succeeded", "{}", ns.diagnostics());
    let quota = ns.get(&["resourcequota", "quota"]);
    eprintln!(
        "quota used while the Pod existed: {}",
        quota["status"]["used"]
    );
}

/// A LimitRange minimum that the steps meet is met by the injected init container too (it
/// copies the first step's resources; a fixed small request was refused here once).
#[test]
fn limit_range_minimums_admit_the_converted_pod_whenever_they_admit_the_original() {
    let ns = namespace!("limit-min");
    ns.apply(
        r#"{"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "min"},
            "spec": {"limits": [{"type": "Container",
              "min": {"cpu": "100m", "memory": "32Mi"},
              "defaultRequest": {"cpu": "100m", "memory": "32Mi"},
              "default": {"cpu": "200m", "memory": "64Mi"}}]}}"#,
    );
    let cases: &[&[Option<(&str, &str)>]] = &[
        &[None, None],
        &[Some(("100m", "32Mi")), Some(("250m", "64Mi"))],
    ];
    assert_eq!(check_admission_implication(&ns, cases), 2);
}

/// The QoS class the API server gives the converted Pod is the original's: the injected
/// init container never turns a Guaranteed Pod Burstable or a BestEffort one Burstable.
#[test]
fn qos_class_of_the_converted_pod_is_the_originals() {
    let ns = namespace!("qos");
    let qos = |objects: &str| -> String {
        let out = ns.kubectl(
            &["create", "--dry-run=server", "-o", "json", "-f", "-"],
            Some(objects),
        );
        assert!(out.ok, "dry-run create failed: {}", out.stderr);
        let pod: Value = serde_json::from_str(&out.stdout).expect("kubectl prints JSON");
        pod["status"]["qosClass"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    type Case<'a> = (&'a [Option<(&'a str, &'a str)>], &'a str);
    let cases: &[Case] = &[
        (&[None, None], "BestEffort"),
        (&[Some(("100m", "32Mi")), Some(("2", "1Gi"))], "Guaranteed"),
        (&[Some(("100m", "32Mi")), None], "Burstable"),
    ];
    for (i, (steps, class)) in cases.iter().enumerate() {
        let original = pod(&format!("qos-{i}"), steps);
        assert_eq!(qos(&original), *class, "case {i}: the original's class");
        assert_eq!(
            qos(&convert(&original)),
            *class,
            "case {i} {steps:?}: the converted Pod's class differs from the original's"
        );
    }
}

#[test]
fn kubectl_get_json_through_convert_into_kubectl_apply() {
    let ns = namespace!("pipe");
    // The original, unconverted (its steps run at once), then read back as a List.
    ns.apply(&pod("piped", &[None, None]));
    ns.wait_pod_done("piped");
    let listed = ns.ok(&["get", "pod", "-o", "json"], None);
    ns.ok(&["delete", "pod", "piped", "--wait=true"], None);
    let out = kueueleuleu(&["convert"], &listed);
    assert!(
        out.ok,
        "kueueleuleu convert of `kubectl get -o json` failed: {}",
        out.stderr
    );
    let applied = ns.kubectl(&["apply", "-f", "-"], Some(&out.stdout));
    assert!(
        applied.ok,
        "kubectl apply of the converted List failed: {}\n--- convert output\n{}",
        applied.stderr, out.stdout
    );
    let done = ns.wait_pod_done("piped");
    assert_eq!(phase(&done), "Succeeded", "{}", ns.diagnostics());
    let s = steps(&done);
    assert!(s.iter().all(|s| s.reason() == "Succeeded"), "{s:?}");
}

/// Whether `object` is a Pod, Job or CronJob in the sequential form.
fn is_converted(object: &Value) -> bool {
    matches!(object["kind"].as_str(), Some("Pod" | "Job" | "CronJob"))
        && object.to_string().contains("\"kueueleuleu-init\"")
}

/// Converted Pods, Jobs and CronJobs in one expected output, as (kind/name, text for
/// kubectl) in namespace `ns`. A plain document goes to kubectl as written (kubectl reads
/// the YAML itself, YAML 1.1 scalars included); the items of a List or ResourceList go
/// as JSON with their namespace set.
fn converted_objects(text: &str, ns: &str) -> Vec<(String, String)> {
    objects(text, ns, is_converted)
}

/// The Pods, Jobs and CronJobs of `text` that `keep` selects, as `converted_objects` says.
fn objects(text: &str, ns: &str, keep: fn(&Value) -> bool) -> Vec<(String, String)> {
    let text = text.trim_start_matches('\u{feff}');
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line == "---" || line.starts_with("--- ") {
            docs.push(String::new());
        } else {
            docs.last_mut().unwrap().push_str(line);
            docs.last_mut().unwrap().push('\n');
        }
    }
    let mut found = Vec::new();
    for doc in docs {
        let parsed: Option<Value> = serde_yaml::from_str::<serde_yaml::Value>(&doc)
            .ok()
            .and_then(|v| serde_json::to_value(v).ok());
        let Some(value) = parsed else {
            // serde cannot read it (a big integer, a custom tag): kubectl may.
            if doc.contains("kueueleuleu-init") {
                found.push(("(unparsed document)".to_owned(), doc));
            }
            continue;
        };
        let label = |o: &Value| {
            format!(
                "{} {}",
                o["kind"].as_str().unwrap_or("?"),
                o["metadata"]["name"].as_str().unwrap_or("?")
            )
        };
        match value["kind"].as_str() {
            Some("ResourceList" | "List") => {
                for mut item in value["items"].as_array().cloned().unwrap_or_default() {
                    if keep(&item) {
                        item["metadata"]["namespace"] = json!(ns);
                        found.push((label(&item), item.to_string()));
                    }
                }
            }
            // batch/v1beta1 CronJob is no longer served (removed in 1.25) but the converter
            // still takes it: its jobTemplate is the same, so check it as batch/v1.
            _ if keep(&value) && value["apiVersion"] == "batch/v1beta1" => found.push((
                format!("{} (checked as batch/v1)", label(&value)),
                doc.replacen("apiVersion: batch/v1beta1", "apiVersion: batch/v1", 1),
            )),
            _ if keep(&value) => found.push((label(&value), doc)),
            _ => {}
        }
    }
    found
}

#[test]
fn every_converted_fixture_output_passes_server_side_dry_run() {
    let ns = namespace!("fixtures-dry-run");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/fixtures")
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    let (mut checked, mut failures) = (0, Vec::new());
    for dir in dirs {
        let Ok(text) = std::fs::read_to_string(dir.join("expected.out")) else {
            continue;
        };
        let input = std::fs::read_to_string(dir.join("input.yaml")).unwrap_or_default();
        let originals = objects(&input, &ns.name, |o| {
            matches!(o["kind"].as_str(), Some("Pod" | "Job" | "CronJob"))
        });
        for (what, object) in converted_objects(&text, &ns.name) {
            let fixture = dir.file_name().unwrap().to_string_lossy().into_owned();
            // Some fixtures test fidelity on objects Kubernetes itself refuses (unknown
            // fields, numbers as label values): what counts is that conversion never
            // turns an object the API server accepts into one it refuses.
            let original = originals.iter().find(|(w, _)| *w == what);
            if let Some(Err(e)) = original.map(|(_, o)| admitted(&ns, o)) {
                eprintln!("{fixture}: {what}: not checked, the input is refused too: {e}");
                continue;
            }
            checked += 1;
            if let Err(e) = admitted(&ns, &object) {
                failures.push(format!("{fixture}: {what}: {e}"));
            }
        }
    }
    eprintln!("dry-run checked {checked} converted objects");
    assert!(
        checked >= 5,
        "only {checked} converted objects found in the fixtures"
    );
    assert!(
        failures.is_empty(),
        "rejected by the API server:\n{}",
        failures.join("\n")
    );
}
