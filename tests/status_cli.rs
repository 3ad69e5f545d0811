//! `kueueleuleu status` run as a user runs it, on documents captured from the real cluster
//! (`tests/status/`): whole transcripts (command, exit code, stdout, stderr) compared with
//! `tests/expected/status/*.txt`; `UPDATE_EXPECTED=1` rewrites them. The cluster path runs
//! against a stand-in `kubectl` (a shell script serving the captured documents) that logs
//! the arguments it got, so the transcript also shows how kubectl is called.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Running durations are measured to this instant (just after the capture), so tables are
/// reproducible.
const NOW: &str = "2026-12-02T01:18:00Z";

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/status")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kll-status-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Run<'a> {
    bin: PathBuf,
    args: &'a [&'a str],
    stdin: Option<Vec<u8>>,
    env: Vec<(&'a str, String)>,
}

impl<'a> Run<'a> {
    fn new(args: &'a [&'a str]) -> Self {
        Run {
            bin: env!("CARGO_BIN_EXE_kueueleuleu").into(),
            args,
            stdin: None,
            env: Vec::new(),
        }
    }

    /// The transcript: the command line as typed in `tests/status/`, then what it did.
    fn transcript(&self) -> String {
        let mut cmd = Command::new(&self.bin);
        cmd.args(self.args)
            .current_dir(data())
            .env_remove("KUBECTL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let input = self.stdin.clone().unwrap_or_default();
        let mut pipe = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let _ = pipe.write_all(&input);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        let name = self.bin.file_name().unwrap().to_string_lossy();
        format!(
            "$ {name} {}{}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
            self.args.join(" "),
            if self.stdin.is_some() { " < stdin" } else { "" },
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        )
    }
}

/// Compares with `tests/expected/status/NAME.txt` (or rewrites it).
fn expect(name: &str, actual: &str) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/expected/status/{name}.txt"));
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
            .unified_diff()
            .header(&format!("{} (expected)", path.display()), "actual")
            .to_string();
        panic!(
            "{} differs (UPDATE_EXPECTED=1 rewrites it):\n{diff}",
            path.display()
        );
    }
}

fn table(name: &str, file: &str) {
    let file = format!("{file}.json");
    expect(
        name,
        &Run::new(&["status", "-f", &file, "--now", NOW]).transcript(),
    );
}

#[test]
fn table_initializing() {
    table("table-initializing", "pod-initializing");
}

#[test]
fn table_unschedulable() {
    table("table-unschedulable", "pod-unschedulable");
}

#[test]
fn table_first_running() {
    table("table-first-running", "pod-first-running");
}

#[test]
fn table_second_running() {
    table("table-second-running", "pod-second-running");
}

#[test]
fn table_succeeded() {
    table("table-succeeded", "pod-succeeded");
}

#[test]
fn table_predecessor_lost() {
    table("table-predecessor-lost", "pod-predecessor-lost");
}

#[test]
fn table_oom_killed() {
    table("table-oom-killed", "pod-oom-killed");
}

#[test]
fn table_deadline_exceeded() {
    table("table-deadline-exceeded", "pod-deadline-exceeded");
}

#[test]
fn table_job_pods_in_crash_loop() {
    table("table-crashloop", "job-crashloop-pods");
}

#[test]
fn json_of_a_running_pod() {
    let run = Run::new(&["status", "-f", "pod-second-running.json", "-o", "json"]);
    expect("json-second-running", &run.transcript());
}

#[test]
fn json_of_a_job_and_its_pods_from_stdin() {
    let mut run = Run::new(&["status", "-o", "json"]);
    let mut input = std::fs::read(data().join("job-middle-fails.json")).unwrap();
    input.extend(std::fs::read(data().join("job-middle-fails-pods.json")).unwrap());
    run.stdin = Some(input);
    expect("json-job-middle-fails", &run.transcript());
}

#[test]
fn yaml_of_a_cron_job_stream() {
    let mut input = String::new();
    for f in [
        "cronjob-nightly",
        "cronjob-nightly-jobs",
        "cronjob-nightly-pods",
    ] {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(data().join(format!("{f}.json"))).unwrap())
                .unwrap();
        input.push_str("---\n");
        input.push_str(&serde_yaml::to_string(&v).unwrap());
    }
    let mut run = Run::new(&["status", "-o", "yaml"]);
    run.stdin = Some(input.into_bytes());
    expect("yaml-cronjob", &run.transcript());
}

