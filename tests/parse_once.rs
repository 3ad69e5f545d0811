//! Parse-once: the scan builds the syntax tree of each Pod, Job and CronJob it reads and the
//! object is converted from that tree on the way (the "eager" path). When the config cannot be
//! told before the scan, or was guessed wrong, each object's text is cut out of the input and
//! parsed again (the "lazy" path). Both must give the same output, and that output must be the
//! conversion of the object as it would be alone.
//!
//! - `same_both_ways` processes every object the scan hands over both ways and compares new
//!   text and reports, and checks the scan that builds trees finds the very objects (ranges,
//!   lines, summaries) of the scan that does not.
//! - Whole runs are compared with a run that must take the lazy path (a ResourceList whose
//!   `functionConfig:` key is quoted cannot be found by its line; a stream with an extra
//!   `kind: ResourceList` document of another API group has a guessed `functionConfig`) and
//!   with the conversion of the same Pod written alone.
//! - A proptest runs `same_both_ways` over the fuzz seeds and mutations (`FUZZ_CASES`).

#[path = "support/cases.rs"]
mod cases;
mod fuzz_mutate;
#[path = "parse_once/resource_list.rs"]
mod resource_list;
#[path = "parse_once/seeds.rs"]
mod seeds;
#[path = "parse_once/streams.rs"]
mod streams;
#[path = "support/seeds.rs"]
mod support_seeds;
#[path = "parse_once/text.rs"]
mod text;

use kueueleuleu::config::Spec;
use kueueleuleu::object::{self, Operation, Report};
use kueueleuleu::pipeline::{Overrides, run};
use kueueleuleu::source;
use serde_json::{Value, json};

/// What one object's processing gave, in a comparable form.
fn shown(o: &object::Outcome) -> String {
    format!(
        "text: {:?}\nreports: {:#?}\nworkload: {} touched: {}",
        o.text, o.reports, o.is_workload, o.touched
    )
}

/// Processes every object the scan hands over from its tree and again from its text alone;
/// returns how many were handed over, or every difference found.
fn same_both_ways(input: &[u8], op: Operation, config: &Spec) -> Result<usize, String> {
    let Ok(full) = source::text(input) else {
        return Ok(0);
    };
    let text = full.strip_prefix('\u{feff}').unwrap_or(full);
    let text = source::without_blank_last_line(text);
    let json = source::is_json(text);
    let only_annotated = op == Operation::Convert && !config.select_all;
    let mut diffs = Vec::new();
    let mut handed = 0;
    let mut handed_over = Vec::new();
    let plain = source::locate(text);
    let built = source::locate_with(
        text,
        Some(&mut |found, tree| {
            handed += 1;
            handed_over.push(found.clone());
            let eager = object::process(text, found, op, config, json, Some(tree));
            let lazy = object::process(text, found, op, config, json, None);
            let (eager, lazy) = (shown(&eager), shown(&lazy));
            if eager != lazy {
                diffs.push(format!(
                    "object at line {} ({:?}):\n{}",
                    found.line,
                    op,
                    similar::TextDiff::from_lines(&lazy, &eager)
                        .unified_diff()
                        .header("from its text alone", "from the scan's tree")
                ));
            }
        }),
        only_annotated,
    );
    if built.is_err() {
        // The run is refused as a whole: what was done on the way is dropped.
        diffs.clear();
    }
    match (plain, built.map(|b| with_handed_over(b, handed_over))) {
        (Ok(a), Ok(b)) => {
            let (a, b) = (format!("{a:#?}"), format!("{b:#?}"));
            if a != b {
                diffs.push(format!(
                    "the scan that builds trees found other objects:\n{}",
                    similar::TextDiff::from_lines(&a, &b)
                        .unified_diff()
                        .header("plain scan", "scan with trees")
                ));
            }
        }
        (Err(a), Err(b)) if a.to_string() == b.to_string() => {}
        (a, b) => diffs.push(format!(
            "one scan failed: plain {:?}, with trees {:?}",
            a.err().map(|e| e.to_string()),
            b.err().map(|e| e.to_string())
        )),
    }
    if diffs.is_empty() {
        Ok(handed)
    } else {
        Err(diffs.join("\n"))
    }
}

/// The objects the scan kept, with those it handed over put back in their places; handed-over
/// items inside another object (the `items` of a document that is no List) are no objects.
fn with_handed_over<'t>(
    mut input: source::Input<'t>,
    handed_over: Vec<source::Located<'t>>,
) -> source::Input<'t> {
    let objects = match &mut input {
        source::Input::Stream { objects } => objects,
        source::Input::ResourceList { items, .. } => items,
    };
    let kept = std::mem::take(objects);
    let mut all: Vec<_> = kept.into_iter().chain(handed_over).collect();
    all.sort_by_key(|o| o.range.start);
    let mut covered = 0;
    for o in all {
        if o.range.start >= covered {
            covered = o.range.end;
            objects.push(o);
        }
    }
    input
}

fn spec(function_config: Option<&Value>, select_all: bool) -> Spec {
    let mut spec = Spec::from_function_config(function_config).expect("a valid config");
    spec.select_all |= select_all;
    spec
}

