//! The text around and inside an object: the end of the input, block scalars, repeated
//! keys, nesting, line endings.

use super::*;
use kueueleuleu::object::Operation;

#[test]
fn the_end_of_the_input() {
    let want = reference(&Overrides::default());
    // No line break after the last object.
    let out = convert(POD.trim_end()).0;
    assert_same_text("no final line break", want.trim_end(), &out);
    both_ways(POD.trim_end());
    // A comment after it, on its line and below it.
    // The comment stays on the line it was written on (b's command), below which the new
    // fields go.
    let commented = format!("{}  # last\n# trailer\n", POD.trim_end());
    let b_command = want
        .rfind("command: [/kueueleuleu/bin/kueueleuleu-step]\n")
        .unwrap()
        + "command: [/kueueleuleu/bin/kueueleuleu-step]".len();
    let want_commented = format!(
        "{}  # last{}# trailer\n",
        &want[..b_command],
        &want[b_command..]
    );
    stream_gives(&commented, &Overrides::default(), &want_commented);
    // A document end marker and a tab before a comment.
    let ended = format!("{POD}...\n");
    stream_gives(&ended, &Overrides::default(), &format!("{want}...\n"));
    let tabbed = POD.replace("command: [echo, b]", "command: [echo,\tb]\t# tab");
    both_ways(&tabbed);
    // The comment stays on the command's line; the new args list is written in the style
    // of the list it came from (a tab after each comma).
    let b_args = want
        .find("args: [run, --protocol, \"1\", --name, b")
        .unwrap();
    let b_args_end = b_args + want[b_args..].find('\n').unwrap();
    let tabbed_want = format!(
        "{}\t# tab\n    {}{}",
        want[..b_args].trim_end(),
        want[b_args..b_args_end].replace(", ", ",\t"),
        &want[b_args_end..]
    );
    stream_gives(&tabbed, &Overrides::default(), &tabbed_want);
}

#[test]
fn an_empty_block_scalar_ends_the_object() {
    // In the middle of a stream and of a ResourceList, and at the very end: the object's
    // range is the same on both paths and its value is the empty string.
    let empty = format!("{POD}    workingDir: |\n");
    let cm = "apiVersion: v1\nkind: ConfigMap\n";
    for input in [
        format!("{empty}---\n{cm}"),
        empty.clone(),
        format!("{empty}\n\n# c\n"),
    ] {
        both_ways(&input);
        let eager = convert(&input).0;
        for lazy in lazy_streams(&input, &Overrides::default()) {
            assert_same_text("lazy", &eager, &lazy);
        }
        let out: Vec<Value> = serde_yaml::Deserializer::from_str(&eager)
            .map(|d| serde::Deserialize::deserialize(d).unwrap())
            .collect();
        assert_eq!(out[0]["spec"]["containers"][1]["workingDir"], "", "{eager}");
        assert!(eager.contains("kueueleuleu-init"), "{eager}");
    }
    let fc = function_config("ghcr.io/kueueleuleu/kueueleuleu:v0.1.0");
    let rl = format!(
        "{RL_HEAD}items:\n{}{}{fc}",
        as_item(&empty, 0),
        as_item(cm, 0)
    );
    both_ways(&rl);
    let eager = convert(&rl).0;
    assert_same_text(
        "lazy",
        &lazy_resource_list(&rl, &Overrides::default()),
        &eager,
    );
}

#[test]
fn duplicate_keys_are_refused_alike() {
    for input in [
        POD.replace("kind: Pod\n", "kind: Pod\nkind: Pod\n"),
        POD.replace("  name: p\n", "  name: p\n  name: q\n"),
        POD.replace(
            "    image: busybox\n    command: [echo",
            "    image: busybox\n    image: busybox\n    command: [echo",
        ),
    ] {
        both_ways(&input);
        let out = run(input.as_bytes(), Operation::Convert, &Overrides::default()).unwrap();
        assert!(out.failed, "{input}");
        assert_eq!(out.text(), input);
        let lazy = format!(
            "{input}---\napiVersion: example.com/v1\nkind: ResourceList\nfunctionConfig: 5\n"
        );
        let lazy_out = run(lazy.as_bytes(), Operation::Convert, &Overrides::default()).unwrap();
        assert_eq!(lazy_out.reports, out.reports);
    }
}

#[test]
fn revert_gives_back_the_input_on_both_paths() {
    let converted = reference(&Overrides::default());
    let fc = function_config("ghcr.io/kueueleuleu/kueueleuleu:v0.1.0");
    for (input, want) in [
        (converted.clone(), POD.to_string()),
        (
            format!("{RL_HEAD}items:\n{}{fc}", as_item(&converted, 2)),
            format!("{RL_HEAD}items:\n{}{fc}", as_item(POD, 2)),
        ),
    ] {
        both_ways(&input);
        let out = run(input.as_bytes(), Operation::Revert, &Overrides::default()).unwrap();
        assert!(!out.failed, "{:#?}", out.reports);
        let text = out.text();
        assert_same_text(
            "revert",
            want.trim_end(),
            text.split("\nresults:\n").next().unwrap().trim_end(),
        );
        if input.contains("ResourceList") {
            let quoted = input.replace("\nfunctionConfig:", "\n\"functionConfig\":");
            let lazy = run(quoted.as_bytes(), Operation::Revert, &Overrides::default()).unwrap();
            assert_same_text(
                "lazy revert",
                &text,
                &lazy
                    .text()
                    .replace("\n\"functionConfig\":", "\nfunctionConfig:"),
            );
        }
    }
}

