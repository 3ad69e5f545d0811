use super::super::quantity::Quantity;
use crate::config::Spec as Config;
use crate::convert::resources::{RESOURCES_ENV, ResourcePolicy};
use crate::convert::{Install, Plan, Severity, apply_json, revert, unwrap, wrap};
use crate::step_settings::{StepSettings, StepsMap};
use serde_json::{Value, json};

fn max() -> Config {
    Config {
        resources: ResourcePolicy::Max,
        ..Config::default()
    }
}

fn step(name: &str, resources: Value) -> Value {
    json!({"name": name, "image": "x", "command": ["true"], "resources": resources})
}

fn plan(spec: &Value, config: &Config) -> Result<Plan, Vec<crate::convert::Finding>> {
    wrap(&unwrap(spec).unwrap(), config, &StepsMap::new())
}

fn convert(spec: &Value, config: &Config) -> Value {
    apply_json(spec, &plan(spec, config).unwrap())
}

fn q(v: &Value) -> i128 {
    Quantity::from_value(v).unwrap_or_else(|| panic!("{v}")).0
}

/// The sum of the steps' requests for `resource` (requests defaulted from limits).
fn step_sum(spec: &Value, resource: &str) -> i128 {
    spec["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let r = &c["resources"];
            let v = r["requests"].get(resource).or(r["limits"].get(resource));
            v.map_or(0, q)
        })
        .sum()
}