/// Asserts both ways agree for convert and revert, with and without selectAll; returns how
/// many objects were handed over when converting without selectAll.
#[track_caller]
fn both_ways(input: &str) -> usize {
    let mut handed = 0;
    for (op, all) in [
        (Operation::Convert, false),
        (Operation::Convert, true),
        (Operation::Revert, false),
    ] {
        match same_both_ways(input.as_bytes(), op, &spec(None, all)) {
            Ok(n) if op == Operation::Convert && !all => handed = n,
            Ok(_) => {}
            Err(e) => panic!("{op:?} (selectAll {all}) differs for\n{input}\n{e}"),
        }
    }
    handed
}

/// A whole run's output text and reports.
fn convert_with(input: &str, overrides: &Overrides) -> (String, Vec<Report>) {
    let out = run(input.as_bytes(), Operation::Convert, overrides).expect("a usable input");
    (out.text(), out.reports.iter().collect())
}

fn convert(input: &str) -> (String, Vec<Report>) {
    convert_with(input, &Overrides::default())
}

#[track_caller]
fn assert_same_text(what: &str, want: &str, got: &str) {
    if want != got {
        panic!(
            "{what}:\n{}",
            similar::TextDiff::from_lines(want, got)
                .unified_diff()
                .header("want", "got")
        );
    }
}

const POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    kueueleuleu.io/sequential: \"true\"
spec:
  containers:
  - name: a
    image: busybox
    command: [sh, -c, \"echo a\"]
  - name: b
    image: busybox
    command: [echo, b]
";

/// `text` as an item of a block list at `col`: `- ` on its first line, the others indented.
fn as_item(text: &str, col: usize) -> String {
    let pad = " ".repeat(col);
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            out.push_str(&format!("{pad}- {line}\n"));
        } else if line.is_empty() {
            out.push('\n');
        } else {
            out.push_str(&format!("{pad}  {line}\n"));
        }
    }
    out
}

/// The same ResourceList run so that the guess must fail: its `functionConfig:` key quoted,
/// which no line search finds. The output is mapped back for comparing.
fn lazy_resource_list(input: &str, overrides: &Overrides) -> String {
    let quoted = format!("\n{input}").replace("\nfunctionConfig:", "\n\"functionConfig\":");
    assert_ne!(quoted[1..], *input, "the input has a functionConfig line");
    let out = convert_with(&quoted[1..], overrides).0;
    format!("\n{out}").replace("\n\"functionConfig\":", "\nfunctionConfig:")[1..].to_string()
}

/// The same stream run so that the eager results are dropped (a `kind: ResourceList` document
/// of another group gives a guessed functionConfig) or never made (the guessed one is no
/// config at all), with that document cut off the output again.
fn lazy_streams(input: &str, overrides: &Overrides) -> [String; 2] {
    assert!(input.ends_with('\n'));
    ["{apiVersion: v1, kind: ConfigMap}", "5"].map(|fc| {
        let extra =
            format!("---\napiVersion: example.com/v1\nkind: ResourceList\nfunctionConfig: {fc}\n");
        let out = convert_with(&format!("{input}{extra}"), overrides).0;
        out.strip_suffix(&extra)
            .unwrap_or_else(|| panic!("the extra document comes back:\n{out}"))
            .to_string()
    })
}

/// A stream converts to `want` on the eager path and on both lazy ones, and every object
/// is the same both ways.
#[track_caller]
fn stream_gives(input: &str, overrides: &Overrides, want: &str) {
    both_ways(input);
    assert_same_text("eager", want, &convert_with(input, overrides).0);
    for (i, lazy) in lazy_streams(input, overrides).iter().enumerate() {
        assert_same_text(&format!("lazy {i}"), want, lazy);
    }
}

/// A ResourceList converts to `want` (up to its results) eagerly and lazily.
#[track_caller]
fn resource_list_gives(input: &str, overrides: &Overrides, want: &str) {
    both_ways(input);
    let eager = convert_with(input, overrides).0;
    let lazy = lazy_resource_list(input, overrides);
    assert_same_text("eager vs lazy", &lazy, &eager);
    let body = eager.split("\nresults:\n").next().unwrap();
    assert_same_text("eager", want.trim_end(), body.trim_end());
}

/// The conversion of `POD` alone, with `overrides`: what every placement must give.
fn reference(overrides: &Overrides) -> String {
    let (out, reports) = convert_with(POD, overrides);
    assert!(
        !reports
            .iter()
            .any(|r| r.severity == kueueleuleu::convert::Severity::Error),
        "{reports:#?}"
    );
    assert!(out.contains("kueueleuleu-init"), "converted:\n{out}");
    out
}

const RL_HEAD: &str = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n";

fn config_map(image: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"image": image}})
}

fn function_config(image: &str) -> String {
    format!("functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data:\n    image: {image}\n")
}

fn with_config(image: &str) -> Overrides {
    Overrides {
        config: Some(config_map(image)),
        ..Overrides::default()
    }
}
