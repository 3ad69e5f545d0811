//! Shared helpers of the real-cluster tests: finding the cluster `scripts/cluster/up.sh`
//! started, running `kubectl` with hard timeouts, one namespace per test (deleted when
//! the test ends, pass or fail), and a small limit on how many tests use the cluster at
//! once so a 2-core machine copes.
//!
//! The cluster is found through `cluster.env`, which up.sh writes: the path in
//! `KUEUELEULEU_CLUSTER_ENV`, else up.sh's default location. Without a reachable cluster
//! a test fails under `CI` and skips, saying how to start one, elsewhere.

#![allow(dead_code)]

pub mod pods;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Where up.sh writes `cluster.env` unless `KUEUELEULEU_CLUSTER_DIR` moved it.
const DEFAULT_ENV: &str = "/var/lib/kueueleuleu/cluster/cluster.env";
/// Tests using the cluster at the same time (`KUEUELEULEU_CLUSTER_PARALLEL` overrides).
const DEFAULT_PARALLEL: usize = 2;

/// The running test cluster, as described by up.sh's `cluster.env`.
#[derive(Debug)]
pub struct Cluster {
    pub kubectl: PathBuf,
    pub kubeconfig: PathBuf,
    pub containerd_sock: PathBuf,
    pub env: HashMap<String, String>,
}

/// What a finished command gave back.
#[derive(Debug)]
pub struct Out {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `program args` with `stdin`, killed after `timeout` (by coreutils `timeout`, so
/// a hung API call can never hang the test run).
pub fn run(program: &Path, args: &[&str], stdin: Option<&str>, timeout: Duration) -> Out {
    let mut child = Command::new("timeout")
        .arg("--kill-after=5")
        .arg(format!("{}", timeout.as_secs().max(1)))
        .arg(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let text = text.to_owned();
        // A writer thread: a large stdin must not deadlock against a full stdout pipe.
        std::thread::spawn(move || {
            let _ = pipe.write_all(text.as_bytes());
        });
    }
    let out = child.wait_with_output().expect("wait for child");
    if out.status.code() == Some(124) {
        panic!(
            "{} {} timed out after {timeout:?}",
            program.display(),
            args.join(" ")
        );
    }
    Out {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn env_file() -> PathBuf {
    std::env::var_os("KUEUELEULEU_CLUSTER_ENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_ENV))
}

fn discover() -> Result<Cluster, String> {
    let path = env_file();
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "no test cluster ({}: {e}); start one as root with scripts/cluster/up.sh",
            path.display()
        )
    })?;
    let env: HashMap<String, String> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let get = |k: &str| {
        env.get(k)
            .map(PathBuf::from)
            .ok_or_else(|| format!("{} has no {k}", path.display()))
    };
    let cluster = Cluster {
        kubectl: get("KUBECTL")?,
        kubeconfig: get("KUBECONFIG")?,
        containerd_sock: get("CONTAINERD_SOCK")?,
        env,
    };
    let ready = cluster.kubectl(&["get", "--raw", "/readyz"], None);
    if !ready.ok {
        return Err(format!(
            "the test cluster of {} does not answer: {}; restart it with scripts/cluster/up.sh",
            path.display(),
            ready.stderr.trim()
        ));
    }
    Ok(cluster)
}

/// The cluster, or `None` after saying why the test is skipped. Panics under `CI`: the
/// cluster tier must run there.
pub fn cluster(test: &str) -> Option<&'static Cluster> {
    static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
    match CLUSTER.get_or_init(discover) {
        Ok(c) => Some(c),
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("{test}: cannot run under CI: {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED {test}: {why}");
            None
        }
    }
}

