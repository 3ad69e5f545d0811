//! Unit tests of the pure conversion.

use super::*;

fn spec(containers: Value) -> Value {
    json!({"containers": containers})
}

#[test]
fn wrap_then_unwrap_gives_back_the_original() {
    let input = spec(json!([
        {"name": "a", "image": "x", "command": ["sh", "-c"], "args": ["echo $(HOME)"]},
        {"name": "b", "image": "mapped", "args": []},
    ]));
    let config = Config {
        commands: [(
            "mapped".to_string(),
            crate::config::ImageCommand::Entrypoint(vec!["/entry".to_string()]),
        )]
        .into(),
        ..Config::default()
    };
    let original = unwrap(&input).unwrap();
    let converted = apply_json(&input, &wrap(&original, &config, &StepsMap::new()).unwrap());
    let again = unwrap(&converted).unwrap();
    assert!(again.was_converted);
    assert_eq!(again.containers, original.containers);
    assert_eq!(
        again.restart_policy, None,
        "a defaulted restartPolicy reads back as unset"
    );
    assert_eq!(apply_json(&converted, &revert(&again)), input);
}

#[test]
fn runner_flags_survive_kubelet_expansion() {
    let input = spec(json!([{"name": "a", "image": "x", "command": ["true"],
                             "terminationMessagePath": "/logs/$(POD)/$$msg"}]));
    let plan = wrap(
        &unwrap(&input).unwrap(),
        &Config::default(),
        &StepsMap::new(),
    )
    .unwrap();
    let args = plan.containers[0].args.clone().unwrap();
    let at = args.iter().position(|a| a == "--termination-path").unwrap();
    assert_eq!(args[at + 1], "/logs/$$(POD)/$$$$msg");
}

#[test]
fn always_and_missing_command_are_errors_naming_the_field() {
    let always =
        json!({"restartPolicy": "Always", "containers": [{"name": "a", "command": ["true"]}]});
    let errors = wrap(
        &unwrap(&always).unwrap(),
        &Config::default(),
        &StepsMap::new(),
    )
    .unwrap_err();
    assert_eq!(errors[0].field, "restartPolicy");
    let bare = spec(json!([{"name": "web", "image": "nginx:1.27"}]));
    let errors = wrap(
        &unwrap(&bare).unwrap(),
        &Config::default(),
        &StepsMap::new(),
    )
    .unwrap_err();
    assert_eq!(errors[0].field, "containers[0].command");
    assert!(
        errors[0].message.contains("\"nginx:1.27\""),
        "{}",
        errors[0].message
    );
}

/// Kubernetes' rules for what a container runs, with the image's ENTRYPOINT and CMD from
/// the config, and revert giving back exactly what the user wrote.
#[test]
fn entrypoint_and_cmd_follow_kubernetes_rules() {
    use crate::config::{EntrypointAndCmd, ImageCommand};
    let config = Config {
        commands: [
            (
                "both".to_string(),
                ImageCommand::Full(EntrypointAndCmd {
                    entrypoint: vec!["/entry".into()],
                    cmd: vec!["serve".into(), "--port=80".into()],
                }),
            ),
            (
                "cmd-only".to_string(),
                ImageCommand::Full(EntrypointAndCmd {
                    entrypoint: vec![],
                    cmd: vec!["python3".into()],
                }),
            ),
        ]
        .into(),
        ..Config::default()
    };
    let argv = |container: Value| {
        let input = spec(json!([container]));
        let plan = wrap(&unwrap(&input).unwrap(), &config, &StepsMap::new()).unwrap();
        let converted = apply_json(&input, &plan);
        assert_eq!(
            apply_json(&converted, &revert(&unwrap(&converted).unwrap())),
            input
        );
        let args = plan.containers[0].args.clone().unwrap();
        let at = args.iter().position(|a| a == "--").unwrap();
        args[at + 1..].to_vec()
    };
    // Neither command nor args: ENTRYPOINT + CMD.
    assert_eq!(
        argv(json!({"name": "a", "image": "both"})),
        ["/entry", "serve", "--port=80"]
    );
    // args only: ENTRYPOINT + args, the image's CMD is dropped.
    assert_eq!(
        argv(json!({"name": "a", "image": "both", "args": ["x"]})),
        ["/entry", "x"]
    );
    // command only: the image is not consulted at all.
    assert_eq!(
        argv(json!({"name": "a", "image": "both", "command": ["true"]})),
        ["true"]
    );
    // both: as written.
    assert_eq!(
        argv(json!({"name": "a", "image": "both", "command": ["sh"], "args": ["-c", "x"]})),
        ["sh", "-c", "x"]
    );
    // No ENTRYPOINT: CMD is the program, or the args are.
    assert_eq!(argv(json!({"name": "a", "image": "cmd-only"})), ["python3"]);
    assert_eq!(
        argv(json!({"name": "a", "image": "cmd-only", "args": ["app.py"]})),
        ["app.py"]
    );
    // args: [] is no args, as for the kubelet: CMD runs, and revert keeps the empty list.
    assert_eq!(
        argv(json!({"name": "a", "image": "both", "args": []})),
        ["/entry", "serve", "--port=80"]
    );
}
