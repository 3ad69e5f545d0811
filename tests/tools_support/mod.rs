//! Helpers for the end-to-end tests that drive the real orchestrators (kustomize, kpt, helm,
//! the Argo CD plugin command) over `examples/`.
//!
//! - Tools are looked up in `.tools/bin` (what `.ci/install-tools.sh` installs) first, then
//!   on `PATH`. A missing tool fails the test when `CI` is set and skips it, naming the
//!   tool, otherwise.
//! - Every test works on a copy of the examples in its own temporary directory, with the
//!   freshly built `kueueleuleu` linked where the example expects it.
//! - Outputs are compared whole with files under `tests/expected/e2e/`; a mismatch panics
//!   with a unified diff, and `UPDATE_EXPECTED=1` rewrites the expected file instead.

#![allow(dead_code)] // each test binary uses its own subset

#[path = "../support/tools.rs"]
mod tools;

use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// The repository root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `kueueleuleu` binary under test.
pub fn kueueleuleu_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_kueueleuleu"))
}

/// Finds a tool: `.tools/bin/NAME`, else NAME on `PATH`; missing, it fails the test under
/// `CI` and skips it elsewhere (see `tests/support/tools.rs`, shared by every test binary).
pub fn tool(name: &str) -> Option<PathBuf> {
    tools::find(name)
}

/// A temporary directory, removed on drop (kept when `KEEP_E2E_TMP` is set, for debugging).
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "kueueleuleu-e2e-{label}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create the temporary directory");
        // Canonical, so that tools printing resolved paths print this prefix.
        let path = path.canonicalize().expect("canonical temporary directory");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.path.join(rel)
    }

    /// `DIR/bin` holding a `kueueleuleu` link to the binary under test, for `PATH`.
    pub fn bin_dir(&self) -> PathBuf {
        let bin = self.join("bin");
        let link = bin.join("kueueleuleu");
        if link.symlink_metadata().is_err() {
            link_kueueleuleu(&link);
        }
        bin
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("KEEP_E2E_TMP").is_some() {
            eprintln!("kept {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Symlinks the binary under test at `at`, creating parent directories.
pub fn link_kueueleuleu(at: &Path) {
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(kueueleuleu_bin(), at)
        .unwrap_or_else(|e| panic!("link kueueleuleu at {}: {e}", at.display()));
}

/// Copies the tree at `src` to `dst`. With `file_mode`, every file gets that mode (what
/// Argo CD does to a repository it hands to a plugin); otherwise modes are kept.
pub fn copy_tree(src: &Path, dst: &Path, file_mode: Option<u32>) {
    std::fs::create_dir_all(dst).unwrap();
    let mut entries: Vec<_> = std::fs::read_dir(src)
        .unwrap_or_else(|e| panic!("read {}: {e}", src.display()))
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&from, &to, file_mode);
        } else {
            std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
            if let Some(mode) = file_mode {
                std::fs::set_permissions(&to, std::fs::Permissions::from_mode(mode)).unwrap();
            }
        }
    }
}

/// What a finished command left.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Panics, showing everything, unless the command exited 0.
    pub fn success(self, what: &str) -> Output {
        assert_eq!(
            self.code, 0,
            "{what} failed\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs `cmd` to completion with `stdin` (empty when `None`), capturing everything.
pub fn run(cmd: &mut Command, stdin: Option<&[u8]>) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("start {:?}: {e}", cmd.get_program()));
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.unwrap_or_default().to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for the command");
    writer.join().unwrap();
    Output {
        code: out
            .status
            .code()
            .unwrap_or_else(|| panic!("{:?} was killed", cmd)),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// `PATH` with `dir` in front.
pub fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut dirs = vec![dir.to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap()
}

/// Makes tool output stable: the temporary directory becomes `$TMP`, the converter's
/// default image `$DEFAULT_IMAGE` (so a version bump does not touch every expected file),
/// and durations printed at the end of a line (kpt's `in 200ms`) `in $DURATION`.
pub fn normalize(text: &str, tmp: &Path) -> String {
    let text = text
        .replace(&tmp.display().to_string(), "$TMP")
        .replace(kueueleuleu::config::DEFAULT_IMAGE, "$DEFAULT_IMAGE");
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        match body.rfind(" in ") {
            Some(at) if is_duration(&body[at + 4..]) => {
                out.push_str(&body[..at]);
                out.push_str(" in $DURATION");
            }
            _ => out.push_str(body),
        }
        out.push_str(end);
    }
    out
}

/// `0s`, `200ms`, `1.5s`, `3µs`, `2m0s`...
fn is_duration(s: &str) -> bool {
    let s = s.trim_end();
    if s.is_empty() || !s.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let units = ["ns", "us", "µs", "ms", "s", "m", "h"];
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        match units
            .iter()
            .filter(|u| rest.starts_with(**u))
            .max_by_key(|u| u.len())
        {
            Some(unit) => rest = &rest[unit.len()..],
            None => return false,
        }
    }
    true
}

