//! No input may panic the converter or lose an object: fixture inputs are cut at random
//! places and have random bytes spliced in, then run through the pipeline. Whatever comes
//! back is either a clean error (nothing to write) or every object that went in.

use kueueleuleu::object::Operation;
use kueueleuleu::pipeline::{Overrides, run};
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::Value;
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

/// Objects a YAML text holds, the way the converter counts them; `None` if it does not parse.
fn count_objects(text: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(text).ok()?;
    let mut n = 0;
    for de in serde_yaml::Deserializer::from_str(text) {
        let v = Value::deserialize(de).ok()?;
        n += match v.get("kind").and_then(Value::as_str) {
            Some("ResourceList" | "List") => {
                v.get("items").and_then(Value::as_array).map_or(0, Vec::len)
            }
            _ => usize::from(!v.is_null()),
        };
    }
    Some(n)
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

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
        let overrides = Overrides { config: None, select_all: true };
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
