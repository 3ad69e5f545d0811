use crate::config::{ProbePolicy, Spec as Config};
use crate::convert::{Install, apply_json, revert, unwrap, wrap};
use crate::step_settings::StepsMap;
use serde_json::{Value, json};

fn config(sidecars: &[&str], probes: ProbePolicy, install: Install) -> Config {
    Config {
        sidecars: sidecars.iter().map(|s| s.to_string()).collect(),
        probes,
        install,
        ..Config::default()
    }
}

fn convert(spec: &Value, config: &Config) -> Result<Value, Vec<String>> {
    let original = unwrap(spec).map_err(|e| vec![format!("{e:?}")])?;
    let plan = wrap(&original, config, &StepsMap::new()).map_err(|e| {
        e.into_iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
    })?;
    Ok(apply_json(spec, &plan))
}

fn back(spec: &Value) -> Value {
    apply_json(spec, &revert(&unwrap(spec).unwrap()))
}

fn input() -> Value {
    json!({"restartPolicy": "Never", "containers": [
        {"name": "proxy", "image": "x", "command": ["sleep", "infinity"],
         "readinessProbe": {"exec": {"command": ["true"]}}},
        {"name": "a", "image": "x", "command": ["echo", "a"],
         "livenessProbe": {"exec": {"command": ["false"]}}, "args": null},
        {"name": "b", "image": "x", "command": ["echo", "b"]}],
        "initContainers": []})
}

#[test]
fn moved_sidecars_and_dropped_probes_are_stable_in_both_modes_and_revert_exactly() {
    let spec = input();
    for install in [Install::InitContainer, Install::ImageVolume] {
        let cfg = config(&["proxy"], ProbePolicy::Drop, install);
        let out = convert(&spec, &cfg).unwrap();
        let steps: Vec<&str> = out["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(steps, ["a", "b"], "{out}");
        let proxy = &out["initContainers"][0];
        assert_eq!(proxy["name"], "proxy");
        assert_eq!(proxy["restartPolicy"], "Always");
        assert!(
            proxy.get("readinessProbe").is_some(),
            "sidecars keep probes"
        );
        assert!(out["containers"][0].get("livenessProbe").is_none());
        // Step b is step 1: its run dir does not count the sidecar.
        let args = out["containers"][1]["args"].to_string();
        assert!(args.contains("/kueueleuleu/run/1"), "{args}");
        assert_eq!(
            convert(&out, &cfg).unwrap(),
            out,
            "idempotent ({install:?})"
        );
        assert_eq!(back(&out), spec, "{install:?}");
        // Switching the install mode keeps the records.
        let other = if install == Install::InitContainer {
            Install::ImageVolume
        } else {
            Install::InitContainer
        };
        let switched = convert(&out, &config(&["proxy"], ProbePolicy::Drop, other)).unwrap();
        assert_eq!(back(&switched), spec);
    }
}

#[test]
fn another_probe_policy_on_a_dropped_conversion_writes_back_or_refuses() {
    let spec = input();
    let out = convert(
        &spec,
        &config(&["proxy"], ProbePolicy::Drop, Install::InitContainer),
    )
    .unwrap();
    let kept = convert(
        &out,
        &config(&["proxy"], ProbePolicy::Keep, Install::InitContainer),
    )
    .unwrap();
    assert_eq!(
        kept["containers"][0]["livenessProbe"],
        spec["containers"][1]["livenessProbe"]
    );
    assert_eq!(back(&kept), spec);
    let err = convert(
        &out,
        &config(&["proxy"], ProbePolicy::Error, Install::InitContainer),
    )
    .unwrap_err();
    // Container 0 of the converted spec (it was 1 before the sidecar moved out).
    assert!(err[0].starts_with("containers[0].livenessProbe"), "{err:?}");
}

#[test]
fn changing_the_sidecars_of_a_converted_spec_is_refused() {
    let spec = input();
    let out = convert(
        &spec,
        &config(&["proxy"], ProbePolicy::Drop, Install::InitContainer),
    )
    .unwrap();
    let err = convert(
        &out,
        &config(&[], ProbePolicy::Drop, Install::InitContainer),
    )
    .unwrap_err();
    assert!(err[0].contains("no longer names it"), "{err:?}");
    let err = convert(
        &out,
        &config(&["proxy", "b"], ProbePolicy::Drop, Install::InitContainer),
    )
    .unwrap_err();
    assert!(err[0].contains("revert the object"), "{err:?}");
}

#[test]
fn config_names_absent_from_a_pod_are_ignored_and_steps_fields_point_at_containers() {
    let spec = json!({"containers": [
        {"name": "proxy", "image": "x", "command": ["sleep", "1"]},
        {"name": "web", "image": "nginx"}]});
    let err = convert(
        &spec,
        &config(
            &["proxy", "elsewhere"],
            ProbePolicy::Error,
            Install::InitContainer,
        ),
    )
    .unwrap_err();
    // `web` is step 0 but container 1: the field names the container.
    assert!(err[0].starts_with("containers[1].command"), "{err:?}");
}

#[test]
fn names_parse_as_lists_or_commas() {
    use super::parse_names;
    assert_eq!(parse_names("a, b").unwrap(), ["a", "b"]);
    assert_eq!(parse_names("[a, \"b\"]").unwrap(), ["a", "b"]);
    assert_eq!(parse_names("- a\n- b\n").unwrap(), ["a", "b"]);
    assert!(parse_names("a, a").unwrap_err().contains("twice"));
    assert!(parse_names("[1]").unwrap_err().contains("quote"));
}

#[test]
fn the_typed_api_reads_the_annotation_and_reverts() {
    use k8s_openapi::api::core::v1::Pod;
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "annotations": {"kueueleuleu.io/sidecars": "proxy"}},
        "spec": {"restartPolicy": "Never", "containers": [
            {"name": "proxy", "image": "x", "command": ["sleep", "infinity"]},
            {"name": "a", "image": "x", "command": ["echo", "a"]}]}}))
    .unwrap();
    let options = crate::api::Options::default();
    let converted = crate::api::convert_pod(&pod, &options).unwrap();
    let spec = converted.spec.as_ref().unwrap();
    assert_eq!(spec.containers.len(), 1);
    let init = spec.init_containers.as_ref().unwrap();
    assert_eq!(init[0].name, "proxy");
    assert_eq!(init[0].restart_policy.as_deref(), Some("Always"));
    assert_eq!(
        crate::api::convert_pod(&converted, &options).unwrap(),
        converted
    );
    assert_eq!(crate::api::revert_pod(&converted).unwrap(), pod);
    let mut unknown = pod.clone();
    unknown
        .metadata
        .annotations
        .as_mut()
        .unwrap()
        .insert(super::SIDECARS_ANNOTATION.into(), "proxxy".into());
    let err = crate::api::convert_pod(&unknown, &options)
        .unwrap_err()
        .to_string();
    assert!(err.contains("the containers are proxy, a"), "{err}");
}
