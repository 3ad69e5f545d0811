//! Plain streams and `kind: List`, and what any object may hold or be next to: metadata
//! after spec, annotation values, anchors, a byte order mark, CRLF, UTF-8, nested workloads.

use super::*;
use kueueleuleu::object::Operation;

#[test]
fn a_kind_list_stream_and_a_plain_stream() {
    let want = reference(&Overrides::default());
    let list = |pod: &str| format!("apiVersion: v1\nkind: List\nitems:\n{}", as_item(pod, 0));
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
    stream_gives(
        &format!("{}---\n{cm}", list(POD)),
        &Overrides::default(),
        &format!("{}---\n{cm}", list(&want)),
    );
    // The same object twice, and selectAll.
    stream_gives(
        &format!("{POD}---\n{POD}"),
        &Overrides::default(),
        &format!("{want}---\n{want}"),
    );
    let unannotated = POD.replace(
        "  annotations:\n    kueueleuleu.io/sequential: \"true\"\n",
        "",
    );
    let all = Overrides {
        select_all: true,
        ..Overrides::default()
    };
    let want_all = reference(&all).replace(
        "  annotations:\n    kueueleuleu.io/sequential: \"true\"\n",
        "",
    );
    stream_gives(
        &format!("{cm}---\n{unannotated}"),
        &all,
        &format!("{cm}---\n{want_all}"),
    );
    // Not selected: copied as it is, with no tree built for it.
    assert_eq!(both_ways(&unannotated), 0);
    stream_gives(&unannotated, &Overrides::default(), &unannotated);
}

#[test]
fn metadata_after_spec() {
    let meta = "metadata:\n  name: p\n  annotations:\n    kueueleuleu.io/sequential: \"true\"\n";
    let moved = format!("{}{meta}", POD.replace(meta, ""));
    let want = reference(&Overrides::default());
    let want = format!("{}{meta}", want.replace(meta, ""));
    stream_gives(&moved, &Overrides::default(), &want);
    // And as the item of a ResourceList, `spec` on the dash line.
    let spec_first = format!(
        "{}apiVersion: v1\nkind: Pod\n{meta}",
        &POD[POD.find("spec:").unwrap()..]
    );
    let want_first = reference(&Overrides::default());
    let want_first = format!(
        "{}apiVersion: v1\nkind: Pod\n{meta}",
        &want_first[want_first.find("spec:").unwrap()..]
    );
    let fc = function_config("ghcr.io/kueueleuleu/kueueleuleu:v0.1.0");
    resource_list_gives(
        &format!("{RL_HEAD}items:\n{}{fc}", as_item(&spec_first, 0)),
        &Overrides::default(),
        &format!("{RL_HEAD}items:\n{}{fc}", as_item(&want_first, 0)),
    );
}

#[test]
fn annotation_values_that_do_not_select() {
    for (value, warning) in [
        ("\"false\"", None),
        ("false", Some("YAML boolean")),
        ("true", Some("YAML boolean")),
        ("yes", Some("neither")),
        ("", Some("neither")),
        ("~", Some("neither")),
    ] {
        let input = POD.replace(
            "sequential: \"true\"",
            format!("sequential: {value}").trim_end(),
        );
        both_ways(&input);
        let (out, reports) = convert(&input);
        assert_eq!(out, input, "{value}: left as is");
        let warned: Vec<_> = reports
            .iter()
            .filter(|r| r.severity == kueueleuleu::convert::Severity::Warning)
            .map(|r| r.message.clone())
            .collect();
        match warning {
            None => assert!(warned.is_empty(), "{value}: {warned:?}"),
            Some(w) => assert!(
                warned.len() == 1 && warned[0].contains(w),
                "{value}: {warned:?}"
            ),
        }
        for lazy in lazy_streams(&input, &Overrides::default()) {
            assert_eq!(lazy, input);
        }
        // The same warning whichever path read it.
        let extra = "---\napiVersion: example.com/v1\nkind: ResourceList\nfunctionConfig: 5\n";
        let lazy_reports = convert(&format!("{input}{extra}")).1;
        assert_eq!(lazy_reports, reports, "{value}");
    }
}

#[test]
fn anchors_and_aliases_take_the_lazy_path_and_convert_alike() {
    let anchored = POD
        .replace(
            "image: busybox\n    command: [sh",
            "image: &img busybox\n    command: [sh",
        )
        .replace(
            "image: busybox\n    command: [echo",
            "image: *img\n    command: [echo",
        );
    assert_eq!(
        both_ways(&anchored),
        0,
        "no tree is handed over for an object with anchors"
    );
    let want = reference(&Overrides::default())
        .replacen("image: busybox", "image: &img busybox", 1)
        .replacen("    image: busybox\n    command: [/kueueleuleu/bin/kueueleuleu-step]\n    args: [run, --protocol, \"1\", --name, b", "    image: *img\n    command: [/kueueleuleu/bin/kueueleuleu-step]\n    args: [run, --protocol, \"1\", --name, b", 1);
    stream_gives(&anchored, &Overrides::default(), &want);
    // An anchor in one object used by the next: the user is refused, the definer converts.
    let shared = format!(
        "{}---\n{}",
        POD.replace("name: p\n", "name: &n p\n"),
        POD.replace("name: p\n", "name: *n\n")
    );
    both_ways(&shared);
    let out = run(shared.as_bytes(), Operation::Convert, &Overrides::default()).unwrap();
    assert!(out.failed);
    assert_eq!(out.text(), shared);
}

