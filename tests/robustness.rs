//! No input may panic the converter or lose an object: fixture inputs are cut at random
//! places and have random bytes spliced in, then run through the pipeline. Whatever comes
//! back is either a clean error (nothing to write) or every object that went in.

#[path = "support/cases.rs"]
mod cases;
#[path = "support/manifests.rs"]
mod manifests;

use cases::cases;
use kueueleuleu::object::Operation;
use kueueleuleu::pipeline::{Overrides, run};
use manifests::count_objects;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use std::path::Path;

fn seeds() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(root)
        .unwrap()
        .filter_map(|e| std::fs::read(e.unwrap().path().join("input.yaml")).ok())
        .filter(|b| !b.is_empty())
        .collect();
    out.sort();
    out
}

/// Objects the converter's own reader finds; `None` when it refuses the text.
fn ours(text: &[u8]) -> Option<usize> {
    let text = kueueleuleu::source::text(text).ok()?;
    match kueueleuleu::source::locate(text).ok()? {
        kueueleuleu::source::Input::ResourceList { items, .. } => Some(items.len()),
        kueueleuleu::source::Input::Stream { objects } => Some(objects.len()),
    }
}

const SPLICES: &[&str] = &[
    "",
    "\n",
    " ",
    "- ",
    ": ",
    "{",
    "}",
    "[",
    "]",
    "'",
    "\"",
    "#",
    "&a ",
    "*a",
    "!!str ",
    "---\n",
    "...\n",
    "\t",
    "|",
    ">",
    "\u{0}",
    "\u{85}",
    "é",
    "kueueleuleu-bin",
    "/kueueleuleu/bin/kueueleuleu-step",
    "--",
];

// `FUZZ_CASES` sets the number of cases (default 1000), as in the fuzz test.
proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(1000),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_inputs_never_panic_or_lose_objects(
        seed in 0usize..64, at in any::<prop::sample::Index>(), cut in any::<bool>(),
        splice in prop::sample::select(SPLICES), revert in any::<bool>(),
    ) {
        let seeds = seeds();
        let original = &seeds[seed % seeds.len()];
        let pos = at.index(original.len() + 1);
        let mut input = original[..pos].to_vec();
        input.extend_from_slice(splice.as_bytes());
        if !cut {
            input.extend_from_slice(&original[pos..]);
        }
        let op = if revert { Operation::Revert } else { Operation::Convert };
        let overrides = Overrides {
            select_all: true,
            ..Overrides::default()
        };
        if let Ok(out) = run(&input, op, &overrides) {
            // Where a second, independent reader (libyaml) takes the input, both readers must
            // take the output too and count the same objects. (Input only saphyr accepts, such
            // as `[: x]`, is copied through but not promised to read back the same.)
            if let Some(before) = count_objects(&input) {
                prop_assert_eq!(ours(&input), ours(out.text().as_bytes()), "objects lost or added:\n{}", out.text());
                let after = count_objects(out.text().as_bytes());
                prop_assert!(after.is_some(), "output does not parse:\n{}", out.text());
                prop_assert_eq!(before, after.unwrap(), "objects lost or added:\n{}", out.text());
            }
        }
    }
}

/// Runs the binary (an abort is only visible there: no `catch_unwind` sees a stack overflow)
/// and asserts a clean refusal: exit 1, nothing or the input unchanged on stdout, and an
/// error naming the object.
fn assert_refused_cleanly(input: &str, object: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kueueleuleu"))
        .args(["convert", "--all"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "not a clean refusal:\n{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.is_empty() || stdout == input,
        "a refusal must write nothing or the input unchanged:\n{stdout}"
    );
    assert!(
        stderr.contains(object),
        "the error names no object:\n{stderr}"
    );
}

/// Aliases nest: each one adds the depth of what it refers to, so 20 aliases of 200 levels
/// (8.5 KB) mean 4,000 levels. Found by fuzzing: the reader's depth limit counts only the
/// text, and the stack overflowed.
#[test]
fn alias_chains_deeper_than_the_stack_are_refused_cleanly() {
    let (links, depth) = (20, 200);
    let mut input = String::from(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: deep-aliases\nspec:\n  restartPolicy: Never\n",
    );
    input.push_str(&format!(
        "  x0: &a0 {}x{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    ));
    for i in 1..links {
        let (open, close) = ("[".repeat(depth), "]".repeat(depth));
        input.push_str(&format!("  x{i}: &a{i} {open}*a{}{close}\n", i - 1));
    }
    input.push_str("  containers:\n  - name: a\n    image: alpine:3.20\n    command: [echo]\n");
    assert_refused_cleanly(&input, "deep-aliases");
}

/// An alias inside the node its own anchor names is a cycle (PyYAML builds a recursive
/// object; Kubernetes' reader refuses it). Found by fuzzing: resolving it recursed until the
/// stack overflowed, from 120 bytes of input.
#[test]
fn an_alias_inside_its_own_anchor_is_refused_cleanly() {
    let input = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: cycle\n  annotations: &a\n    x: [*a]\nspec:\n  restartPolicy: Never\n  containers:\n  - name: a\n    image: alpine:3.20\n    command: [echo, a]\n";
    assert_refused_cleanly(input, "cycle");
}
