//! `kueueleuleu status --watch` and `kubectl sequential status` against a running
//! three-step Pod on the real test cluster (`scripts/cluster/up.sh`; found through its
//! `cluster.env`, at `KUEUELEULEU_CLUSTER_ENV` or up.sh's default place). Without a cluster
//! the test fails under `CI` and skips, saying how to start one, elsewhere.

#![cfg(unix)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const DEFAULT_ENV: &str = "/var/lib/kueueleuleu/cluster/cluster.env";

struct Cluster {
    kubectl: PathBuf,
    kubeconfig: PathBuf,
}

fn cluster() -> Option<Cluster> {
    let path = std::env::var("KUEUELEULEU_CLUSTER_ENV").unwrap_or_else(|_| DEFAULT_ENV.into());
    let found = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"));
    let env: Result<HashMap<String, String>, String> = found.map(|text| {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    });
    let cluster = env.and_then(|env| {
        let get = |k: &str| {
            env.get(k)
                .map(PathBuf::from)
                .ok_or(format!("{path}: no {k}"))
        };
        let c = Cluster {
            kubectl: get("KUBECTL")?,
            kubeconfig: get("KUBECONFIG")?,
        };
        let up = c.kubectl(&["get", "--raw", "/readyz"]);
        if up.status.success() {
            Ok(c)
        } else {
            Err(format!("{path}: the cluster does not answer"))
        }
    });
    match cluster {
        Ok(c) => Some(c),
        Err(why) if std::env::var_os("CI").is_some() => panic!("no test cluster under CI: {why}"),
        Err(why) => {
            eprintln!(
                "SKIPPED: no test cluster ({why}); start one as root with scripts/cluster/up.sh"
            );
            None
        }
    }
}

impl Cluster {
    fn kubectl(&self, args: &[&str]) -> Output {
        Command::new(&self.kubectl)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The tables `--watch` printed, each as rows of (step, state).
fn tables(text: &str) -> Vec<Vec<(String, String)>> {
    text.split("\n\n")
        .map(|t| {
            t.lines()
                .skip(1)
                .filter(|l| !l.starts_with("logs of"))
                .map(|l| {
                    let mut cells = l.split_whitespace();
                    (
                        cells.next().unwrap().to_string(),
                        cells.next().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .collect()
}

#[test]
fn watch_follows_a_running_pod_to_its_end_and_the_plugin_agrees() {
    let Some(c) = cluster() else { return };
    let ns = format!("kll-status-watch-{}", std::process::id());
    ok(c.kubectl(&["create", "namespace", &ns]), "create namespace");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/status/manifests/steps.yaml");
    let bin = env!("CARGO_BIN_EXE_kueueleuleu");
    let converted = ok(
        Command::new(bin)
            .arg("convert")
            .arg("-f")
            .arg(&manifest)
            .output()
            .unwrap(),
        "convert",
    );
    let mut apply = Command::new(&c.kubectl)
        .arg("--kubeconfig")
        .arg(&c.kubeconfig)
        .args(["-n", &ns, "apply", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    apply
        .stdin
        .take()
        .unwrap()
        .write_all(converted.as_bytes())
        .unwrap();
    assert!(apply.wait().unwrap().success(), "kubectl apply");

    let status = |bin: &Path, extra: &[&str]| {
        Command::new(bin)
            .args(["status", "pod/steps", "-n", &ns, "--kubeconfig"])
            .arg(&c.kubeconfig)
            .args(extra)
            .env("KUBECTL", &c.kubectl)
            .output()
            .unwrap()
    };
    let watched = ok(
        status(Path::new(bin), &["--watch", "--interval", "0.2"]),
        "status --watch",
    );
    let seen = tables(&watched);
    let state = |t: &[(String, String)], step: &str| {
        t.iter()
            .find(|(s, _)| s == step)
            .map(|(_, st)| st.clone())
            .unwrap_or_default()
    };
    let last = seen.last().unwrap();
    for step in ["prepare", "work", "publish"] {
        assert_eq!(state(last, step), "Succeeded", "{watched}");
    }
    assert!(
        seen.iter().any(|t| state(t, "prepare") == "Succeeded"
            && state(t, "work") == "Running"
            && state(t, "publish") == "Waiting"),
        "the 6 s middle step was seen running while the last waited:\n{watched}"
    );
    // Once final, a step never goes back.
    for pair in seen.windows(2) {
        for (step, before) in &pair[0] {
            if before == "Succeeded" {
                assert_eq!(&state(&pair[1], step), "Succeeded", "{watched}");
            }
        }
    }

    let json: serde_json::Value = serde_json::from_str(&ok(
        status(Path::new(bin), &["-o", "json"]),
        "status -o json",
    ))
    .unwrap();
    let t = |i: usize, k: &str| {
        json[i][k]
            .as_str()
            .unwrap()
            .parse::<k8s_openapi::jiff::Timestamp>()
            .unwrap()
    };
    assert!(t(1, "startedAt") >= t(0, "finishedAt"), "{json}");
    assert!(
        t(1, "finishedAt")
            .duration_since(t(1, "startedAt"))
            .as_secs_f64()
            >= 6.0,
        "{json}"
    );

    // `kubectl sequential status` through kubectl's own plugin lookup.
    let dir = std::env::temp_dir().join(format!("kll-status-plugin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(bin, dir.join("kubectl-sequential")).unwrap();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let plugin = Command::new(&c.kubectl)
        .args([
            "sequential",
            "status",
            "pod/steps",
            "-n",
            &ns,
            "--kubeconfig",
        ])
        .arg(&c.kubeconfig)
        .env("PATH", path)
        .env("KUBECTL", &c.kubectl)
        .output()
        .unwrap();
    let direct = ok(status(Path::new(bin), &[]), "status");
    let via_plugin = ok(plugin, "kubectl sequential status");
    // Durations of finished steps do not change: the two tables are the same.
    assert_eq!(via_plugin, direct);
    let _ = c.kubectl(&["delete", "namespace", &ns, "--wait=false"]);
    let _ = std::fs::remove_dir_all(&dir);
}
