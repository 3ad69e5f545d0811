//! End-to-end scenarios: Pods converted by the real `kueueleuleu` binary, run by the kubelet
//! emulator (`tests/kubelet`) with the freshly built `kueueleuleu-step` standing in for the
//! release image. Every scenario has a hard deadline; they need root or user namespaces and
//! skip (or fail under `CI`) without them.

#![cfg(target_os = "linux")]

mod kubelet;

#[path = "e2e_steps/bench.rs"]
mod bench;
#[path = "e2e_steps/cli.rs"]
mod cli;
#[path = "e2e_steps/controls.rs"]
mod controls;
#[path = "e2e_steps/failures.rs"]
mod failures;
#[path = "e2e_steps/graph.rs"]
mod graph;
#[path = "e2e_steps/signals.rs"]
mod signals;
#[path = "e2e_steps/waiting.rs"]
mod waiting;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use kubelet::{ImageOverlay, Kubelet, Phase, PodRun};
use kueueleuleu::step::clock::parse_rfc3339;
use serde_json::Value;

/// No scenario may take longer than this, whatever happens.
const DEADLINE: Duration = Duration::from_secs(60);

fn kubelet() -> Kubelet {
    Kubelet {
        overlays: vec![ImageOverlay {
            repository: "kueueleuleu".into(),
            files: vec![(
                kueueleuleu::protocol::IMAGE_RUNNER_PATH.into(),
                env!("CARGO_BIN_EXE_kueueleuleu-step").into(),
            )],
            // The release image runs as a non-root user (the init container asks for it).
            user: Some(65532),
        }],
        ..Kubelet::default()
    }
}

/// Converts with the real binary, as a user would (`kueueleuleu convert --all -f FILE`).
fn convert(pod_yaml: &str) -> String {
    let file = std::env::temp_dir().join(format!(
        "e2e-steps-{}-{:?}.yaml",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&file, pod_yaml).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kueueleuleu"))
        .args(["convert", "--all", "-f"])
        .arg(&file)
        .output()
        .expect("run kueueleuleu");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "kueueleuleu convert failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let converted = String::from_utf8(out.stdout).unwrap();
    assert!(
        converted.contains(kueueleuleu::protocol::RUNNER_PATH),
        "not converted:\n{converted}"
    );
    converted
}

/// A Pod whose steps run `sh -c SCRIPT`; `extra` is appended to every container as YAML.
fn pod(name: &str, restart_policy: &str, steps: &[(&str, &str)], extra: &str) -> String {
    let mut y = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  restartPolicy: {restart_policy}\n  containers:\n"
    );
    for (step, script) in steps {
        y += &format!(
            "  - name: {step}\n    image: busybox:1.37\n    command: [sh, -c, {}]\n{extra}",
            serde_json::to_string(script).unwrap()
        );
    }
    y
}

/// The record a step left as its termination message.
fn record(run: &PodRun, name: &str) -> Value {
    let c = run.container(name);
    let msg = &c
        .last()
        .unwrap_or_else(|| panic!("{name} never ran"))
        .message;
    serde_json::from_str(msg).unwrap_or_else(|e| panic!("{name}: message {msg:?}: {e}"))
}

fn time(v: &Value, key: &str) -> SystemTime {
    parse_rfc3339(v[key].as_str().unwrap()).unwrap_or_else(|| panic!("{key} in {v}"))
}

fn gap_ms(earlier: SystemTime, later: SystemTime) -> f64 {
    match later.duration_since(earlier) {
        Ok(d) => d.as_secs_f64() * 1e3,
        Err(e) => -e.duration().as_secs_f64() * 1e3,
    }
}

/// Asserts steps ran strictly one after the other, by their records and by their logs, and
/// returns the measured transitions (end of one to start of the next), in ms.
fn assert_ordered(run: &PodRun, steps: &[&str]) -> Vec<f64> {
    let mut gaps = Vec::new();
    for pair in steps.windows(2) {
        let (a, b) = (record(run, pair[0]), record(run, pair[1]));
        let gap = gap_ms(time(&a, "finishedAt"), time(&b, "startedAt"));
        assert!(
            gap >= 0.0,
            "{} started {gap} ms before {} finished",
            pair[1],
            pair[0]
        );
        // Log lines carry the time the emulator read them, which may be late but never
        // early: B's first line was written after B started, so it cannot have been read
        // before A finished. (A's last line may be read late: no bound on that side.)
        let first_b = run
            .container(pair[1])
            .last()
            .unwrap()
            .logs
            .iter()
            .find(|l| !l.stderr)
            .map(|l| l.time);
        if let Some(fb) = first_b {
            let a_end = time(&a, "finishedAt");
            assert!(
                fb >= a_end,
                "{} logged {:.3} ms before {} finished",
                pair[1],
                gap_ms(fb, a_end),
                pair[0]
            );
        }
        gaps.push(gap);
    }
    gaps
}