#[test]
fn errors_name_the_object_and_the_fix() {
    let mut out = String::new();
    out += &Run::new(&["status", "-f", "pod-not-converted.json"]).transcript();
    out += &Run::new(&["status", "-f", "job-middle-fails.json"]).transcript();
    let mut run = Run::new(&["status"]);
    run.stdin = Some(b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n".to_vec());
    out += &run.transcript();
    let mut run = Run::new(&["status"]);
    run.stdin = Some(b"kind: Pod\nmetadata: [oops\n".to_vec());
    out += &run.transcript();
    out += &Run::new(&["status", "deployment/web"]).transcript();
    expect("errors", &out);
}

/// Writes the stand-in kubectl into `dir`: it logs its arguments and serves captured
/// documents; `pod/steps` moves on one stage per call (for --watch).
fn fake_kubectl(dir: &Path) -> PathBuf {
    let script = format!(
        r#"#!/bin/sh
d='{data}'
printf '%s\n' "kubectl $*" >> '{dir}/log'
case "$*" in
  *"get pod steps -o json")
    n=$(cat '{dir}/n' 2>/dev/null || echo 0); echo $((n + 1)) > '{dir}/n'
    set -- pod-first-running pod-second-running pod-succeeded
    [ "$n" -gt 2 ] && n=2
    shift "$n"; cat "$d/$1.json" ;;
  *"get job middle-fails -o json") cat "$d/job-middle-fails.json" ;;
  *"get pods -l batch.kubernetes.io/job-name=middle-fails -o json")
    echo '{{"apiVersion": "v1", "kind": "List", "items": []}}' ;;
  *"get pods -l job-name=middle-fails -o json") cat "$d/job-middle-fails-pods.json" ;;
  *"get job fresh -o json") cat "$d/job-flaky.json" ;;
  *"job-name=fresh -o json") echo '{{"apiVersion": "v1", "kind": "List", "items": []}}' ;;
  *"get cronjob nightly -o json") cat "$d/cronjob-nightly.json" ;;
  *"get jobs -o json") cat "$d/cronjob-nightly-jobs.json" ;;
  *"get pods -l batch.kubernetes.io/job-name=nightly-manual -o json")
    cat "$d/cronjob-nightly-pods.json" ;;
  *) echo "Error from server (NotFound): not found" >&2; exit 1 ;;
esac
"#,
        data = data().display(),
        dir = dir.display()
    );
    let path = dir.join("kubectl");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn with_log(dir: &Path, transcript: String) -> String {
    let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
    format!("{transcript}--- kubectl calls\n{log}")
}

#[test]
fn cluster_job_falls_back_to_the_legacy_label_and_passes_context_flags() {
    let dir = scratch("job");
    let mut run = Run::new(&[
        "status",
        "job/middle-fails",
        "-n",
        "team",
        "--context",
        "prod",
        "--kubeconfig",
        "kc",
    ]);
    run.env
        .push(("KUBECTL", fake_kubectl(&dir).display().to_string()));
    expect("cluster-job", &with_log(&dir, run.transcript()));
}

#[test]
fn cluster_cron_job_shows_its_newest_job() {
    let dir = scratch("cronjob");
    let mut run = Run::new(&["status", "cronjob/nightly", "-o", "json"]);
    run.env
        .push(("KUBECTL", fake_kubectl(&dir).display().to_string()));
    expect("cluster-cronjob", &with_log(&dir, run.transcript()));
}

#[test]
fn cluster_watch_follows_the_pod_until_it_ends() {
    let dir = scratch("watch");
    let mut run = Run::new(&[
        "status",
        "pod/steps",
        "--watch",
        "--interval",
        "0.1",
        "--now",
        NOW,
    ]);
    run.env
        .push(("KUBECTL", fake_kubectl(&dir).display().to_string()));
    expect("cluster-watch", &with_log(&dir, run.transcript()));
}

#[test]
fn cluster_errors_come_from_kubectl() {
    let dir = scratch("missing");
    let mut run = Run::new(&["status", "pod/nope"]);
    run.env
        .push(("KUBECTL", fake_kubectl(&dir).display().to_string()));
    let mut out = with_log(&dir, run.transcript());
    let dir = scratch("fresh");
    let mut run = Run::new(&["status", "job/fresh"]);
    run.env
        .push(("KUBECTL", fake_kubectl(&dir).display().to_string()));
    out += &with_log(&dir, run.transcript());
    let mut run = Run::new(&["status", "pod/nope"]);
    run.env
        .push(("KUBECTL", dir.join("no-such-kubectl").display().to_string()));
    out += &run.transcript().replace(&dir.display().to_string(), "$TMP");
    expect("cluster-errors", &out);
}

/// Installed as `kubectl-sequential`, the binary answers as `kubectl sequential`.
#[test]
fn plugin_name_runs_status_and_shows_kubectl_usage() {
    let dir = scratch("plugin");
    let plugin = dir.join("kubectl-sequential");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kueueleuleu"), &plugin).unwrap();
    let mut run = Run::new(&["status", "-f", "pod-oom-killed.json"]);
    run.bin = plugin.clone();
    let mut out = run.transcript();
    let mut run = Run::new(&[]);
    run.bin = plugin;
    let help = run.transcript();
    let usage = help
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .unwrap_or_default();
    out += &format!("(no arguments) {usage}\n");
    expect("plugin", &out);
}
