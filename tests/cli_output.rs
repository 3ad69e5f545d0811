//! What the command line writes on stderr, and how: `--quiet` hides info messages and keeps
//! warnings and errors, colour comes only on a terminal (or `--color always`) and never with
//! `NO_COLOR` or `--color never`, and the progress line is drawn only on a person's terminal,
//! never into a pipe or for an orchestrator (KRM function, Helm, Argo CD modes).
//!
//! The terminal cases run the binary under `script` (util-linux), which gives it a pseudo
//! terminal as stderr while stdout goes to a file.

#[path = "support/run.rs"]
mod support_run;
mod support {
    pub mod tools;
}

use std::path::{Path, PathBuf};
use support_run::{Run, command, run};

const PROGRESS: &str = "\r\x1b[2K";
const INFO: &str = "kueueleuleu: info:";
const COLOURED_INFO: &str = "kueueleuleu: \x1b[36minfo\x1b[0m:";

/// A scratch directory with `count` one-step Pods (unannotated: each gives an info message
/// with --all) and a subdirectory of manifests (a warning without -R).
fn inputs(name: &str, count: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kueueleuleu-out-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("pods/nested")).unwrap();
    for i in 0..count {
        std::fs::write(
            dir.join(format!("pods/pod-{i:05}.yaml")),
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\nspec:\n  restartPolicy: Never\n  containers:\n  - {{name: a, image: busybox, command: [sh, -c, 'true']}}\n  - {{name: b, image: busybox, command: [sh, -c, 'true']}}\n"
            ),
        )
        .unwrap();
    }
    std::fs::write(
        dir.join("pods/nested/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    )
    .unwrap();
    dir
}

fn piped(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = command();
    cmd.args(args).env_remove("NO_COLOR").env("TERM", "xterm");
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(cmd, b"")
}

/// Runs `kueueleuleu ARGS` with a terminal as stderr and stdout in `out`; returns what the
/// terminal showed, or `None` when `script` is missing (outside CI).
fn on_terminal(args: &[&str], env: &[(&str, &str)], out: &Path) -> Option<String> {
    let script = support::tools::find("script")?;
    let line = format!(
        "{} {} > {}",
        env!("CARGO_BIN_EXE_kueueleuleu"),
        args.join(" "),
        out.display()
    );
    let mut cmd = std::process::Command::new(script);
    cmd.args(["-qec", &line, "/dev/null"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .env("COLUMNS", "100");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let done = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script runs");
    assert!(
        done.status.success(),
        "{line} failed: {}",
        String::from_utf8_lossy(&done.stdout)
    );
    Some(String::from_utf8_lossy(&done.stdout).into_owned())
}

#[test]
fn a_pipe_gets_plain_complete_messages() {
    let dir = inputs("pipe", 3);
    let pods = dir.join("pods");
    let run = piped(&["convert", "--all", "-f", pods.to_str().unwrap()], &[]);
    assert_eq!(run.exit(), 0, "{}", run.stderr);
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);
    assert!(!run.stderr.contains('\r'), "{:?}", run.stderr);
    assert_eq!(run.stderr.matches(INFO).count(), 3, "{}", run.stderr);
    assert!(run.stderr.contains("kueueleuleu: warning: "));
}

#[test]
fn quiet_hides_info_and_keeps_warnings_errors_exit_and_output() {
    let dir = inputs("quiet", 2);
    let pods = dir.join("pods");
    let pods = pods.to_str().unwrap();
    let loud = piped(&["convert", "--all", "-f", pods], &[]);
    let quiet = piped(&["convert", "--all", "-f", pods, "--quiet"], &[]);
    assert_eq!(quiet.exit(), loud.exit());
    assert_eq!(quiet.stdout, loud.stdout);
    assert!(!quiet.stderr.contains(INFO), "{}", quiet.stderr);
    assert_eq!(
        quiet.stderr,
        "kueueleuleu: warning: ".to_string()
            + loud
                .stderr
                .split("kueueleuleu: warning: ")
                .nth(1)
                .unwrap()
                .split('\n')
                .next()
                .unwrap()
            + "\n"
    );
    // Nothing selected: an info message, hidden; an error is always shown.
    let none = piped(&["-q", "convert", "-f", pods], &[]);
    assert_eq!(none.exit(), 0);
    assert!(!none.stderr.contains(INFO), "{}", none.stderr);
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n  - {name: a, image: busybox}\n").unwrap();
    let failed = piped(
        &["convert", "-q", "--all", "-f", bad.to_str().unwrap()],
        &[],
    );
    assert_eq!(failed.exit(), 1);
    assert!(
        failed.stderr.starts_with("kueueleuleu: error: "),
        "{}",
        failed.stderr
    );
    assert!(!failed.stderr.contains(INFO), "{}", failed.stderr);
}

#[test]
fn colour_is_asked_for_or_refused_on_the_command_line() {
    let dir = inputs("colour", 1);
    let pods = dir.join("pods");
    let pods = pods.to_str().unwrap();
    let plain = piped(&["convert", "--all", "-f", pods], &[]);
    let always = piped(&["convert", "--all", "-f", pods, "--color", "always"], &[]);
    assert!(always.stderr.contains(COLOURED_INFO), "{:?}", always.stderr);
    assert!(
        always
            .stderr
            .contains("kueueleuleu: \x1b[33mwarning\x1b[0m: ")
    );
    assert_eq!(always.stdout, plain.stdout, "stdout is never coloured");
    // --color always is the user's explicit wish, so it wins over NO_COLOR (no-color.org).
    let forced = piped(
        &["--color=always", "convert", "--all", "-f", pods],
        &[("NO_COLOR", "1")],
    );
    assert!(forced.stderr.contains(COLOURED_INFO));
    let never = piped(&["convert", "--all", "-f", pods, "--color", "never"], &[]);
    assert_eq!(never.stderr, plain.stderr);
    let wrong = piped(&["convert", "--color", "sometimes"], &[]);
    assert_eq!(wrong.exit(), 2);
    assert!(wrong.stderr.contains("auto"), "{}", wrong.stderr);
}

#[test]
fn a_terminal_gets_colour_and_a_progress_line_for_a_long_run() {
    // Enough inputs to run well past the progress line's delay (300 ms) in a debug build.
    let dir = inputs("tty", 1500);
    let pods = dir.join("pods");
    let out = dir.join("out.yaml");
    let args = ["convert", "--all", "-f", pods.to_str().unwrap()];
    let Some(shown) = on_terminal(&args, &[], &out) else {
        return;
    };
    assert!(shown.contains(COLOURED_INFO), "{shown:?}");
    assert!(
        shown.contains(PROGRESS),
        "no progress line: {:?}",
        &shown[..200]
    );
    assert!(shown.contains(" converting ["), "{:?}", &shown[..200]);
    assert!(shown.contains("/1500 inputs"));
    // Cleared at the end: the last thing on the terminal is not a progress line.
    assert!(
        shown.ends_with(PROGRESS) || shown.ends_with('\n'),
        "{:?}",
        &shown[shown.len() - 200..]
    );
    // Messages are whole lines, never cut by the progress line.
    for line in shown.split(['\r', '\n']).filter(|l| l.contains("info")) {
        assert!(
            line.trim_start_matches("\x1b[2K")
                .starts_with("kueueleuleu: "),
            "{line:?}"
        );
    }
    let piped = piped(&args, &[]);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        piped.stdout,
        "stdout is the same"
    );

    let Some(no_color) = on_terminal(&args, &[("NO_COLOR", "1")], &out) else {
        return;
    };
    assert!(!no_color.contains("\x1b[3") && !no_color.contains("\x1b[1;31m"));
    assert!(no_color.contains(INFO) && no_color.contains(PROGRESS));

    let never: Vec<&str> = [&args[..], &["--color", "never"]].concat();
    let Some(never) = on_terminal(&never, &[], &out) else {
        return;
    };
    assert!(!never.contains("\x1b[3") && never.contains(INFO));
}

#[test]
fn quiet_and_orchestrators_get_no_progress_line_on_a_terminal() {
    let dir = inputs("tty-quiet", 1500);
    let pods = dir.join("pods");
    let pods = pods.to_str().unwrap();
    let out = dir.join("out.yaml");
    let Some(quiet) = on_terminal(&["convert", "--all", "-q", "-f", pods], &[], &out) else {
        return;
    };
    assert!(
        !quiet.contains(PROGRESS) && !quiet.contains("info"),
        "{quiet:?}"
    );
    // Argo CD's plugin runs `convert --config-from-env argocd`: its output is captured.
    let Some(argocd) = on_terminal(
        &["convert", "--config-from-env", "argocd", "-f", pods],
        &[("PARAM_SELECTALL", "true")],
        &out,
    ) else {
        return;
    };
    assert!(
        !argocd.contains('\x1b'),
        "{:?}",
        &argocd[..200.min(argocd.len())]
    );
    assert!(argocd.contains(INFO));
    // Without a subcommand (KRM function, Helm 3 post-renderer), stdin decides: here a
    // stream read from a file, as kustomize or Helm would pipe it.
    let stream = dir.join("stream.yaml");
    let mut text = String::new();
    for entry in std::fs::read_dir(pods).unwrap().take(400) {
        let path = entry.unwrap().path();
        if path.is_file() {
            text.push_str("---\n");
            text.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    std::fs::write(&stream, text).unwrap();
    let function = format!("--all < {}", stream.display());
    let Some(function) = on_terminal(&[&function], &[], &out) else {
        return;
    };
    assert!(
        !function.contains('\x1b'),
        "{:?}",
        &function[..200.min(function.len())]
    );
    assert!(function.contains(INFO));
    let helm = format!("--all --helm-plugin < {}", stream.display());
    let Some(helm) = on_terminal(&[&helm], &[], &out) else {
        return;
    };
    assert!(!helm.contains('\x1b'));
}
