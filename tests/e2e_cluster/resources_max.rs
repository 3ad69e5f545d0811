//! `resources: max` on the real API server, scheduler and kubelet: the Pod requests its
//! largest step (pod-level `spec.resources`), which is what the scheduler and a
//! ResourceQuota count; a LimitRange with defaults and minimums still admits it; the QoS
//! class follows the pod-level values; and the runner's guard stops a Pod whose
//! `spec.resources` the server dropped. Also prints, for a 5-step Pod, what the scheduler
//! and the quota see under `keep` and `max`.

use super::BUDGET;
use super::cluster;
use super::cluster_support::pods::{annotated_pod, assert_strict_order, phase, steps};
use super::cluster_support::{Namespace, kueueleuleu};
use serde_json::{Value, json};

/// The shared annotated Pod ([`annotated_pod`]) as JSON (what `convert` then writes back as JSON).
fn pod(name: &str, steps: &[Option<(&str, &str)>]) -> String {
    serde_json::to_string_pretty(&annotated_pod(name, steps)).expect("a Pod serializes")
}

/// `kueueleuleu convert --resources POLICY`, which must succeed.
fn convert_with(policy: &str, input: &str) -> String {
    let out = kueueleuleu(&["convert", "--resources", policy], input);
    assert!(
        out.ok,
        "kueueleuleu convert --resources {policy}: {}",
        out.stderr
    );
    out.stdout
}

/// The five steps of the measurement: different requests, each Guaranteed.
const FIVE: [Option<(&str, &str)>; 5] = [
    Some(("100m", "32Mi")),
    Some(("700m", "64Mi")),
    Some(("300m", "48Mi")),
    Some(("500m", "96Mi")),
    Some(("200m", "16Mi")),
];

fn quota_used(ns: &Namespace) -> Value {
    let mut used = Value::Null;
    ns.wait_until("the quota's used to be reported", || {
        used = ns.get(&["resourcequota", "quota"])["status"]["used"].clone();
        used.get("requests.cpu").is_some()
    });
    used
}

/// Quantity text to milli-units, for the few spellings the API server prints.
fn milli(text: &str) -> i64 {
    let (number, factor) = if let Some(n) = text.strip_suffix('m') {
        (n, 1)
    } else if let Some(n) = text.strip_suffix("Mi") {
        (n, 1000 << 20)
    } else if let Some(n) = text.strip_suffix("Gi") {
        (n, 1000 << 30)
    } else if let Some(n) = text.strip_suffix("Ki") {
        (n, 1000 << 10)
    } else {
        (text, 1000)
    };
    number.parse::<i64>().unwrap_or_else(|_| panic!("{text:?}")) * factor
}

