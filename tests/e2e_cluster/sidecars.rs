//! Sidecars and `probes: drop` on the real cluster (tests/cluster/sidecars-and-probes.yaml):
//! a never-exiting regular container named in `kueueleuleu.io/sidecars` runs beside the
//! steps as a native sidecar and the Job completes; a step's failing liveness probe is
//! dropped (with a warning) so the step is not killed while it waits, and kept it does kill.

use super::cluster_support::pods::{
    assert_all_succeeded_in_order, assert_strict_order, phase, steps,
};
use super::cluster_support::{convert, kueueleuleu, manifest};
use super::{BUDGET, cluster};
use serde_json::Value;

macro_rules! namespace {
    ($test:expr) => {
        match cluster($test) {
            Some(c) => c.namespace($test, &[], BUDGET),
            None => return,
        }
    };
}

/// The one document of the scenario named `name`.
fn document(name: &str) -> String {
    let text = manifest("sidecars-and-probes.yaml");
    text.split("\n---\n")
        .find(|d| d.contains(&format!("\n  name: {name}\n")))
        .unwrap_or_else(|| panic!("no object {name}"))
        .to_string()
}

/// Converts with `probes: <policy>` given as a config file; the output and stderr.
fn convert_with_probes(doc: &str, policy: &str) -> (String, String) {
    let dir = std::env::temp_dir().join(format!("kueueleuleu-e2e-probes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join(format!("{policy}.yaml"));
    std::fs::write(
        &config,
        format!(
            "apiVersion: fn.kueueleuleu.io/v1alpha1\nkind: Sequential\nmetadata: {{name: c}}\n\
             spec:\n  probes: {policy}\n"
        ),
    )
    .unwrap();
    let out = kueueleuleu(&["convert", "--config", config.to_str().unwrap()], doc);
    assert!(out.ok, "convert failed: {}", out.stderr);
    (out.stdout, out.stderr)
}

fn init_status<'a>(pod: &'a Value, name: &str) -> &'a Value {
    pod["status"]["initContainerStatuses"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no init container status {name}: {pod}"))
}

#[test]
fn a_named_sidecar_runs_beside_the_steps_and_the_job_completes() {
    let ns = namespace!("sidecar-moved");
    let converted = convert(&document("moved-proxy"));
    ns.apply(&converted);
    ns.wait_job_ended("moved-proxy", "Complete");
    let (name, pod) = ns.only_job_pod("moved-proxy");
    assert_eq!(phase(&pod), "Succeeded", "{}", ns.diagnostics());
    let spec = &pod["spec"];
    // The proxy is a native sidecar now, before the runner's installer; not a step.
    let init: Vec<(&str, &Value)> = spec["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), &c["restartPolicy"]))
        .collect();
    assert_eq!(init[0], ("proxy", &Value::from("Always")), "{init:?}");
    assert_eq!(init[1].0, "kueueleuleu-init");
    let s = steps(&pod);
    let names: Vec<&str> = s.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["one", "two"]);
    assert_all_succeeded_in_order(&s);
    assert_eq!(ns.logs(&name, "two"), "two saw the proxy\n");
    // The proxy started before the first step and was up while the steps ran.
    let proxy = init_status(&pod, "proxy");
    let started = super::cluster_support::pods::parse_rfc3339(
        proxy["state"]["terminated"]["startedAt"]
            .as_str()
            .unwrap_or_else(|| panic!("proxy not terminated: {proxy}")),
    );
    assert!(started <= s[0].time("startedAt"), "{proxy}");
}

#[test]
fn a_dropped_liveness_probe_does_not_kill_a_waiting_step() {
    let ns = namespace!("probes-drop");
    let (converted, stderr) = convert_with_probes(&document("probed"), "drop");
    assert!(
        stderr.contains("spec.containers[1].livenessProbe")
            && stderr.contains("livenessProbe is dropped (probes: drop)"),
        "{stderr}"
    );
    // Only the record on the init container (a JSON string) still mentions it.
    assert!(
        !converted
            .lines()
            .any(|l| l.trim_start().starts_with("livenessProbe:")),
        "{converted}"
    );
    ns.apply(&converted);
    let pod = ns.wait_pod_done("probed");
    assert_eq!(phase(&pod), "Succeeded", "{}", ns.diagnostics());
    let s = steps(&pod);
    for step in &s {
        assert_eq!(
            (step.reason(), step.exit_code()),
            ("Succeeded", 0),
            "{step:?}"
        );
        assert_eq!(step.restart_count, 0);
    }
    assert_strict_order(&s);
    assert_eq!(ns.logs("probed", "second"), "second\n");
}

#[test]
fn a_kept_failing_liveness_probe_kills_the_waiting_step() {
    // The control for the test above: the probe really fails while the step waits.
    let ns = namespace!("probes-keep");
    let (converted, stderr) = convert_with_probes(&document("probed"), "keep");
    assert!(stderr.contains("keeps its livenessProbe"), "{stderr}");
    ns.apply(&converted);
    let pod = ns.wait_pod_done("probed");
    assert_eq!(phase(&pod), "Failed", "{}", ns.diagnostics());
    let second = &steps(&pod)[1];
    assert_ne!(second.exit_code(), 0, "{second:?}");
}