fn exit_code(run: &PodRun, name: &str) -> i32 {
    run.container(name).last().unwrap().exit_code
}

#[test]
fn readme_two_step_pod_runs_in_order() {
    if !kubelet::require_sandbox("readme_two_step_pod_runs_in_order") {
        return;
    }
    let readme_pod = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pod.yaml");
    let yaml = convert(&std::fs::read_to_string(readme_pod).unwrap());
    let run = kubelet().run(&yaml, DEADLINE).unwrap();
    assert_eq!(run.phase, Phase::Succeeded, "{:#}", run.status());
    assert_eq!(run.container("step1").stdout(), "step1 done\n");
    assert_eq!(run.container("step2").stdout(), "step2 runs after step1\n");
    let gaps = assert_ordered(&run, &["step1", "step2"]);
    // step1 sleeps 2 s: had step2 not waited, it would have started ~2 s before step1 ended.
    let (a, b) = (record(&run, "step1"), record(&run, "step2"));
    assert!(gap_ms(time(&a, "startedAt"), time(&b, "startedAt")) >= 2000.0);
    eprintln!("two steps: transition {:.3} ms", gaps[0]);
    let status = run.status();
    assert_eq!(status["phase"], "Succeeded");
    assert_eq!(
        status["initContainerStatuses"][0]["state"]["terminated"]["exitCode"],
        0
    );
    assert_eq!(
        status["containerStatuses"][1]["state"]["terminated"]["reason"],
        "Completed"
    );
}

#[test]
fn five_steps_are_strictly_ordered() {
    if !kubelet::require_sandbox("five_steps_are_strictly_ordered") {
        return;
    }
    let names = ["s0", "s1", "s2", "s3", "s4"];
    let steps: Vec<(&str, String)> = names
        .iter()
        .map(|n| (*n, format!("echo {n} begins; sleep 0.05; echo {n} ends")))
        .collect();
    let steps: Vec<(&str, &str)> = steps.iter().map(|(n, s)| (*n, s.as_str())).collect();
    let run = kubelet()
        .run(&convert(&pod("five", "Never", &steps, "")), DEADLINE)
        .unwrap();
    assert_eq!(run.phase, Phase::Succeeded, "{:#}", run.status());
    for n in names {
        assert_eq!(run.container(n).stdout(), format!("{n} begins\n{n} ends\n"));
        assert_eq!(record(&run, n)["reason"], "Succeeded");
    }
    let gaps = assert_ordered(&run, &names);
    eprintln!("five steps: transitions (ms) {gaps:.3?}");
}

#[test]
fn a_failed_middle_step_skips_the_rest_under_never() {
    if !kubelet::require_sandbox("a_failed_middle_step_skips_the_rest_under_never") {
        return;
    }
    let steps = [
        ("s0", "echo s0 ran"),
        ("s1", "echo s1 ran"),
        ("s2", "echo s2 ran; exit 3"),
        ("s3", "echo s3 ran"),
        ("s4", "echo s4 ran"),
    ];
    let run = kubelet()
        .run(&convert(&pod("middle", "Never", &steps, "")), DEADLINE)
        .unwrap();
    assert_eq!(run.phase, Phase::Failed);
    for ok in ["s0", "s1"] {
        assert_eq!(exit_code(&run, ok), 0);
        assert_eq!(record(&run, ok)["reason"], "Succeeded");
    }
    assert_eq!(exit_code(&run, "s2"), 3);
    assert_eq!(record(&run, "s2")["reason"], "Failed");
    assert_eq!(record(&run, "s2")["exitCode"], 3);
    for skipped in ["s3", "s4"] {
        let c = run.container(skipped);
        assert_eq!(c.attempts.len(), 1, "{skipped} restarted under Never");
        assert_eq!(
            exit_code(&run, skipped),
            kueueleuleu::protocol::exit_code::NOT_RUN
        );
        assert_eq!(record(&run, skipped)["reason"], "Skipped");
        assert!(
            !c.stdout().contains("ran"),
            "{skipped} ran its command: {}",
            c.stdout()
        );
    }
    let status = run.status();
    assert_eq!(status["phase"], "Failed");
    assert_eq!(
        status["containerStatuses"][2]["state"]["terminated"]["exitCode"],
        3
    );
    assert_eq!(
        status["containerStatuses"][3]["state"]["terminated"]["reason"],
        "Error"
    );
}

