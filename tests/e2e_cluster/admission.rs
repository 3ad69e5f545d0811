//! What the API server's validation and admission make of converted objects: ResourceQuota
//! and LimitRange, the `kubectl get -o json | kueueleuleu convert | kubectl apply` pipe,
//! and server-side dry-run of every converted object among the fixtures' expected outputs.

use super::BUDGET;
use super::cluster;
use super::cluster_support::pods::{phase, steps};
use super::cluster_support::{Namespace, convert, kueueleuleu, manifest};
use serde_json::{Value, json};
use std::path::Path;

/// An annotated Pod whose steps request (and are limited to) `cpu`/`memory`; `None`
/// leaves the step's resources to the LimitRange defaults.
fn pod(name: &str, steps: &[Option<(&str, &str)>]) -> String {
    let containers: Vec<Value> = steps
        .iter()
        .enumerate()
        .map(|(i, res)| {
            let mut c = json!({
                "name": format!("s{i}"),
                "image": "busybox:1.37",
                "command": ["sh", "-c", format!("echo s{i}")],
            });
            if let Some((cpu, memory)) = res {
                let r = json!({"cpu": cpu, "memory": memory});
                c["resources"] = json!({"requests": r, "limits": r});
            }
            c
        })
        .collect();
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "annotations": {"kueueleuleu.io/sequential": "true"}},
        "spec": {"restartPolicy": "Never", "containers": containers},
    });
    serde_yaml::to_string(&pod).expect("a Pod serializes")
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

/// Fails today: the injected init container asks for 50m CPU and 16Mi memory (requests =
/// limits), below common LimitRange minimums, so a namespace that admits the original Pod
/// refuses the converted one. Reported to the lead (converter, src/); run it with
/// `cargo test --test e2e_cluster -- --ignored` once the init container's resources follow
/// the namespace's rules.
#[test]
#[ignore = "known converter bug: the init container's fixed 50m/16Mi are below LimitRange minimums"]
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

/// Converted Pods, Jobs and CronJobs in one expected output (a stream, a List or a
/// ResourceList), as JSON.
fn converted_objects(text: &str) -> Vec<Value> {
    let mut found = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let Ok(value) = serde_json::to_value(
            <serde_yaml::Value as serde::Deserialize>::deserialize(doc).unwrap_or_default(),
        ) else {
            continue;
        };
        let items = match value["kind"].as_str() {
            Some("ResourceList" | "List") => value["items"].as_array().cloned().unwrap_or_default(),
            _ => vec![value],
        };
        for item in items {
            if matches!(item["kind"].as_str(), Some("Pod" | "Job" | "CronJob"))
                && item.to_string().contains("\"kueueleuleu-init\"")
            {
                found.push(item);
            }
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
        for mut object in converted_objects(&text) {
            object["metadata"]["namespace"] = json!(ns.name);
            let what = format!(
                "{}: {} {}",
                dir.file_name().unwrap().to_string_lossy(),
                object["kind"].as_str().unwrap_or("?"),
                object["metadata"]["name"].as_str().unwrap_or("?")
            );
            checked += 1;
            if let Err(e) = admitted(&ns, &object.to_string()) {
                failures.push(format!("{what}: {e}"));
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
