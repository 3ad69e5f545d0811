//! ResourceLists: wherever the functionConfig is, however it is written, and whatever looks
//! like it inside the items.

use super::*;
use kueueleuleu::object::Operation;

#[test]
fn function_config_before_between_and_after_the_items() {
    let want_item = as_item(&reference(&with_config("reg.example/k:1")), 0);
    let plain_item = as_item(POD, 0);
    let fc = function_config("reg.example/k:1");
    let cm = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n";
    for (input, want) in [
        (
            format!("{RL_HEAD}{fc}items:\n{plain_item}{cm}"),
            format!("{RL_HEAD}{fc}items:\n{want_item}{cm}"),
        ),
        (
            format!("{RL_HEAD}items:\n{plain_item}{cm}{fc}"),
            format!("{RL_HEAD}items:\n{want_item}{cm}{fc}"),
        ),
        (
            format!(
                "apiVersion: config.kubernetes.io/v1\nitems:\n{plain_item}{fc}kind: ResourceList\n"
            ),
            format!(
                "apiVersion: config.kubernetes.io/v1\nitems:\n{want_item}{fc}kind: ResourceList\n"
            ),
        ),
        (
            format!("{fc}{RL_HEAD}items:\n{plain_item}"),
            format!("{fc}{RL_HEAD}items:\n{want_item}"),
        ),
    ] {
        resource_list_gives(&input, &Overrides::default(), &want);
    }
}

#[test]
fn no_function_config_and_a_function_config_in_flow_style() {
    let default_item = as_item(&reference(&Overrides::default()), 0);
    let plain_item = as_item(POD, 0);
    let input = format!("{RL_HEAD}items:\n{plain_item}");
    both_ways(&input);
    let out = convert(&input).0;
    assert_same_text(
        "no functionConfig",
        format!("{RL_HEAD}items:\n{default_item}").trim_end(),
        out.split("\nresults:\n").next().unwrap(),
    );
    let want_item = as_item(&reference(&with_config("reg.example/k:2")), 0);
    let fc = "functionConfig: {apiVersion: v1, kind: ConfigMap, data: {image: reg.example/k:2}}\n";
    resource_list_gives(
        &format!("{RL_HEAD}items:\n{plain_item}{fc}"),
        &Overrides::default(),
        &format!("{RL_HEAD}items:\n{want_item}{fc}"),
    );
}

#[test]
fn a_json_resource_list_converts_as_its_yaml_twin() {
    let pod: Value = serde_yaml::from_str(POD).unwrap();
    let list = json!({
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": [pod],
        "functionConfig": config_map("reg.example/k:3"),
    });
    let input = serde_json::to_string_pretty(&list).unwrap() + "\n";
    assert!(
        both_ways(&input) >= 1,
        "the JSON Pod is handed over with its tree"
    );
    let out = convert(&input).0;
    let got: Value = serde_json::from_str(&out).expect("JSON comes back");
    let want: Value = serde_yaml::from_str(&reference(&with_config("reg.example/k:3"))).unwrap();
    assert_eq!(got["items"][0], want);
    assert_eq!(got["functionConfig"], list["functionConfig"]);
}

#[test]
fn the_config_flag_wins_over_the_function_config_on_both_paths() {
    let want_item = as_item(&reference(&with_config("reg.example/flag:1")), 0);
    let fc = function_config("reg.example/fc:1");
    for input in [
        format!("{RL_HEAD}items:\n{}{fc}", as_item(POD, 0)),
        format!("{RL_HEAD}{fc}items:\n{}", as_item(POD, 0)),
    ] {
        let want = input.replace(&as_item(POD, 0), &want_item);
        resource_list_gives(&input, &with_config("reg.example/flag:1"), &want);
    }
}

#[test]
fn lines_that_look_like_the_config_inside_items_change_nothing() {
    let want_item = as_item(&reference(&with_config("reg.example/real:1")), 0);
    let fc = function_config("reg.example/real:1");
    // `kind: ResourceList` and `functionConfig:` at the start of lines inside an item, and a
    // decoy item of that kind: only the real top-level key is the config.
    let decoy = "- apiVersion: example.com/v1\n  kind: ResourceList\n  functionConfig:\n    apiVersion: v1\n    kind: ConfigMap\n    data: {selectAll: \"true\", image: decoy}\n";
    let script_item = "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: s}\n  data:\n    s: |\n      kind: ResourceList\n      functionConfig:\n        data: {image: decoy}\n";
    let input = format!(
        "{RL_HEAD}items:\n{decoy}{script_item}{}{fc}",
        as_item(POD, 0)
    );
    let want = format!("{RL_HEAD}items:\n{decoy}{script_item}{want_item}{fc}");
    resource_list_gives(&input, &Overrides::default(), &want);
    // A quoted scalar cannot continue at column 0: such a decoy is not YAML at all.
    let broken = format!(
        "{RL_HEAD}items:\n- apiVersion: v1\n  kind: ConfigMap\n  data:\n    a: \"x\nfunctionConfig: y\"\n"
    );
    assert!(run(broken.as_bytes(), Operation::Convert, &Overrides::default()).is_err());
}