#[test]
fn quota_counts_the_largest_step_and_a_limit_range_admits_it() {
    let Some(c) = cluster("resources-max-quota") else {
        return;
    };
    let ns = c.namespace("resources-max-quota", &[], BUDGET);
    // The steps add up to 1800m and 256Mi; the largest is 700m and 96Mi.
    ns.apply(
        r#"
apiVersion: v1
kind: ResourceQuota
metadata: {name: quota}
spec:
  hard: {requests.cpu: "1", requests.memory: 200Mi, limits.cpu: "3", limits.memory: 1Gi}
---
apiVersion: v1
kind: LimitRange
metadata: {name: limits}
spec:
  limits:
  - type: Container
    default: {cpu: 150m, memory: 40Mi}
    defaultRequest: {cpu: 50m, memory: 16Mi}
    min: {cpu: 10m, memory: 8Mi}
    max: {cpu: "1", memory: 512Mi}
"#,
    );
    let original = pod("five", &FIVE);
    let keep = ns.kubectl(
        &["create", "-f", "-"],
        Some(&convert_with("keep", &original)),
    );
    assert!(!keep.ok, "keep: the quota must refuse the sum");
    assert!(keep.stderr.contains("exceeded quota"), "{}", keep.stderr);
    // A step with nothing declared gets the LimitRange's default limit, and the conversion no
    // pod-level limit: Burstable, and still within the quota.
    let mut mixed = FIVE.to_vec();
    mixed[4] = None;
    let out = ns.kubectl(
        &["create", "--dry-run=server", "-o", "json", "-f", "-"],
        Some(&convert_with("max", &pod("mixed", &mixed))),
    );
    assert!(out.ok, "{}", out.stderr);
    let mixed: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        mixed["status"]["qosClass"], "Burstable",
        "{}",
        mixed["spec"]
    );
    // The conversion wrote no pod-level limit; once the LimitRange gave every container one,
    // the API server set the Pod's to the sum of the limits (100m+700m+300m+500m+150m).
    assert_eq!(
        mixed["spec"]["resources"]["limits"]["cpu"], "1750m",
        "{}",
        mixed["spec"]
    );
    assert_eq!(mixed["spec"]["resources"]["requests"]["cpu"], "700m");
    ns.ok(
        &["create", "-f", "-"],
        Some(&convert_with("max", &original)),
    );
    let used = quota_used(&ns);
    eprintln!("resources: max, quota used: {used}");
    assert_eq!(milli(used["requests.cpu"].as_str().unwrap()), 700);
    assert_eq!(
        milli(used["requests.memory"].as_str().unwrap()),
        96 * (1000 << 20)
    );
    assert_eq!(milli(used["limits.cpu"].as_str().unwrap()), 700);
    let done = ns.wait_pod_done("five");
    assert_eq!(phase(&done), "Succeeded", "{}", ns.diagnostics());
    assert_strict_order(&steps(&done));
    assert_eq!(done["status"]["qosClass"], "Guaranteed");
    // The LimitRange gave the init container its default limits (it has none of its own
    // under a pod-level limit); the guard saw 150m and 40Mi, within the Pod's limits.
    let init = &done["spec"]["initContainers"][0]["resources"];
    assert_eq!(
        init["limits"],
        json!({"cpu": "150m", "memory": "40Mi"}),
        "{init}"
    );
}

#[test]
fn the_scheduler_places_a_pod_whose_sum_exceeds_the_node() {
    let Some(c) = cluster("resources-max-schedule") else {
        return;
    };
    let ns = c.namespace("resources-max-schedule", &[], BUDGET);
    let node = c.kubectl(&["get", "nodes", "-o", "json"], None);
    let node: Value = serde_json::from_str(&node.stdout).unwrap();
    let memory = milli(
        node["items"][0]["status"]["allocatable"]["memory"]
            .as_str()
            .unwrap(),
    );
    // Three steps of 40% of the node's memory each: the sum cannot fit, one step can.
    let each = format!("{}Mi", memory / 1000 / (1 << 20) * 2 / 5);
    let steps_of = |name: &str| pod(name, &[Some(("50m", each.as_str())); 3]);
    ns.ok(
        &["create", "-f", "-"],
        Some(&convert_with("keep", &steps_of("sum"))),
    );
    ns.ok(
        &["create", "-f", "-"],
        Some(&convert_with("max", &steps_of("max"))),
    );
    let done = ns.wait_pod_done("max");
    assert_eq!(phase(&done), "Succeeded", "{}", ns.diagnostics());
    assert_eq!(done["status"]["qosClass"], "Guaranteed");
    assert_eq!(
        done["spec"]["resources"]["requests"]["memory"],
        each.as_str()
    );
    ns.wait_until("the scheduler to refuse the sum", || {
        let sum = ns.get(&["pod", "sum"]);
        sum["status"]["conditions"].as_array().is_some_and(|all| {
            all.iter().any(|c| {
                c["type"] == "PodScheduled"
                    && c["reason"] == "Unschedulable"
                    && c["message"]
                        .as_str()
                        .unwrap_or("")
                        .contains("Insufficient memory")
            })
        })
    });
}