impl Cluster {
    /// `kubectl ARGS` against the test cluster (30 s per call).
    pub fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let mut all = vec!["--kubeconfig", self.kubeconfig.to_str().unwrap()];
        all.push("--request-timeout=30s");
        all.extend_from_slice(args);
        run(&self.kubectl, &all, stdin, Duration::from_secs(40))
    }

    /// A fresh namespace for one test, with `labels`, alive until the value is dropped.
    /// Blocks while the parallelism limit is reached. `budget` is the test's hard deadline.
    pub fn namespace(
        &'static self,
        test: &str,
        labels: &[(&str, &str)],
        budget: Duration,
    ) -> Namespace {
        let permit = Permit::acquire();
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let base: String = test
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(40)
            .collect();
        let name = format!(
            "kll-{base}-{}-{}",
            std::process::id() % 100_000,
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let mut ns = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n");
        if !labels.is_empty() {
            ns.push_str("  labels:\n");
            for (k, v) in labels {
                ns.push_str(&format!("    {k}: \"{v}\"\n"));
            }
        }
        let out = self.kubectl(&["create", "-f", "-"], Some(&ns));
        assert!(out.ok, "creating namespace {name}: {}", out.stderr);
        let ns = Namespace {
            name,
            cluster: self,
            deadline: Instant::now() + budget,
            _permit: permit,
        };
        // Pods need the namespace's default ServiceAccount, made by the controller manager.
        ns.wait_until("the default ServiceAccount", || {
            ns.kubectl(&["get", "serviceaccount", "default"], None).ok
        });
        ns
    }
}

/// A test's namespace: every object of the test lives here, and the namespace is deleted
/// (in the background, without waiting) when the test ends, pass or fail.
pub struct Namespace {
    pub name: String,
    pub cluster: &'static Cluster,
    pub deadline: Instant,
    _permit: Permit,
}

impl Namespace {
    /// `kubectl -n NS ARGS`.
    pub fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        self.cluster.kubectl(&all, stdin)
    }

    /// `kubectl -n NS ARGS`, which must succeed; its stdout.
    pub fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.kubectl(args, stdin);
        assert!(
            out.ok,
            "kubectl -n {} {} failed: {}",
            self.name,
            args.join(" "),
            out.stderr
        );
        out.stdout
    }

    /// Applies YAML or JSON objects in this namespace.
    pub fn apply(&self, objects: &str) -> String {
        self.ok(&["apply", "-f", "-"], Some(objects))
    }

    /// `kubectl get WHAT -o json`, parsed.
    pub fn get(&self, what: &[&str]) -> serde_json::Value {
        let mut args = vec!["get"];
        args.extend_from_slice(what);
        args.extend_from_slice(&["-o", "json"]);
        serde_json::from_str(&self.ok(&args, None)).expect("kubectl printed JSON")
    }

    /// Polls `check` every 200 ms until it holds; past the test's deadline, fails with the
    /// namespace's Pods and events so the failure explains itself.
    pub fn wait_until(&self, what: &str, mut check: impl FnMut() -> bool) {
        loop {
            if check() {
                return;
            }
            if Instant::now() > self.deadline {
                panic!(
                    "namespace {}: deadline passed waiting for {what}\n{}",
                    self.name,
                    self.diagnostics()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Pods (wide), their describe output and the events: what a person would look at.
    pub fn diagnostics(&self) -> String {
        let pods = self.kubectl(&["get", "pods", "-o", "wide"], None).stdout;
        let describe = self.kubectl(&["describe", "pods"], None).stdout;
        let events = self
            .kubectl(&["get", "events", "--sort-by=.lastTimestamp"], None)
            .stdout;
        format!("--- pods\n{pods}\n--- describe\n{describe}\n--- events\n{events}")
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = self
            .cluster
            .kubectl(&["delete", "namespace", &self.name, "--wait=false"], None);
    }
}

/// One of the few slots for tests that use the cluster at the same time.
struct Permit;

static SLOTS: Mutex<usize> = Mutex::new(0);
static FREED: Condvar = Condvar::new();

impl Permit {
    fn acquire() -> Permit {
        let max = std::env::var("KUEUELEULEU_CLUSTER_PARALLEL")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_PARALLEL)
            .max(1);
        let mut used = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
        while *used >= max {
            used = FREED.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        *used += 1;
        Permit
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut used = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
        *used -= 1;
        FREED.notify_one();
    }
}

/// The scenario manifest `tests/cluster/NAME`.
pub fn manifest(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cluster")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs the real `kueueleuleu` with `args` on `input`; its outcome.
pub fn kueueleuleu(args: &[&str], input: &str) -> Out {
    run(
        Path::new(env!("CARGO_BIN_EXE_kueueleuleu")),
        args,
        Some(input),
        Duration::from_secs(30),
    )
}

/// `kueueleuleu convert` of `input`, which must succeed.
pub fn convert(input: &str) -> String {
    let out = kueueleuleu(&["convert"], input);
    assert!(out.ok, "kueueleuleu convert failed: {}", out.stderr);
    assert!(
        out.stdout.contains("kueueleuleu-init"),
        "nothing was converted:\n{}",
        out.stdout
    );
    out.stdout
}