fn five() -> Value {
    json!({"restartPolicy": "Never", "containers": [
        step("a", json!({"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}})),
        step("b", json!({"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}})),
        step("c", json!({"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "500m", "memory": "1Gi"}})),
        step("d", json!({"requests": {"cpu": "1", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}})),
        step("e", json!({"requests": {"cpu": "250m", "memory": "2Gi"}, "limits": {"cpu": "250m", "memory": "2Gi"}})),
    ]})
}

#[test]
fn a_chain_requests_its_largest_step_and_the_steps_fit_under_it() {
    let input = five();
    let out = convert(&input, &max());
    assert_eq!(
        out["resources"],
        json!({"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}})
    );
    for resource in ["cpu", "memory"] {
        assert!(step_sum(&out, resource) <= q(&out["resources"]["requests"][resource]));
    }
    // Shares: 2 / 5 = 400m and 4Gi / 5 floored to 819Mi, never above a step's own request.
    let b = &out["containers"][1]["resources"];
    assert_eq!(b["requests"], json!({"cpu": "400m", "memory": "819Mi"}));
    assert_eq!(b["limits"], json!({"cpu": "2", "memory": "4Gi"}));
    assert_eq!(out["containers"][0]["resources"]["requests"]["cpu"], "100m");
    // The init container asks for the first step's requests and sits under the pod limit.
    let init = &out["initContainers"][0];
    assert_eq!(
        init["resources"],
        json!({"requests": {"cpu": "100m", "memory": "64Mi"}})
    );
    let env: Vec<&str> = init["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        env.contains(&RESOURCES_ENV) && env.contains(&"KUEUELEULEU_POD_LIMIT_MEMORY"),
        "{env:?}"
    );
    let expected = init["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "KUEUELEULEU_POD_LIMIT_CPU")
        .unwrap();
    assert_eq!(expected["value"], "2000");
    // A normal form, and revert gives the input back; keep undoes max.
    assert_eq!(convert(&out, &max()), out);
    assert_eq!(apply_json(&out, &revert(&unwrap(&out).unwrap())), input);
    assert_eq!(
        convert(&out, &Config::default()),
        convert(&input, &Config::default())
    );
}

#[test]
fn steps_that_may_overlap_are_added_up() {
    let mut input = five();
    input["containers"].as_array_mut().unwrap().truncate(3);
    // c waits for a only: b and c may run at the same time.
    let mut config = max();
    config.steps.insert(
        "b".into(),
        StepSettings {
            after: Some(vec!["a".into()]),
            ..StepSettings::default()
        },
    );
    config.steps.insert(
        "c".into(),
        StepSettings {
            after: Some(vec!["a".into()]),
            ..StepSettings::default()
        },
    );
    let out = convert(&input, &config);
    assert_eq!(
        out["resources"]["requests"],
        json!({"cpu": "2500m", "memory": "5Gi"})
    );
    assert!(step_sum(&out, "cpu") <= q(&json!("2500m")));
}

#[test]
fn limits_only_and_bare_steps_get_explicit_requests_and_no_pod_limit() {
    let input = json!({"restartPolicy": "Never", "containers": [
        step("a", json!({"limits": {"cpu": "1", "memory": "1Gi"}})),
        json!({"name": "b", "image": "x", "command": ["true"]}),
    ]});
    let out = convert(&input, &max());
    assert_eq!(
        out["resources"],
        json!({"requests": {"cpu": "1", "memory": "1Gi"}})
    );
    assert_eq!(
        out["containers"][0]["resources"]["requests"],
        json!({"cpu": "500m", "memory": "512Mi"})
    );
    assert_eq!(
        out["containers"][1]["resources"],
        json!({"requests": {"cpu": "500m", "memory": "512Mi"}})
    );
    // No pod limit: the init container keeps the copied limits, and no guard.
    let init = &out["initContainers"][0];
    assert_eq!(
        init["resources"]["limits"],
        json!({"cpu": "1", "memory": "1Gi"})
    );
    assert!(
        init["env"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["name"] != "KUEUELEULEU_POD_LIMIT_CPU")
    );
    assert_eq!(apply_json(&out, &revert(&unwrap(&out).unwrap())), input);
}

#[test]
fn bad_quantities_name_the_container_and_field() {
    let input = json!({"containers": [step("fetch", json!({"requests": {"cpu": "lots"}}))]});
    let errors = plan(&input, &max()).unwrap_err();
    assert_eq!(errors[0].field, "containers[0].resources.requests.cpu");
    assert!(
        errors[0].message.contains("\"fetch\"") && errors[0].message.contains("resources: keep"),
        "{}",
        errors[0].message
    );
    let input = json!({"containers": [step("fetch", json!({"requests": ["1"]}))]});
    assert_eq!(
        plan(&input, &max()).unwrap_err()[0].field,
        "containers[0].resources.requests"
    );
}

#[test]
fn per_step_resources_warn_and_stay() {
    let input = json!({"restartPolicy": "Never", "containers": [
        step("a", json!({"requests": {"cpu": "1", "ephemeral-storage": "1Gi"}}))]});
    let plan = plan(&input, &max()).unwrap();
    let warning = plan
        .notes
        .iter()
        .find(|n| n.severity == Severity::Warning)
        .unwrap();
    assert!(
        warning.message.contains("ephemeral-storage"),
        "{}",
        warning.message
    );
    let out = apply_json(&input, &plan);
    assert_eq!(
        out["containers"][0]["resources"]["requests"]["ephemeral-storage"],
        "1Gi"
    );
}

#[test]
fn refusals_own_pod_resources_and_image_volume() {
    let mut input = five();
    input["resources"] = json!({"requests": {"cpu": "1"}});
    assert_eq!(plan(&input, &max()).unwrap_err()[0].field, "resources");
    let config = Config {
        install: Install::ImageVolume,
        ..max()
    };
    assert_eq!(plan(&five(), &config).unwrap_err()[0].field, "resources");
    // keep leaves a user's own pod-level resources alone.
    assert_eq!(
        convert(&input, &Config::default())["resources"],
        input["resources"]
    );
}

#[test]
fn nothing_to_size_changes_nothing() {
    let input = json!({"restartPolicy": "Never", "containers": [
        json!({"name": "a", "image": "x", "command": ["true"]})]});
    assert_eq!(convert(&input, &max()), convert(&input, &Config::default()));
}

#[test]
fn native_sidecars_add_to_the_steps_and_init_containers_set_a_floor() {
    let mut input = five();
    input["initContainers"] = json!([
        {"name": "setup", "image": "x", "resources": {"requests": {"cpu": "3", "memory": "64Mi"}, "limits": {"cpu": "3", "memory": "64Mi"}}},
        {"name": "proxy", "image": "x", "restartPolicy": "Always",
         "resources": {"requests": {"cpu": "100m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "32Mi"}}},
    ]);
    let out = convert(&input, &max());
    // cpu: the setup container (3) is more than the largest step and the sidecar (2.1);
    // memory: the largest step and the sidecar run together.
    assert_eq!(
        out["resources"],
        json!({"requests": {"cpu": "3", "memory": "4128Mi"}, "limits": {"cpu": "3", "memory": "4128Mi"}})
    );
    // The steps' shares still come from the steps alone.
    assert_eq!(out["containers"][1]["resources"]["requests"]["cpu"], "400m");
    assert_eq!(convert(&out, &max()), out);
    assert_eq!(apply_json(&out, &revert(&unwrap(&out).unwrap())), input);
}

#[test]
fn a_container_moved_to_a_sidecar_counts_beside_the_steps_and_paths_follow_the_steps() {
    // `proxy` sits between the steps; it becomes a native sidecar, the steps keep their
    // places in the converted spec, and the record names the steps as they end up.
    let mut input = five();
    input["containers"].as_array_mut().unwrap().insert(
        1,
        json!({"name": "proxy", "image": "x", "command": ["proxy"],
               "resources": {"requests": {"cpu": "100m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "32Mi"}}}),
    );
    let config = Config {
        sidecars: vec!["proxy".into()],
        ..max()
    };
    let out = convert(&input, &config);
    assert_eq!(out["initContainers"][0]["name"], "proxy");
    assert_eq!(
        out["resources"]["requests"],
        json!({"cpu": "2100m", "memory": "4128Mi"})
    );
    assert_eq!(out["containers"][1]["name"], "b");
    assert_eq!(out["containers"][1]["resources"]["requests"]["cpu"], "400m");
    assert_eq!(
        out["initContainers"][0]["resources"]["requests"]["cpu"], "100m",
        "the sidecar keeps its resources"
    );
    assert_eq!(convert(&out, &config), out);
    assert_eq!(apply_json(&out, &revert(&unwrap(&out).unwrap())), input);
    assert_eq!(
        convert(
            &out,
            &Config {
                sidecars: vec!["proxy".into()],
                ..Config::default()
            }
        ),
        convert(
            &input,
            &Config {
                sidecars: vec!["proxy".into()],
                ..Config::default()
            }
        )
    );
}