#[test]
fn the_init_container_stops_a_pod_whose_pod_level_resources_were_dropped() {
    let Some(c) = cluster("resources-max-guard") else {
        return;
    };
    let ns = c.namespace("resources-max-guard", &[], BUDGET);
    let converted: Value = serde_json::from_str(&convert_with("max", &pod("dropped", &FIVE)))
        .expect("JSON in, JSON out");
    // What a server with the PodLevelResources gate off stores: the Pod minus spec.resources.
    let mut dropped = converted.clone();
    dropped["spec"].as_object_mut().unwrap().remove("resources");
    ns.ok(&["create", "-f", "-"], Some(&dropped.to_string()));
    let done = ns.wait_pod_done("dropped");
    assert_eq!(phase(&done), "Failed", "{}", ns.diagnostics());
    let init = &done["status"]["initContainerStatuses"][0]["state"]["terminated"];
    assert_eq!(init["exitCode"], 1, "{init}");
    let log = ns.ok(&["logs", "dropped", "-c", "kueueleuleu-init"], None);
    eprintln!("guard: {log}");
    for part in ["spec.resources", "PodLevelResources", "resources: keep"] {
        assert!(log.contains(part), "{part:?} not in {log:?}");
    }
    // The same Pod as converted runs.
    let mut kept = converted;
    kept["metadata"]["name"] = json!("kept");
    ns.ok(&["create", "-f", "-"], Some(&kept.to_string()));
    let done = ns.wait_pod_done("kept");
    assert_eq!(phase(&done), "Succeeded", "{}", ns.diagnostics());
}

/// The figures for the issue's note: what the scheduler and a quota see for a 5-step Pod.
#[test]
fn five_steps_keep_versus_max_as_the_scheduler_sees_them() {
    let Some(c) = cluster("resources-max-measure") else {
        return;
    };
    let ns = c.namespace("resources-max-measure", &[], BUDGET);
    ns.apply(
        "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: quota}\n\
         spec: {hard: {requests.cpu: \"20\", requests.memory: 20Gi}}\n",
    );
    let mut seen = Vec::new();
    let mut before = (0, 0);
    for policy in ["keep", "max"] {
        let pod = format!("five-{policy}");
        let mut converted: Value =
            serde_json::from_str(&convert_with(policy, &self::pod(&pod, &FIVE))).unwrap();
        // Held before scheduling, so that it stays counted while both are measured.
        converted["spec"]["schedulingGates"] = json!([{"name": "kueueleuleu.io/measure"}]);
        ns.ok(&["create", "-f", "-"], Some(&converted.to_string()));
        let mut used = (0, 0);
        ns.wait_until("the quota to count the Pod", || {
            let u = quota_used(&ns);
            used = (
                milli(u["requests.cpu"].as_str().unwrap()),
                milli(u["requests.memory"].as_str().unwrap()) / 1000 / (1 << 20),
            );
            used != before
        });
        let jsonpath = ns.ok(
            &[
                "get",
                "pod",
                &pod,
                "-o",
                "jsonpath={.spec.resources.requests} {.spec.containers[*].resources.requests}",
            ],
            None,
        );
        let delta = (used.0 - before.0, used.1 - before.1);
        eprintln!(
            "5 steps, resources: {policy}: quota requests.cpu {}m, requests.memory {}Mi; pod: {jsonpath}",
            delta.0, delta.1
        );
        seen.push(delta);
        before = used;
    }
    assert_eq!(seen, [(1800, 256), (700, 96)]);
}

#[test]
fn a_native_sidecar_is_counted_beside_the_steps() {
    let Some(c) = cluster("resources-max-sidecar") else {
        return;
    };
    let ns = c.namespace("resources-max-sidecar", &[], BUDGET);
    let mut original: Value = serde_json::from_str(&pod("sidecar", &FIVE)).unwrap();
    let sidecar = json!({"cpu": "100m", "memory": "32Mi"});
    original["spec"]["initContainers"] = json!([{
        "name": "proxy", "image": "busybox:1.37", "restartPolicy": "Always",
        "command": ["sleep", "3600"],
        "resources": {"requests": sidecar, "limits": sidecar},
    }]);
    let converted = convert_with("max", &original.to_string());
    // The API server checks that the pod-level requests cover the steps AND the sidecar.
    let out = ns.kubectl(
        &["create", "--dry-run=server", "-o", "json", "-f", "-"],
        Some(&converted),
    );
    assert!(out.ok, "{}", out.stderr);
    let admitted: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        admitted["spec"]["resources"]["requests"],
        json!({"cpu": "800m", "memory": "128Mi"})
    );
    assert_eq!(admitted["status"]["qosClass"], "Guaranteed");
}