#[test]
fn on_failure_restarts_and_successors_run_once() {
    if !kubelet::require_sandbox("on_failure_restarts_and_successors_run_once") {
        return;
    }
    let flaky = "n=$(cat /scratch/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /scratch/n; echo attempt $n; [ $n -ge 3 ]";
    let mut yaml = pod(
        "flaky",
        "OnFailure",
        &[("s0", flaky), ("s1", "echo s1 ran"), ("s2", "echo s2 ran")],
        "    volumeMounts:\n    - name: scratch\n      mountPath: /scratch\n",
    );
    yaml += "  volumes:\n  - name: scratch\n    emptyDir: {}\n";
    let run = kubelet().run(&convert(&yaml), DEADLINE).unwrap();
    assert_eq!(run.phase, Phase::Succeeded, "{:#}", run.status());
    let s0 = run.container("s0");
    let codes: Vec<i32> = s0.attempts.iter().map(|a| a.exit_code).collect();
    assert_eq!(codes, [1, 1, 0]);
    assert_eq!(s0.stdout(), "attempt 3\n");
    for n in ["s1", "s2"] {
        let c = run.container(n);
        assert_eq!(c.attempts.len(), 1, "{n} ran more than once");
        assert_eq!(c.stdout(), format!("{n} ran\n"));
    }
    assert_ordered(&run, &["s0", "s1", "s2"]);
    let status = run.status();
    assert_eq!(status["containerStatuses"][0]["restartCount"], 2);
    assert_eq!(
        status["containerStatuses"][0]["lastState"]["terminated"]["exitCode"],
        1
    );
}

#[test]
fn exit_codes_come_out_as_such() {
    if !kubelet::require_sandbox("exit_codes_come_out_as_such") {
        return;
    }
    // `$$$$`: the kubelet turns `$$` into `$`, so the shell sees `$$`.
    for (script, code, signal) in [
        ("exit 0", 0, None),
        ("exit 3", 3, None),
        ("kill -9 $$$$", 137, Some(9)),
    ] {
        let steps = [("s0", script), ("s1", "echo s1 ran")];
        let run = kubelet()
            .run(&convert(&pod("codes", "Never", &steps, "")), DEADLINE)
            .unwrap();
        assert_eq!(exit_code(&run, "s0"), code, "{script}");
        let rec = record(&run, "s0");
        assert_eq!(rec["exitCode"], code, "{script}");
        assert_eq!(rec["signal"].as_i64(), signal, "{script}");
        let status = run.status();
        assert_eq!(
            status["containerStatuses"][0]["state"]["terminated"]["exitCode"],
            code
        );
        let s1_ran = run.container("s1").stdout() == "s1 ran\n";
        assert_eq!(s1_ran, code == 0, "{script}");
    }
}

#[test]
fn an_unwritable_termination_path_does_not_fail_the_step() {
    if !kubelet::require_sandbox("an_unwritable_termination_path_does_not_fail_the_step") {
        return;
    }
    let ro = "    securityContext:\n      readOnlyRootFilesystem: true\n";
    let steps = [("s0", "echo s0 ran"), ("s1", "echo s1 ran")];
    let run = kubelet()
        .run(&convert(&pod("ro", "Never", &steps, ro)), DEADLINE)
        .unwrap();
    assert_eq!(run.phase, Phase::Succeeded, "{:#}", run.status());
    for n in ["s0", "s1"] {
        let c = run.container(n);
        assert_eq!(exit_code(&run, n), 0);
        assert_eq!(
            c.last().unwrap().message,
            "",
            "{n}: the message path was writable"
        );
        assert!(
            c.last()
                .unwrap()
                .logs
                .iter()
                .any(|l| l.stderr && l.text.starts_with("kueueleuleu-step:"))
        );
        assert!(c.logs().contains(&format!("{n} ran")));
    }
    // The outcomes still went through the run directories, in order.
    let done = |i: usize| -> Value {
        let path = run.dir.join(format!("volumes/kueueleuleu-run-{i}/done"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    assert_eq!(done(0)["reason"], "Succeeded");
    assert_eq!(done(1)["reason"], "Succeeded");
    assert!(gap_ms(time(&done(0), "finishedAt"), time(&done(1), "startedAt")) >= 0.0);
}