#[test]
fn a_guessed_config_that_is_no_config_is_reported_once() {
    let input = format!(
        "{RL_HEAD}items:\n{}functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data: {{sepc: 1}}\n",
        as_item(POD, 0)
    );
    let out = run(input.as_bytes(), Operation::Convert, &Overrides::default()).unwrap();
    assert!(out.failed);
    let errors: Vec<_> = out.reports.iter().map(|r| r.message).collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("sepc"), "{errors:#?}");
    assert!(
        out.text().starts_with(&input),
        "nothing changed:\n{}",
        out.text()
    );
}

#[test]
fn items_indented_under_items_or_not() {
    let want = reference(&Overrides::default());
    for col in [0, 2, 4] {
        let input = format!(
            "{RL_HEAD}items:\n{}{}",
            as_item(POD, col),
            function_config("ghcr.io/kueueleuleu/kueueleuleu:v0.1.0")
        );
        let out = convert(&input).0;
        let expected = format!(
            "{RL_HEAD}items:\n{}{}",
            as_item(&want, col),
            function_config("ghcr.io/kueueleuleu/kueueleuleu:v0.1.0")
        );
        resource_list_gives(&input, &Overrides::default(), &expected);
        assert!(out.contains("kueueleuleu-init"));
    }
}

#[test]
fn items_after_converted_ones_keep_their_alias_links_and_positions() {
    // The scan keeps nothing of the items it hands over, so what it says of later items (which
    // object an alias reaches into, which item is not an object) must not shift.
    let anchored = POD.replace("name: p\n", "name: &n p\n");
    let aliased = POD.replace("name: p\n", "name: *n\n");
    let items = [POD, POD, &anchored, &aliased]
        .map(|p| as_item(p, 0))
        .concat();
    let input = format!("{RL_HEAD}items:\n{items}");
    assert_eq!(both_ways(&input), 2, "the two plain Pods are handed over");
    let (out, reports) = convert(&input);
    assert!(
        out.starts_with(&input) && out[input.len()..].starts_with("results:\n"),
        "an error changes nothing but the results:\n{out}"
    );
    let errors: Vec<_> = reports
        .iter()
        .filter(|r| r.severity == kueueleuleu::convert::Severity::Error)
        .collect();
    assert_eq!(errors.len(), 1, "{reports:#?}");
    let aliased_line = input.lines().position(|l| l.contains("*n")).unwrap();
    let aliased_start = input[..input.find("*n").unwrap()].rfind("- ").unwrap();
    assert_eq!(
        errors[0].object.line,
        Some(kueueleuleu::text::line_of(&input, aliased_start)),
        "the error names the item with the alias (line {})",
        aliased_line + 1
    );
    assert!(errors[0].message.contains("alias"), "{reports:#?}");

    let not_an_object = format!(
        "{RL_HEAD}items:\n{}- just a string\n",
        [POD, POD].map(|p| as_item(p, 0)).concat()
    );
    let e = run(
        not_an_object.as_bytes(),
        Operation::Convert,
        &Overrides::default(),
    )
    .expect_err("an item that is no object refuses the input");
    assert!(e.to_string().contains("item 2 "), "{e}");
}

#[test]
fn results_longer_than_one_stored_piece_come_out_whole_and_in_order() {
    // 2 results per Pod, about 250 bytes each: far past the 64 KiB pieces results are stored in.
    let items: String = (0..400)
        .map(|i| as_item(&POD.replace("name: p\n", &format!("name: p{i}\n")), 0))
        .collect();
    for tail in [
        "",
        "results: []\n",
        "results:\n- message: old\n  severity: info\n",
    ] {
        let input = format!("{RL_HEAD}items:\n{items}{tail}");
        let out = run(input.as_bytes(), Operation::Convert, &Overrides::default()).unwrap();
        let text = out.text();
        assert_eq!(out.reports.len(), 800);
        let mut want = String::new();
        kueueleuleu::results::write_block_entry(out.reports.iter(), &mut want).unwrap();
        let at = text.rfind("\nresults:\n").expect("results are written") + 1;
        assert_eq!(&text[at..], format!("{want}\n"), "after {tail:?}");
        let names: Vec<String> = out.reports.iter().map(|r| r.object.name).collect();
        let expected: Vec<String> = (0..400)
            .flat_map(|i| [format!("p{i}"), format!("p{i}")])
            .collect();
        assert_eq!(names, expected, "results follow the items' order");
    }
}
