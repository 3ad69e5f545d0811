//! The failure table of `docs/step-runner.md`, row by row: every way a step can fail before
//! it records an outcome, and what its successor sees and how fast. The start grace is set
//! to 2 s (through the container's environment, as a user would) so the rows bounded by it
//! finish quickly. Which row a successor went through is told by its record's message (each
//! is produced by one path only); timings are asserted in the unit tests, where the clock is
//! the waiter's own, not in these tests on a loaded machine.

use super::*;
use kubelet::faults::Fault;

const GRACE_ENV: &str = "    env:\n    - name: KUEUELEULEU_STEP_START_GRACE\n      value: 2s\n";

fn three_steps(name: &str) -> String {
    convert(&pod(
        name,
        "Never",
        &[
            ("s0", "echo s0 ran"),
            ("s1", "echo s1 ran"),
            ("s2", "echo s2 ran"),
        ],
        GRACE_ENV,
    ))
}

fn with_faults(faults: Vec<Fault>) -> Kubelet {
    Kubelet {
        faults,
        ..kubelet()
    }
}

/// Tiny tmpfs volumes need root on the host: skip elsewhere, fail under CI.
fn require_root(test: &str) -> bool {
    // SAFETY: plain syscall.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: needs root to mount a tiny tmpfs"
    );
    eprintln!("skipping {test}: needs root to mount a tiny tmpfs");
    false
}

/// s1 ended as PredecessorLost with `needle` in its message, without running; s2 skipped.
fn assert_lost(run: &PodRun, needle: &str) {
    let r1 = record(run, "s1");
    assert_eq!(r1["reason"], "PredecessorLost", "{r1}");
    assert!(r1["message"].as_str().unwrap().contains(needle), "{r1}");
    assert_eq!(exit_code(run, "s1"), 1);
    assert_eq!(record(run, "s2")["reason"], "Skipped");
    for n in ["s1", "s2"] {
        assert_eq!(run.container(n).stdout(), "", "{n} ran its command");
    }
}

#[test]
fn a_read_only_run_dir_ends_the_successor_after_the_start_grace() {
    if !kubelet::require_sandbox("a_read_only_run_dir_ends_the_successor_after_the_start_grace") {
        return;
    }
    let k = with_faults(vec![Fault::ReadOnlyVolume("kueueleuleu-run-0".into())]);
    let run = k.run(&three_steps("ro-run-dir"), DEADLINE).unwrap();
    assert_eq!(exit_code(&run, "s0"), 125);
    let r0 = record(&run, "s0"); // the termination message still says why
    assert_eq!(r0["reason"], "StartFailed");
    assert!(
        r0["message"].as_str().unwrap().contains("cannot claim"),
        "{r0}"
    );
    assert_eq!(run.container("s0").stdout(), "");
    assert_lost(&run, "no sign of life");
}

#[test]
fn a_run_dir_without_free_inodes_ends_the_successor_after_the_start_grace() {
    let test = "a_run_dir_without_free_inodes_ends_the_successor_after_the_start_grace";
    if !kubelet::require_sandbox(test) || !require_root(test) {
        return;
    }
    let k = with_faults(vec![Fault::TinyVolume {
        volume: "kueueleuleu-run-0".into(),
        pages: 4,
        inodes: 1, // the root directory's own
        filled: 0,
    }]);
    let run = k.run(&three_steps("no-inodes"), DEADLINE).unwrap();
    assert_eq!(exit_code(&run, "s0"), 125);
    assert!(
        record(&run, "s0")["message"]
            .as_str()
            .unwrap()
            .contains("No space left")
    );
    assert_lost(&run, "no sign of life");
}

#[test]
fn a_full_run_dir_ends_the_successor_at_once() {
    let test = "a_full_run_dir_ends_the_successor_at_once";
    if !kubelet::require_sandbox(test) || !require_root(test) {
        return;
    }
    // Inodes left, no space: the lock appears, the record's space cannot be taken.
    let k = with_faults(vec![Fault::TinyVolume {
        volume: "kueueleuleu-run-0".into(),
        pages: 1,
        inodes: 64,
        filled: 1,
    }]);
    let run = k.run(&three_steps("full"), DEADLINE).unwrap();
    assert_eq!(exit_code(&run, "s0"), 125);
    // Not after the grace: only the unheld lock gives this message.
    assert_lost(&run, "died without recording");
    let lag = gap_ms(
        time(&record(&run, "s0"), "finishedAt"),
        time(&record(&run, "s1"), "startedAt"),
    );
    eprintln!("full run dir: s1 ended {lag:.3} ms after s0 gave up");
}