#[test]
fn byte_order_mark_crlf_and_utf8_before_and_inside() {
    let want = reference(&Overrides::default());
    let crlf = |s: &str| s.replace('\n', "\r\n");
    stream_gives(&crlf(POD), &Overrides::default(), &crlf(&want));
    let bom_out = convert(&format!("\u{feff}{POD}")).0;
    assert_same_text("BOM", &format!("\u{feff}{want}"), &bom_out);
    let bom_crlf = convert(&format!("\u{feff}{}", crlf(POD))).0;
    assert_same_text("BOM CRLF", &format!("\u{feff}{}", crlf(&want)), &bom_crlf);
    // Multi-byte characters before the object and in it move every offset after them.
    let head = "# ünïcødé 🚀 ∑\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: \"🚀\"}\ndata: {k: \"é\"}\n---\n";
    let utf8_pod = POD
        .replace("name: p\n", "name: p\n  labels: {x: \"é🚀\"}\n")
        .replace("echo a", "echo ✓ ünï");
    let utf8_want = want
        .replace("name: p\n", "name: p\n  labels: {x: \"é🚀\"}\n")
        .replace("echo a", "echo ✓ ünï");
    stream_gives(
        &format!("{head}{utf8_pod}"),
        &Overrides::default(),
        &format!("{head}{utf8_want}"),
    );
    let fc = function_config("ghcr.io/kueueleuleu/kueueleuleu:v0.1.0");
    resource_list_gives(
        &format!(
            "{RL_HEAD}items:\n- {{apiVersion: v1, kind: ConfigMap, data: {{k: \"🚀🚀\"}}}}\n{}{fc}",
            as_item(&utf8_pod, 0)
        ),
        &Overrides::default(),
        &format!(
            "{RL_HEAD}items:\n- {{apiVersion: v1, kind: ConfigMap, data: {{k: \"🚀🚀\"}}}}\n{}{fc}",
            as_item(&utf8_want, 0)
        ),
    );
}

#[test]
fn workloads_nested_in_an_object_are_not_objects() {
    // The scan hands over the Pods under a ConfigMap's (or a `v2` List's) `items` too; they
    // are no objects of the stream, so their eager results must be dropped, not spliced.
    let want = reference(&Overrides::default());
    for kind in [
        "apiVersion: v1\nkind: ConfigMap",
        "apiVersion: v2\nkind: List",
    ] {
        let holder = format!("{kind}\nmetadata:\n  name: h\nitems:\n{}", as_item(POD, 0));
        stream_gives(
            &format!("{holder}---\n{POD}"),
            &Overrides::default(),
            &format!("{holder}---\n{want}"),
        );
    }
    // A Pod that has `items` itself goes the lazy way and still converts.
    let pod_with_items = format!("{POD}items:\n{}", as_item(POD, 0));
    stream_gives(
        &pod_with_items,
        &Overrides::default(),
        &format!("{}items:\n{}", want, as_item(POD, 0)),
    );
}

#[test]
fn many_annotations_and_a_repeated_selection_key() {
    // Repeats are looked for among 64 keys per mapping, and always among the keys selection
    // reads: the scan and the tree must agree on that.
    let many: String = (0..70).map(|i| format!("    a{i}: x\n")).collect();
    let input = POD.replace(
        "    kueueleuleu.io/sequential: \"true\"\n",
        &format!("{many}    kueueleuleu.io/sequential: \"false\"\n    kueueleuleu.io/sequential: \"true\"\n"),
    );
    both_ways(&input);
    let out = run(input.as_bytes(), Operation::Convert, &Overrides::default()).unwrap();
    let extra = "---\napiVersion: example.com/v1\nkind: ResourceList\nfunctionConfig: 5\n";
    let lazy_input = format!("{input}{extra}");
    let lazy = run(
        lazy_input.as_bytes(),
        Operation::Convert,
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(lazy.reports, out.reports);
    assert!(
        out.failed,
        "a repeated key has no single meaning: {:#?}",
        out.reports
    );
    let other = POD.replace(
        "    kueueleuleu.io/sequential: \"true\"\n",
        &format!("{many}    a66: y\n    kueueleuleu.io/sequential: \"true\"\n"),
    );
    both_ways(&other);
}

#[test]
fn flow_items_and_directives() {
    let want = reference(&Overrides::default());
    let directive = format!("%YAML 1.2\n---\n{POD}");
    stream_gives(
        &directive,
        &Overrides::default(),
        &format!("%YAML 1.2\n---\n{want}"),
    );
    // A flow Pod over several lines as a ResourceList item, converted the same both ways.
    let flow = "- {apiVersion: v1, kind: Pod,\n   metadata: {name: f, annotations: {kueueleuleu.io/sequential: \"true\"}},\n   spec: {containers: [{name: a, image: busybox, command: [echo, a]},\n     {name: b, image: busybox, command: [echo, b]}]}}  # flow\n";
    let rl = format!(
        "{RL_HEAD}items:\n{flow}{}",
        function_config("ghcr.io/kueueleuleu/kueueleuleu:v0.1.0")
    );
    assert_eq!(both_ways(&rl), 1);
    let eager = convert(&rl).0;
    assert_same_text(
        "lazy",
        &lazy_resource_list(&rl, &Overrides::default()),
        &eager,
    );
    assert!(
        eager.contains("kueueleuleu-init") && eager.contains("# flow"),
        "{eager}"
    );
}
