//! Tests of the function config.
use super::*;
use serde_json::json;

#[test]
fn absent_config_means_defaults() {
    assert_eq!(Spec::from_function_config(None).unwrap(), Spec::default());
    assert_eq!(
        Spec::from_function_config(Some(&Value::Null)).unwrap(),
        Spec::default()
    );
}

#[test]
fn typed_config_reads_every_key() {
    let cfg = json!({"apiVersion": API_VERSION, "kind": KIND,
        "metadata": {"name": "x", "annotations": {"config.kubernetes.io/function": "exec: {}"}},
        "spec": {"image": "img:1", "selectAll": true, "commands": {"nginx:1.27": ["nginx"]}}});
    let spec = Spec::from_function_config(Some(&cfg)).unwrap();
    assert_eq!(spec.image, "img:1");
    assert!(spec.select_all);
    assert_eq!(
        spec.command_for("nginx:1.27").unwrap().entrypoint,
        ["nginx"]
    );
}

#[test]
fn config_map_strings_are_parsed() {
    let cfg = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "data": {"selectAll": "true", "commands": "{\"a:1\": [\"run\", \"x\"]}"}});
    let spec = Spec::from_function_config(Some(&cfg)).unwrap();
    assert!(spec.select_all);
    assert_eq!(spec.image, DEFAULT_IMAGE);
    assert_eq!(spec.command_for("a:1").unwrap().entrypoint, ["run", "x"]);
    let full = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "data": {"commands": "{\"py:3\": {\"entrypoint\": [], \"cmd\": [\"python3\"]}}"}});
    let spec = Spec::from_function_config(Some(&full)).unwrap();
    assert_eq!(spec.command_for("py:3").unwrap().cmd, ["python3"]);
}

#[test]
fn unknown_and_mistyped_keys_are_errors() {
    let typo = json!({"apiVersion": API_VERSION, "kind": KIND, "spec": {"selectall": true}});
    let err = Spec::from_function_config(Some(&typo))
        .unwrap_err()
        .to_string();
    assert!(err.contains("selectall"), "{err}");
    let typed = json!({"apiVersion": API_VERSION, "kind": KIND, "spec": {"selectAll": "yes"}});
    assert!(Spec::from_function_config(Some(&typed)).is_err());
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"selectAl": "true"}});
    let err = Spec::from_function_config(Some(&cm))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("data.selectAl") && err.contains("did you mean \"selectAll\""),
        "{err}"
    );
    let outside = json!({"apiVersion": API_VERSION, "kind": KIND, "spce": {}});
    let err = Spec::from_function_config(Some(&outside))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"spce\"") && err.contains("did you mean \"spec\""),
        "{err}"
    );
    let typo = json!({"apiVersion": API_VERSION, "kind": KIND, "spec": {"imgae": "x"}});
    let err = Spec::from_function_config(Some(&typo))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("spec.imgae") && err.contains("\"image\""),
        "{err}"
    );
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"selectAll": "yes"}});
    assert!(Spec::from_function_config(Some(&cm)).is_err());
    let other = json!({"apiVersion": "v1", "kind": "Secret"});
    assert!(matches!(
        Spec::from_function_config(Some(&other)),
        Err(ConfigError::UnsupportedKind { .. })
    ));
    let empty_cmd =
        json!({"apiVersion": API_VERSION, "kind": KIND, "spec": {"commands": {"a": []}}});
    assert!(Spec::from_function_config(Some(&empty_cmd)).is_err());
}

#[test]
fn resources_policy_in_both_shapes_with_a_hint_for_typos() {
    let typed = json!({"apiVersion": API_VERSION, "kind": KIND, "spec": {"resources": "max"}});
    let spec = Spec::from_function_config(Some(&typed)).unwrap();
    assert_eq!(spec.resources, ResourcePolicy::Max);
    let map = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"resources": "keep"}});
    assert_eq!(
        Spec::from_function_config(Some(&map)).unwrap().resources,
        ResourcePolicy::Keep
    );
    let bad = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"resources": "Max"}});
    let err = Spec::from_function_config(Some(&bad))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("data.resources") && err.contains("did you mean \"max\""),
        "{err}"
    );
    let key = json!({"apiVersion": API_VERSION, "kind": KIND, "spec": {"resource": "max"}});
    let err = Spec::from_function_config(Some(&key))
        .unwrap_err()
        .to_string();
    assert!(err.contains("did you mean \"resources\""), "{err}");
}

#[test]
fn sidecars_and_probe_drop_in_both_shapes() {
    let typed = json!({"apiVersion": API_VERSION, "kind": KIND,
        "spec": {"probes": "drop", "sidecars": ["proxy", "logs"]}});
    let spec = Spec::from_function_config(Some(&typed)).unwrap();
    assert_eq!(spec.probes, ProbePolicy::Drop);
    assert_eq!(spec.sidecars, ["proxy", "logs"]);
    for text in ["proxy, logs", "[proxy, logs]", "[\"proxy\", \"logs\"]"] {
        let map = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "data": {"probes": "drop", "sidecars": text}});
        let spec = Spec::from_function_config(Some(&map)).unwrap();
        assert_eq!(spec.sidecars, ["proxy", "logs"], "{text}");
        assert_eq!(spec.probes, ProbePolicy::Drop);
    }
    let twice = json!({"apiVersion": API_VERSION, "kind": KIND, "spec": {"sidecars": ["a", "a"]}});
    let err = Spec::from_function_config(Some(&twice))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("spec.sidecars") && err.contains("twice"),
        "{err}"
    );
    let typo = json!({"apiVersion": API_VERSION, "kind": KIND, "spec": {"sidecar": ["a"]}});
    let err = Spec::from_function_config(Some(&typo))
        .unwrap_err()
        .to_string();
    assert!(err.contains("did you mean \"sidecars\""), "{err}");
    let bad = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"probes": "dropp"}});
    let err = Spec::from_function_config(Some(&bad))
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"drop\""), "{err}");
}
