//! What an API server with the `PodLevelResources` feature gate off does with a Pod
//! converted with `resources: max`: it drops `spec.resources` without an error or a warning,
//! which is why the init container guards against it (see resources_max.rs). A second
//! kube-apiserver of the cluster's version is started for this, on a free port, with its
//! own etcd prefix (removed afterwards), and asked for a server-side dry-run.

use super::cluster;
use super::cluster_support::{kueueleuleu, run};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The second API server, stopped (by its own handle) and its etcd keys removed on drop.
struct GateOff {
    child: Child,
    etcd: String,
    prefix: String,
    certs: std::path::PathBuf,
}

impl Drop for GateOff {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.certs);
        let b64 = |s: &str| base64(s.as_bytes());
        let mut end = self.prefix.clone().into_bytes();
        *end.last_mut().unwrap() += 1;
        let body = format!(
            "{{\"key\":\"{}\",\"range_end\":\"{}\"}}",
            b64(&self.prefix),
            base64(&end)
        );
        let _ = Command::new("curl")
            .args([
                "-fsS",
                "-X",
                "POST",
                &format!("{}/v3/kv/deleterange", self.etcd),
            ])
            .args(["-d", &body])
            .stdout(Stdio::null())
            .status();
    }
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn a_server_with_pod_level_resources_off_drops_the_field_silently() {
    let Some(c) = cluster("resources-gate-off") else {
        return;
    };
    let bin = c.kubectl.parent().expect("kubectl's directory");
    let dir = c.kubeconfig.parent().expect("the cluster directory");
    let pki = dir.join("pki");
    let etcd_port = std::env::var("KUEUELEULEU_ETCD_PORT").unwrap_or_else(|_| "23790".into());
    let etcd = format!("http://127.0.0.1:{etcd_port}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let prefix = format!("/kueueleuleu-gate-off-{}", std::process::id());
    let certs = std::env::temp_dir().join(format!("kueueleuleu-gate-off-{}", std::process::id()));
    let p = |name: &str| pki.join(name).display().to_string();
    let gates = "PodLevelResources=false,PodLevelResourcesFixDefaulting=false,\
                 InPlacePodLevelResourcesVerticalScaling=false,\
                 PodLevelResourcesFixKubeletQOSClass=false";
    let child = Command::new(bin.join("kube-apiserver"))
        .args(["--etcd-servers", &etcd, "--etcd-prefix", &prefix])
        .args([
            "--bind-address",
            "127.0.0.1",
            "--advertise-address",
            "127.0.0.1",
        ])
        .args(["--secure-port", &port.to_string()])
        .args(["--tls-cert-file", &p("apiserver.crt")])
        .args(["--tls-private-key-file", &p("apiserver.key")])
        .args([
            "--token-auth-file",
            &p("tokens.csv"),
            "--authorization-mode",
            "RBAC",
        ])
        .args(["--service-account-issuer", "https://kubernetes.default.svc"])
        .args(["--service-account-key-file", &p("sa.pub")])
        .args(["--service-account-signing-key-file", &p("sa.key")])
        .args(["--service-cluster-ip-range", "10.96.1.0/24"])
        .args(["--endpoint-reconciler-type", "none", "--profiling=false"])
        .args(["--disable-admission-plugins", "ServiceAccount"])
        .args(["--feature-gates", gates])
        .args(["--cert-dir", &certs.display().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("kube-apiserver starts");
    let _server = GateOff {
        child,
        etcd,
        prefix,
        certs,
    };
    let server = format!("https://127.0.0.1:{port}");
    let kubectl = |args: &[&str], stdin: Option<&str>| {
        let mut all = vec![
            "--kubeconfig",
            c.kubeconfig.to_str().unwrap(),
            "--server",
            &server,
            "--request-timeout=20s",
        ];
        all.extend_from_slice(args);
        run(Path::new(&c.kubectl), &all, stdin, Duration::from_secs(30))
    };
    let started = Instant::now();
    while !kubectl(&["get", "--raw", "/readyz"], None).ok {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the second kube-apiserver did not become ready"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let pod = r#"{"apiVersion": "v1", "kind": "Pod",
      "metadata": {"name": "max", "annotations": {"kueueleuleu.io/sequential": "true"}},
      "spec": {"restartPolicy": "Never", "containers": [
        {"name": "a", "image": "busybox:1.37", "command": ["true"],
         "resources": {"requests": {"cpu": "100m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "32Mi"}}},
        {"name": "b", "image": "busybox:1.37", "command": ["true"],
         "resources": {"requests": {"cpu": "700m", "memory": "64Mi"}, "limits": {"cpu": "700m", "memory": "64Mi"}}}]}}"#;
    let converted = kueueleuleu(&["convert", "--resources", "max"], pod);
    assert!(converted.ok, "{}", converted.stderr);
    assert!(converted.stdout.contains("\"resources\""));
    let dry = |kubectl_out: super::cluster_support::Out| -> Value {
        assert!(kubectl_out.ok, "{}", kubectl_out.stderr);
        assert!(
            !kubectl_out.stderr.contains("Warning"),
            "{}",
            kubectl_out.stderr
        );
        serde_json::from_str(&kubectl_out.stdout).unwrap()
    };
    let args = [
        "-n",
        "default",
        "create",
        "--dry-run=server",
        "-o",
        "json",
        "-f",
        "-",
    ];
    let off = dry(kubectl(&args, Some(&converted.stdout)));
    assert!(off["spec"].get("resources").is_none(), "{}", off["spec"]);
    assert_eq!(off["status"]["qosClass"], "Burstable");
    // The cluster (gate on, the default) keeps it.
    let on = dry(c.kubectl(&args, Some(&converted.stdout)));
    assert_eq!(on["spec"]["resources"]["requests"]["cpu"], "700m");
    assert_eq!(on["status"]["qosClass"], "Guaranteed");
}

#[test]
fn base64_matches_the_standard_alphabet() {
    assert_eq!(
        base64(b"/kueueleuleu-gate-off-proof"),
        "L2t1ZXVlbGV1bGV1LWdhdGUtb2ZmLXByb29m"
    );
    assert_eq!(base64(b"ab"), "YWI=");
    assert_eq!(base64(b"a"), "YQ==");
}