#[test]
fn deep_nesting_is_refused_with_one_message() {
    let deep = format!("{}{}", "{a: ".repeat(300), "}".repeat(300));
    let input = POD.replace("name: p\n", &format!("name: p\n  labels: {deep}\n"));
    both_ways(&input);
    let err = run(input.as_bytes(), Operation::Convert, &Overrides::default()).unwrap_err();
    assert!(
        err.to_string().contains("nesting deeper than 256 levels"),
        "{err}"
    );
}

#[test]
fn mixed_line_endings_follow_the_object_not_the_input() {
    let want = reference(&Overrides::default());
    let crlf = |s: &str| s.replace('\n', "\r\n");
    // The header's line break is not the object's.
    let input = format!("# header\r\n{POD}");
    let got = convert(&input).0;
    assert_same_text(
        "LF object after a CRLF line",
        &format!("# header\r\n{want}"),
        &got,
    );
    let input = format!("# header\n{}", crlf(POD));
    let got = convert(&input).0;
    assert_same_text(
        "CRLF object after an LF line",
        &format!("# header\n{}", crlf(&want)),
        &got,
    );
}

#[test]
fn a_kept_block_scalar_at_the_end_of_an_object_keeps_its_blank_lines() {
    let script = POD.replace(
        "    command: [echo, b]\n",
        "    command:\n    - sh\n    - -c\n    - |+\n      echo b\n\n\n",
    );
    let input = format!("{script}---\napiVersion: v1\nkind: ConfigMap\n");
    let check = |out: &str, path: &str| {
        let pod = first_document(out);
        let args = &pod["spec"]["containers"][1]["args"];
        let script = args.as_array().and_then(|a| a.last());
        assert_eq!(script, Some(&json!("echo b\n\n\n")), "{path}:\n{out}");
    };
    check(&convert(&input).0, "eager");
    for lazy in lazy_streams(&input, &Overrides::default()) {
        check(&lazy, "lazy");
    }
}

#[test]
fn a_unicode_space_ending_a_block_scalar_is_content() {
    // `trim_end` would cut the no-break space (and an ideographic one) off the script: left
    // behind after the object, it then ended the last new line (`emptyDir: {}\u{a0}`).
    for space in ['\u{a0}', '\u{3000}'] {
        let script = POD.replace(
            "    command: [echo, b]\n",
            &format!("    command:\n    - sh\n    - -c\n    - |\n      echo b{space} \n"),
        );
        for input in [
            script.clone(),
            format!("{script}---\napiVersion: v1\nkind: ConfigMap\n"),
        ] {
            both_ways(&input);
            let (out, reports) = convert(&input);
            assert!(out.contains("kueueleuleu-init"), "{reports:#?}");
            let pod = first_document(&out);
            let args = pod["spec"]["containers"][1]["args"].as_array().unwrap();
            assert_eq!(
                args.last(),
                Some(&json!(format!("echo b{space} \n"))),
                "{out}"
            );
            for lazy in lazy_streams(&input, &Overrides::default()) {
                assert_same_text("lazy", &out, &lazy);
            }
        }
    }
}

#[test]
fn an_empty_value_with_an_anchor_or_tag_ends_the_object() {
    // saphyr puts such a value where the next token is; both scans must end it after `&l`.
    for tail in [
        "  labels: &l\n",
        "  labels: &l",
        "  labels: !!map\n",
        "  labels: &l # c\n\n",
    ] {
        let pod = POD.replace("  annotations:\n", &format!("{tail}  annotations:\n"));
        both_ways(&pod);
        let job = format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  annotations:\n    kueueleuleu.io/sequential: \"true\"\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: a\n        image: busybox\n        command: [echo]\n    metadata:\n{tail}"
        );
        both_ways(&job);
    }
}

#[test]
fn a_last_line_of_spaces_after_a_block_scalar_is_not_read_as_one_more_line() {
    // saphyr reads `|` content followed by a last line of spaces, without a line break, as
    // ending in one more empty line ("echo b\n\n"); libyaml, and the same object anywhere
    // else, read "echo b\n". Both paths read up to the last line break, and the spaces are
    // written back as they came.
    let input = POD.replace(
        "    command: [echo, b]\n",
        "    command:\n    - sh\n    - -c\n    - |\n      echo b\n      ",
    );
    assert!(input.ends_with("echo b\n      "), "{input:?}");
    both_ways(&input);
    let (out, reports) = convert(&input);
    assert!(out.contains("kueueleuleu-init"), "{reports:#?}");
    assert!(out.ends_with("restartPolicy: Never\n      "), "{out:?}");
    let pod = first_document(&out);
    let args = pod["spec"]["containers"][1]["args"].as_array().unwrap();
    assert_eq!(args.last(), Some(&json!("echo b\n")), "{out}");
}

/// The first document of a converted stream, as a value.
fn first_document(out: &str) -> Value {
    serde_yaml::Deserializer::from_str(out)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .next()
        .unwrap()
}
