//! A stream whose converted output is larger than the in-memory budget: past it the texts
//! wait in the spill file (buffered in chunks, read back through a read-ahead), and the
//! output must still be, byte for byte, each object converted on its own. The objects'
//! sizes straddle the file's chunk size, and some are larger than a chunk.

use kueueleuleu::object::Operation;
use kueueleuleu::pipeline::{Overrides, run};
use kueueleuleu::spill::MEMORY_BUDGET;

/// An annotated Job whose script is `lines` lines long.
fn job(i: usize, lines: usize) -> String {
    let mut script = String::new();
    for l in 0..lines {
        script.push_str(&format!("              echo job {i} line {l}\n"));
    }
    format!(
        "apiVersion: batch/v1
kind: Job
metadata:
  name: job-{i}
  annotations:
    kueueleuleu.io/sequential: \"true\"
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: first
          image: busybox:1.37
          command: [sh, -c]
          args:
            - |
{script}        - name: second
          image: busybox:1.37
          command: [\"true\"]
"
    )
}

fn convert(text: &str) -> String {
    let out = run(text.as_bytes(), Operation::Convert, &Overrides::default()).unwrap();
    assert!(!out.failed, "{:?}", out.reports);
    out.text()
}

#[test]
fn output_past_the_memory_budget_is_each_object_converted_alone() {
    // Mostly small Jobs, with a few of 1,000 to 5,000 lines (40 KiB to 200 KiB).
    let jobs: Vec<String> = (0..600)
        .map(|i| {
            let lines = match i % 97 {
                13 => 1000 + 40 * i,
                50 => 1700,
                _ => i % 7,
            };
            job(i, lines)
        })
        .collect();
    let stream = jobs.join("---\n");
    let whole = convert(&stream);
    assert!(
        whole.len() > 8 * MEMORY_BUDGET,
        "the output ({} bytes) must go well past the in-memory budget",
        whole.len()
    );
    let alone: Vec<String> = jobs.iter().map(|j| convert(j)).collect();
    let expected = alone.join("---\n");
    if whole != expected {
        let diff = similar::TextDiff::from_lines(&expected, &whole)
            .unified_diff()
            .header("each object alone", "the whole stream")
            .to_string();
        panic!("the stream's output is not its objects converted alone:\n{diff}");
    }
}
