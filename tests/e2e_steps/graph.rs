//! `after:` graphs under the emulator: steps with no path between them overlap, a join
//! waits for all its predecessors, and a failed branch skips the join unless it continues.

use super::controls::{statuses, step, with_steps};
use super::*;

/// `fetch`, then `lint` and `test` side by side, then `report` after both.
fn dag(name: &str, lint: &str, steps: &str) -> (String, PodRun) {
    let y = with_steps(
        &pod(
            name,
            "Never",
            &[
                ("fetch", "echo fetch"),
                ("lint", lint),
                ("test", "sleep 1; echo test"),
                ("report", "echo report"),
            ],
            "",
        ),
        steps,
    );
    let run = kubelet().run(&y, DEADLINE).unwrap();
    (y, run)
}

const GRAPH: &str = "lint: {after: [fetch]}\ntest: {after: [fetch]}\nreport: {after: [lint, test]}";

#[test]
fn independent_steps_run_at_the_same_time_and_a_join_waits_for_all() {
    if !kubelet::require_sandbox("independent_steps_run_at_the_same_time_and_a_join_waits_for_all")
    {
        return;
    }
    let (_, run) = dag("dag", "sleep 1; echo lint", GRAPH);
    assert_eq!(run.phase, Phase::Succeeded, "{:#}", run.status());
    let (lint, test, report) = (
        record(&run, "lint"),
        record(&run, "test"),
        record(&run, "report"),
    );
    // Overlap: each of lint and test started before the other finished.
    assert!(
        time(&lint, "startedAt") < time(&test, "finishedAt"),
        "{lint} {test}"
    );
    assert!(
        time(&test, "startedAt") < time(&lint, "finishedAt"),
        "{lint} {test}"
    );
    assert_ordered(&run, &["fetch", "lint", "report"]);
    assert_ordered(&run, &["fetch", "test", "report"]);
    let last = time(&lint, "finishedAt").max(time(&test, "finishedAt"));
    assert!(
        time(&report, "startedAt") >= last,
        "report started before both ended"
    );
}

#[test]
fn a_failed_branch_skips_the_join_unless_it_continues() {
    if !kubelet::require_sandbox("a_failed_branch_skips_the_join_unless_it_continues") {
        return;
    }
    let (_, run) = dag("dag-fail", "exit 3", GRAPH);
    assert_eq!(run.phase, Phase::Failed);
    assert_eq!(
        record(&run, "test")["reason"],
        "Succeeded",
        "the other branch ran"
    );
    let report = record(&run, "report");
    assert_eq!(report["reason"], "Skipped", "{report}");
    assert_eq!(run.container("report").stdout(), "");
    let continued = format!("{GRAPH}\nlint: {{after: [fetch], onError: continue}}");
    let continued = continued.replacen("lint: {after: [fetch]}\n", "", 1);
    let (y, run) = dag("dag-continue", "exit 3", &continued);
    assert_eq!(run.phase, Phase::Succeeded, "{:#}", run.status());
    assert_eq!(run.container("report").stdout(), "report\n");
    let report = record(&run, "report");
    assert!(time(&report, "startedAt") >= time(&record(&run, "test"), "finishedAt"));
    let st = statuses(&y, &run);
    assert!(step(&st, "lint").continued);
}
