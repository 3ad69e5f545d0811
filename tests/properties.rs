//! Properties over generated pod specs: converting is a normal form (a second conversion
//! changes no byte) and revert gives back the same objects, for block and flow YAML alike.

use kueueleuleu::object::Operation;
use kueueleuleu::pipeline::{Overrides, run};
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("on".to_string()),
        Just("yes".to_string()),
        Just("0123".to_string()),
        Just("12:30".to_string()),
        Just("~".to_string()),
        Just("--".to_string()),
        Just("".to_string()),
        Just("line one\nline two\n".to_string()),
        Just("$(HOME) $$(ESCAPED)".to_string()),
        "[a-z0-9 :#'\"-]{0,12}",
        "\\PC{0,8}",
    ]
}

fn container(index: usize) -> impl Strategy<Value = Value> {
    (
        prop::option::of(prop::collection::vec(tricky_string(), 1..4)),
        prop::option::of(prop::collection::vec(tricky_string(), 0..4)),
        any::<bool>(),
    )
        .prop_map(move |(command, args, mounts)| {
            let mut c = json!({"name": format!("step-{index}"), "image": "busybox:1.36"});
            // A container without a command needs the config's `commands` entry for its
            // image; give those a distinct image that the config maps.
            match command {
                Some(cmd) => c["command"] = json!(cmd),
                None => c["image"] = json!("mapped:1"),
            }
            if let Some(args) = args {
                c["args"] = json!(args);
            }
            if mounts {
                c["volumeMounts"] = json!([{"name": "data", "mountPath": "/data"}]);
            }
            c
        })
}

fn pod() -> impl Strategy<Value = Value> {
    (1usize..5)
        .prop_flat_map(|n| {
            let containers: Vec<_> = (0..n).map(container).collect();
            (containers, prop::option::of(prop_oneof![Just("Never"), Just("OnFailure")]), any::<bool>())
        })
        .prop_map(|(containers, policy, volumes)| {
            let mut spec = json!({"containers": containers});
            if let Some(p) = policy {
                spec["restartPolicy"] = json!(p);
            }
            if volumes {
                spec["volumes"] = json!([{"name": "data", "emptyDir": {}}]);
            }
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": "generated", "annotations": {"kueueleuleu.io/sequential": "true"}},
                   "spec": spec})
        })
}

fn config() -> Overrides {
    Overrides {
        config: Some(
            json!({"apiVersion": "fn.kueueleuleu.io/v1alpha1", "kind": "Sequential",
                            "spec": {"commands": {"mapped:1": ["/entrypoint", "on"]}}}),
        ),
        select_all: false,
        ..Overrides::default()
    }
}

fn objects(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|de| Value::deserialize(de).unwrap())
        .collect()
}

/// Block style through the crate's own emitter, or flow style (JSON is YAML).
fn render(pod: &Value, flow: bool) -> String {
    if flow {
        serde_json::to_string(pod).unwrap() + "\n"
    } else {
        kueueleuleu::emit::block(pod, 0)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn convert_is_idempotent_and_revert_inverts_it(pod in pod(), flow in any::<bool>()) {
        let input = render(&pod, flow);
        let once = run(input.as_bytes(), Operation::Convert, &config()).unwrap();
        prop_assert!(!once.failed, "convert failed: {:?}\n{input}", once.reports);
        let once_text = once.text();
        prop_assert_ne!(&once_text, &input);
        let twice = run(once_text.as_bytes(), Operation::Convert, &config()).unwrap();
        prop_assert_eq!(&twice.text(), &once.text(), "not a normal form");
        let back = run(once_text.as_bytes(), Operation::Revert, &config()).unwrap();
        prop_assert!(!back.failed);
        prop_assert_eq!(objects(&back.text()), vec![pod.clone()]);
        let converted = &objects(&once.text())[0];
        let containers = converted["spec"]["containers"].as_array().unwrap();
        for (i, c) in containers.iter().enumerate() {
            prop_assert_eq!(&c["command"], &json!(["/kueueleuleu/bin/kueueleuleu-step"]));
            let mounts = c["volumeMounts"].as_array().unwrap();
            let own = format!("kueueleuleu-run-{i}");
            prop_assert!(mounts.iter().any(|m| m["name"] == own.as_str() && m.get("readOnly").is_none()));
            prop_assert_eq!(mounts.len(), pod["spec"]["containers"][i].get("volumeMounts").map_or(0, |_| 1) + if i == 0 { 2 } else { 3 });
        }
    }
}