/// Compares `actual` with `tests/expected/e2e/NAME`, or writes it there under
/// `UPDATE_EXPECTED=1`. Panics with a unified diff on a mismatch.
pub fn assert_expected(name: &str, actual: &str) {
    let path = repo().join("tests/expected/e2e").join(name);
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        eprintln!("updated {}", path.display());
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}\n(run with UPDATE_EXPECTED=1 to create it)\n--- actual ---\n{actual}",
            path.display()
        )
    });
    if expected != actual {
        let diff = similar::TextDiff::from_lines(expected.as_str(), actual);
        panic!(
            "{} differs from the actual output (UPDATE_EXPECTED=1 rewrites it):\n{}",
            path.display(),
            diff.unified_diff()
                .context_radius(3)
                .header("expected", "actual")
        );
    }
}

/// Every file under `dir` (skipping `.git`), sorted by path, each after a `# ==> PATH <==`
/// header: a whole package in one comparable text.
pub fn snapshot(dir: &Path) -> String {
    let mut files = Vec::new();
    collect_files(dir, dir, &mut files);
    files.sort();
    let mut out = String::new();
    for rel in files {
        let text = std::fs::read_to_string(dir.join(&rel)).unwrap();
        let _ = writeln!(out, "# ==> {rel} <==");
        out.push_str(&text);
        if !text.ends_with('\n') {
            out.push_str("\n# (no newline at end of file)\n");
        }
    }
    out
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_name() == ".git" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            collect_files(root, &path, out);
        } else {
            out.push(path.strip_prefix(root).unwrap().display().to_string());
        }
    }
}

/// Checks a manifest stream against the Kubernetes schemas with `kubernetes-validate`;
/// skipped (or failed under `CI`) like any test whose tool is missing.
pub fn assert_valid_kubernetes(what: &str, yaml: &str) {
    let Some(validate) = tool("kubernetes-validate") else {
        return;
    };
    let out = run(
        Command::new(validate).args(["--strict", "-"]),
        Some(yaml.as_bytes()),
    );
    assert_eq!(
        out.code, 0,
        "{what}: kubernetes-validate rejected the output\n--- stdout ---\n{}\n--- stderr ---\n{}\n--- input ---\n{yaml}",
        out.stdout, out.stderr
    );
}

/// The documents of a YAML stream, parsed (empty documents dropped).
pub fn documents(yaml: &str) -> Vec<serde_json::Value> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| serde_json::Value::deserialize(doc).expect("output is YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

/// The document of `kind` named `name`.
pub fn find_doc<'a>(
    docs: &'a [serde_json::Value],
    kind: &str,
    name: &str,
) -> &'a serde_json::Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in the output"))
}

/// The pod spec of a Pod, Job or CronJob document.
pub fn pod_spec(doc: &serde_json::Value) -> &serde_json::Value {
    match doc["kind"].as_str() {
        Some("Pod") => &doc["spec"],
        Some("Job") => &doc["spec"]["template"]["spec"],
        Some("CronJob") => &doc["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        other => panic!("not a Pod, Job or CronJob: {other:?}"),
    }
}

/// True when every container of the object runs the step runner and the init container
/// that installs it is there: the object really was converted.
pub fn is_converted(doc: &serde_json::Value) -> bool {
    let spec = pod_spec(doc);
    let runs_steps = spec["containers"].as_array().is_some_and(|cs| {
        !cs.is_empty()
            && cs
                .iter()
                .all(|c| c["command"][0] == "/kueueleuleu/bin/kueueleuleu-step")
    });
    let has_init = spec["initContainers"]
        .as_array()
        .is_some_and(|cs| cs.iter().any(|c| c["name"] == "kueueleuleu-init"));
    runs_steps && has_init
}

/// `git` in `dir`, with no user or system config.
pub fn git(dir: &Path, args: &[&str]) -> Output {
    let git = tool("git").expect("the caller checked that git is installed");
    run(
        Command::new(git)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .args([
                "-c",
                "user.name=e2e",
                "-c",
                "user.email=e2e@example.invalid",
            ])
            .args(["-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"])
            .args(args),
        None,
    )
    .success(&format!("git {}", args.join(" ")))
}

/// Helm with its home directories inside the temporary directory and the binary under
/// test on `PATH` (where a post-renderer or the plugin's `command: kueueleuleu` finds it).
pub fn helm_command(helm: &Path, tmp: &TempDir) -> Command {
    let mut cmd = Command::new(helm);
    cmd.env("HELM_CACHE_HOME", tmp.join("helm/cache"))
        .env("HELM_CONFIG_HOME", tmp.join("helm/config"))
        .env("HELM_DATA_HOME", tmp.join("helm/data"))
        .env_remove("HELM_PLUGINS")
        .env("PATH", path_with(&tmp.bin_dir()));
    cmd
}
