//! `install: imageVolume` on the real API server: every scenario manifest converted in that
//! mode passes server-side dry-run (validation and admission, Pod Security `restricted`
//! included), and a converted Pod is run on the node.
//!
//! Running depends on the node's runtime, which must implement `image` volumes with
//! `subPath` (containerd 2.2+, CRI-O 1.33+). The test cluster's containerd is older (1.6 today): it ignores the
//! image field of the mount the kubelet asks for, sees an empty host path, and every step
//! stays in `CreateContainerError` with `failed to mkdir "": mkdir : no such file or
//! directory`. The test asserts that outcome on such a runtime, and that the Pod runs its
//! steps in order on one that implements image volumes, so it says which one it saw.

use super::BUDGET;
use super::cluster;
use super::cluster_support::pods::{assert_strict_order, phase, steps};
use super::cluster_support::{Namespace, kueueleuleu, manifest};
use serde_json::Value;

/// `kueueleuleu convert --install imageVolume` of `input`, which must succeed.
fn convert_image_volume(input: &str) -> String {
    let out = kueueleuleu(&["convert", "--install", "imageVolume"], input);
    assert!(out.ok, "kueueleuleu convert failed: {}", out.stderr);
    assert!(
        out.stdout.contains("subPath: usr/local/bin") && !out.stdout.contains("kueueleuleu-init"),
        "not converted in imageVolume mode:\n{}",
        out.stdout
    );
    out.stdout
}

/// `kubectl create --dry-run=server`: the API server's verdict and its warnings.
fn dry_run(ns: &Namespace, objects: &str) -> Result<String, String> {
    let out = ns.kubectl(
        &["create", "--dry-run=server", "-o", "name", "-f", "-"],
        Some(objects),
    );
    if out.ok {
        Ok(out.stderr)
    } else {
        Err(out.stderr.trim().to_owned())
    }
}

#[test]
fn image_volume_conversions_pass_server_side_dry_run() {
    let ns = namespace!("image-volume-dry-run");
    let manifests = [
        "five-steps.yaml",
        "job-middle-fails.yaml",
        "job-onfailure.yaml",
        "job-pod-failure-policy.yaml",
        "cronjob.yaml",
        "sidecar.yaml",
        "oom.yaml",
    ];
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/pod.yaml"))
            .expect("examples/pod.yaml");
    let mut checked = 0;
    for (name, text) in manifests
        .iter()
        .map(|m| (*m, manifest(m)))
        .chain([("examples/pod.yaml", example)])
    {
        dry_run(&ns, &text).unwrap_or_else(|e| panic!("{name}: the original is refused: {e}"));
        let converted = convert_image_volume(&text);
        if let Err(e) = dry_run(&ns, &converted) {
            panic!(
                "{name}: converted in imageVolume mode, refused by the API server: {e}\n{converted}"
            );
        }
        checked += 1;
    }
    // The imageVolume fixtures' expected outputs: marker volumes, the literals record and a
    // ResourceList's items included.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for entry in std::fs::read_dir(&root).expect("tests/fixtures") {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("image-volume-") {
            continue;
        }
        let text = std::fs::read_to_string(dir.join("expected.out")).unwrap();
        let doc: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let objects = match doc["kind"].as_str() {
            Some("ResourceList") => doc["items"].as_array().cloned().unwrap_or_default(),
            _ => vec![doc],
        };
        for object in objects.iter().filter(|o| o["kind"] != "ConfigMap") {
            if let Err(e) = dry_run(&ns, &object.to_string()) {
                panic!("{name}: refused by the API server: {e}");
            }
            checked += 1;
        }
    }
    eprintln!("imageVolume: {checked} converted objects admitted by server-side dry-run");

    // Pod Security `restricted` allows `image` volumes: the converted Pod draws no warning.
    let labels = [
        ("pod-security.kubernetes.io/enforce", "restricted"),
        ("pod-security.kubernetes.io/warn", "restricted"),
    ];
    // One namespace at a time: each holds one of the few cluster slots (see cluster_support).
    drop(ns);
    let restricted = namespace!("image-volume-restricted", &labels);
    let converted = convert_image_volume(&manifest("restricted.yaml"));
    match dry_run(&restricted, &converted) {
        Ok(warnings) => assert!(
            !warnings.contains("Warning"),
            "Pod Security warnings: {warnings}"
        ),
        Err(e) => panic!("restricted namespace refused the imageVolume Pod: {e}"),
    }
}

/// The node's container runtime and whether it implements `image` volumes with `subPath`:
/// containerd 2.2+ or CRI-O 1.33+ (containerd 2.1 and CRI-O 1.31 mount image volumes but
/// ignore `subPath`, so the runner would not be found).
fn runtime_supports_image_volumes(ns: &Namespace) -> (String, bool) {
    let nodes = ns.cluster.kubectl(&["get", "nodes", "-o", "json"], None);
    assert!(nodes.ok, "kubectl get nodes: {}", nodes.stderr);
    let nodes: Value = serde_json::from_str(&nodes.stdout).expect("nodes as JSON");
    let runtime = nodes["items"][0]["status"]["nodeInfo"]["containerRuntimeVersion"]
        .as_str()
        .expect("the node reports its runtime")
        .to_owned();
    let (name, version) = runtime.split_once("://").unwrap_or((&runtime, ""));
    let mut parts = version
        .trim_start_matches('v')
        .split(['.', '-', '+', '~'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    let supported = match name {
        "containerd" => (major, minor) >= (2, 2),
        "cri-o" => (major, minor) >= (1, 33),
        _ => false,
    };
    (runtime, supported)
}

#[test]
fn image_volume_pod_runs_where_the_runtime_implements_image_volumes() {
    let ns = namespace!("image-volume-run");
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/pod.yaml"))
            .expect("examples/pod.yaml");
    ns.apply(&convert_image_volume(&example));
    let (runtime, supported) = runtime_supports_image_volumes(&ns);
    if supported {
        let pod = ns.wait_pod_done("two-steps");
        assert_eq!(phase(&pod), "Succeeded", "{}", ns.diagnostics());
        assert_strict_order(&steps(&pod));
        assert_eq!(ns.logs("two-steps", "step1"), "step1 done\n");
        assert_eq!(ns.logs("two-steps", "step2"), "step2 runs after step1\n");
        eprintln!("{runtime}: the imageVolume Pod ran its steps in order");
        return;
    }
    // A runtime without image volumes cannot create the step containers at all.
    let mut waiting = Value::Null;
    ns.wait_until("the kubelet to report why the steps cannot start", || {
        let pod = ns.get(&["pod", "two-steps"]);
        waiting = pod["status"]["containerStatuses"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|c| c["state"]["waiting"].clone())
                    .collect::<Vec<_>>()
            })
            .filter(|w| w.len() == 2 && w.iter().all(|w| w["reason"] == "CreateContainerError"))
            .map(Value::from)
            .unwrap_or(Value::Null);
        !waiting.is_null()
    });
    let message = waiting[0]["message"].as_str().unwrap_or_default();
    eprintln!("{runtime}: the kubelet reports CreateContainerError: {message}");
    if runtime.starts_with("containerd://1.") {
        assert!(
            message.contains("failed to mkdir \"\""),
            "containerd 1.x, which drops the image of a mount, was expected to fail on the \
             empty host path: {message}"
        );
    }
    let pod = ns.get(&["pod", "two-steps"]);
    assert_eq!(phase(&pod), "Pending", "{}", ns.diagnostics());
}
