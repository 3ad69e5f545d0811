use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}

#[test]
fn nothing_set_means_defaults() {
    let v = config_from_env(env(&[("PATH", "/bin"), ("ARGOCD_ENV_TEAM", "x")])).unwrap();
    assert_eq!(v, Value::Null);
}

#[test]
fn json_parameters_keep_image_names() {
    let v = config_from_env(env(&[
        (
            "ARGOCD_APP_PARAMETERS",
            r#"[{"name":"selectAll","string":"true"},{"name":"commands","map":{"nginx:1.27":"[\"nginx\"]"}}]"#,
        ),
        ("PARAM_SELECTALL", "true"),
        ("PARAM_COMMANDS_NGINX_1_27", "[\"nginx\"]"),
    ]))
    .unwrap();
    assert_eq!(
        v["spec"],
        json!({"selectAll": true, "commands": {"nginx:1.27": ["nginx"]}})
    );
}

#[test]
fn commands_take_both_config_forms() {
    let v = config_from_env(env(&[(
        "ARGOCD_ENV_commands",
        r#"{"a:1": ["x"], "b:1": {"entrypoint": ["y"], "cmd": ["z"]}}"#,
    )]))
    .unwrap();
    assert_eq!(v["spec"]["commands"]["b:1"]["cmd"], json!(["z"]));
    let e =
        config_from_env(env(&[("ARGOCD_ENV_commands", r#"{"a:1": {"args": []}}"#)])).unwrap_err();
    assert!(e.to_string().starts_with("ARGOCD_ENV_commands: "), "{e}");
}

#[test]
fn errors_name_the_variable() {
    let e = config_from_env(env(&[("PARAM_SELECTALL", "yes")])).unwrap_err();
    assert!(e.to_string().starts_with("PARAM_SELECTALL: "), "{e}");
    let e = config_from_env(env(&[("ARGOCD_ENV_selctAll", "true")])).unwrap_err();
    assert!(e.to_string().contains("did you mean `selectAll`"), "{e}");
    let e =
        config_from_env(env(&[("PARAM_IMAGE", "a:1"), ("ARGOCD_ENV_IMAGE", "b:1")])).unwrap_err();
    assert!(
        matches!(e, EnvConfigError::Conflict { key: "image", .. }),
        "{e}"
    );
    let e = config_from_env(env(&[("PARAM_INSTALL", "imagevolume")])).unwrap_err();
    assert!(
        e.to_string().contains("did you mean \"imageVolume\""),
        "{e}"
    );
    let v = config_from_env(env(&[("ARGOCD_ENV_install", "imageVolume")])).unwrap();
    assert_eq!(v["spec"], json!({"install": "imageVolume"}));
}

#[test]
fn resources_policy_from_env_and_parameters() {
    let v = config_from_env(env(&[("ARGOCD_ENV_resources", "max")])).unwrap();
    assert_eq!(v["spec"], json!({"resources": "max"}));
    let e = config_from_env(env(&[("PARAM_RESOURCES", "mx")])).unwrap_err();
    assert!(e.to_string().contains("did you mean \"max\""), "{e}");
    let spec = crate::config::Spec::from_function_config(Some(&v)).unwrap();
    assert_eq!(spec.resources, crate::config::ResourcePolicy::Max);
}

#[test]
fn probes_and_sidecars_from_parameters_and_env() {
    let params = r#"[{"name": "sidecars", "array": ["proxy", "logs"]}, {"name": "probes", "string": "drop"}]"#;
    let v = config_from_env(env(&[("ARGOCD_APP_PARAMETERS", params)])).unwrap();
    assert_eq!(
        v["spec"],
        json!({"probes": "drop", "sidecars": ["proxy", "logs"]})
    );
    let v = config_from_env(env(&[("ARGOCD_ENV_sidecars", "proxy, logs")])).unwrap();
    assert_eq!(v["spec"], json!({"sidecars": ["proxy", "logs"]}));
    let err = config_from_env(env(&[("PARAM_PROBES", "dorp")])).unwrap_err();
    assert!(
        err.to_string().contains("\"error\", \"drop\" or \"keep\""),
        "{err}"
    );
    let bad = r#"[{"name": "sidecars", "array": ["a", "a"]}]"#;
    let err = config_from_env(env(&[("ARGOCD_APP_PARAMETERS", bad)])).unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
    // The config they make is accepted as is.
    let v = config_from_env(env(&[("ARGOCD_APP_PARAMETERS", params)])).unwrap();
    let spec = crate::config::Spec::from_function_config(Some(&v)).unwrap();
    assert_eq!(spec.sidecars, ["proxy", "logs"]);
}