#[test]
fn a_run_dir_that_fills_up_while_the_command_runs_still_gets_the_record() {
    let test = "a_run_dir_that_fills_up_while_the_command_runs_still_gets_the_record";
    if !kubelet::require_sandbox(test) || !require_root(test) {
        return;
    }
    let k = with_faults(vec![Fault::TinyVolume {
        volume: "kueueleuleu-run-0".into(),
        pages: 4,
        inodes: 64,
        filled: 0,
    }]);
    let fill = "head -c 1000000 /dev/zero > /kueueleuleu/run/0/junk; echo filled";
    let steps = [("s0", fill), ("s1", "echo s1 ran")];
    let run = k
        .run(&convert(&pod("fills", "Never", &steps, "")), DEADLINE)
        .unwrap();
    assert_eq!(run.phase, Phase::Succeeded, "{:#}", run.status());
    assert!(
        run.container("s0").logs().contains("No space left"),
        "{}",
        run.container("s0").logs()
    );
    assert_eq!(run.container("s1").stdout(), "s1 ran\n");
}

#[test]
fn a_tiny_open_files_limit_is_raised_for_the_runner_and_kept_for_the_command() {
    let test = "a_tiny_open_files_limit_is_raised_for_the_runner_and_kept_for_the_command";
    if !kubelet::require_sandbox(test) {
        return;
    }
    let k = with_faults(vec![Fault::OpenFiles {
        container: "s1".into(),
        soft: 6,
        hard: 4096,
    }]);
    let steps = [
        ("s0", "echo s0 ran"),
        ("s1", "ulimit -n"),
        ("s2", "echo s2 ran"),
    ];
    let run = k
        .run(&convert(&pod("nofile", "Never", &steps, "")), DEADLINE)
        .unwrap();
    assert_eq!(run.phase, Phase::Succeeded, "{:#}", run.status());
    assert_eq!(run.container("s1").stdout(), "6\n");
}

#[test]
fn a_hard_open_files_limit_fails_the_step_but_not_silently() {
    let test = "a_hard_open_files_limit_fails_the_step_but_not_silently";
    if !kubelet::require_sandbox(test) {
        return;
    }
    // Room to claim and wait, none to start the command: the failure is recorded through
    // the preallocated record, and the successor is skipped at once.
    let k = with_faults(vec![Fault::OpenFiles {
        container: "s1".into(),
        soft: 6,
        hard: 6,
    }]);
    let run = k.run(&three_steps("emfile"), DEADLINE).unwrap();
    let done = |i: usize| -> Value {
        let path = run.dir.join(format!("volumes/kueueleuleu-run-{i}/done"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    assert_eq!(done(0)["reason"], "Succeeded");
    // Out of files while following its predecessor or starting its command: either way
    // the step says so in its record.
    let d1 = done(1);
    assert_ne!(d1["reason"], "Succeeded", "{d1}");
    assert!(
        d1["message"]
            .as_str()
            .unwrap()
            .contains("Too many open files"),
        "{d1}"
    );
    assert_ne!(exit_code(&run, "s1"), 0);
    assert_eq!(record(&run, "s2")["reason"], "Skipped");
    assert_eq!(run.container("s2").stdout(), "");
}

#[test]
fn an_image_that_never_starts_ends_the_successor_after_the_start_grace() {
    let test = "an_image_that_never_starts_ends_the_successor_after_the_start_grace";
    if !kubelet::require_sandbox(test) {
        return;
    }
    let k = with_faults(vec![Fault::NeverStarts("s0".into())]);
    let run = k.run(&three_steps("never"), DEADLINE).unwrap();
    assert!(run.container("s0").attempts.is_empty());
    assert_lost(&run, "no sign of life");
}

#[test]
fn a_step_killed_before_it_claims_ends_the_successor_after_the_start_grace() {
    let test = "a_step_killed_before_it_claims_ends_the_successor_after_the_start_grace";
    if !kubelet::require_sandbox(test) {
        return;
    }
    let k = with_faults(vec![Fault::KilledAtStart("s0".into())]);
    let run = k.run(&three_steps("killed-early"), DEADLINE).unwrap();
    assert_eq!(exit_code(&run, "s0"), 137);
    assert_lost(&run, "no sign of life");
}

#[test]
fn a_missing_predecessor_volume_fails_the_successor_at_once() {
    let test = "a_missing_predecessor_volume_fails_the_successor_at_once";
    if !kubelet::require_sandbox(test) {
        return;
    }
    let k = with_faults(vec![Fault::Unmounted {
        container: "s1".into(),
        volume: "kueueleuleu-run-0".into(),
    }]);
    let run = k.run(&three_steps("unmounted"), DEADLINE).unwrap();
    // At once, not after the grace: only the missing directory gives this message.
    assert_lost(&run, "does not exist");
}
