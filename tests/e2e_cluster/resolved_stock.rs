//! A stock-shaped image (ENTRYPOINT + CMD, nothing in the manifest) end to end: pushed to a
//! registry started here on 127.0.0.1, its entrypoint read by `kueueleuleu resolve`, a Pod
//! without `command` converted offline from what resolve wrote, and run on the real cluster,
//! whose containerd pulls the image from that registry over plain HTTP (containerd's CRI
//! plugin speaks HTTP to a registry on a loopback address without any configuration).
//!
//! The image is busybox (the host's static one) with an nginx-style `/docker-entrypoint.sh`
//! that prints what it was given and then runs it. One step relies on the image's CMD, the
//! next passes `args` (which replace the CMD, Kubernetes' rule): the logs show each.
//! Needs the cluster and the registry tools (`.ci/install-registry-tools.sh`); under `CI`
//! a missing one fails the test.

#[path = "../registry_support/mod.rs"]
mod registry_support;

use super::BUDGET;
use super::cluster;
use super::cluster_support::pods::{assert_all_succeeded_in_order, phase, steps};
use registry_support::{Registry, TempDir, kueueleuleu, stderr};
use std::path::{Path, PathBuf};
use std::process::Command;

const ENTRYPOINT_SCRIPT: &str = "#!/bin/sh\necho \"entrypoint: $*\"\nexec \"$@\"\n";

/// The static busybox the cluster's own busybox image is made of (up.sh requires it).
fn busybox() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("busybox"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let why = "busybox is not installed (run .ci/install-cluster.sh)";
        assert!(
            std::env::var_os("CI").is_none(),
            "{why}; CI must run every test"
        );
        eprintln!("SKIPPED: {why}");
    }
    found
}

/// A layer tarball: busybox as /bin/busybox and /bin/sh, and /docker-entrypoint.sh.
fn layer(dir: &Path, busybox: &Path) -> PathBuf {
    let root = dir.join("rootfs");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy(busybox, root.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", root.join("bin/sh")).unwrap();
    let script = root.join("docker-entrypoint.sh");
    std::fs::write(&script, ENTRYPOINT_SCRIPT).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let tar = dir.join("layer.tar");
    let out = Command::new("tar")
        .args(["--owner=0", "--group=0", "--numeric-owner", "-cf"])
        .arg(&tar)
        .arg("-C")
        .arg(&root)
        .args(["bin", "docker-entrypoint.sh"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tar: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    tar
}

fn platform() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "linux/arm64",
        _ => "linux/amd64",
    }
}

#[test]
fn resolved_stock_image_runs_its_entrypoint_and_cmd_on_the_cluster() {
    let Some(c) = cluster("resolved-stock") else {
        return;
    };
    let Some(busybox) = busybox() else { return };
    let Some(r) = Registry::start("resolved-stock", false) else {
        return;
    };
    let work = TempDir::new("resolved-stock-work");
    let w = &work.0;
    let image = format!("{}/library/stock:1", r.host);
    let base = format!("{image}-base");
    let tar = layer(w, &busybox);
    r.crane(&[
        "append",
        "--insecure",
        "-f",
        tar.to_str().unwrap(),
        "-t",
        &base,
    ]);
    r.crane(&[
        "mutate",
        "--insecure",
        &base,
        "-t",
        &image,
        &format!("--set-platform={}", platform()),
        "--entrypoint=/docker-entrypoint.sh",
        "--cmd=echo,cmd ran",
    ]);

    let pod = format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: stock
  annotations:
    kueueleuleu.io/sequential: "true"
spec:
  restartPolicy: Never
  containers:
  - name: defaults
    image: "{image}"
    imagePullPolicy: IfNotPresent
  - name: with-args
    image: "{image}"
    imagePullPolicy: IfNotPresent
    args: ["echo", "args ran"]
"#
    );
    std::fs::write(w.join("pod.yaml"), &pod).unwrap();
    let docker = r.docker_config();
    let resolve = [
        "resolve",
        "-f",
        "pod.yaml",
        "--config",
        "fn.yaml",
        "--insecure-registry",
        &r.host,
    ];
    let out = kueueleuleu(w, &docker, &resolve);
    assert!(out.status.success(), "resolve failed: {}", stderr(&out));
    let config = std::fs::read_to_string(w.join("fn.yaml")).unwrap();
    assert!(
        config.contains(&format!(
            r#""{image}": {{entrypoint: ["/docker-entrypoint.sh"], cmd: ["echo", "cmd ran"]}}"#
        )),
        "resolve wrote:\n{config}"
    );
    let out = kueueleuleu(
        w,
        &docker,
        &["convert", "-f", "pod.yaml", "--config", "fn.yaml"],
    );
    assert!(out.status.success(), "convert failed: {}", stderr(&out));
    let converted = String::from_utf8(out.stdout).unwrap();

    let ns = c.namespace("resolved-stock", &[], BUDGET);
    ns.apply(&converted);
    let done = ns.wait_pod_done("stock");
    assert_eq!(phase(&done), "Succeeded", "{}", ns.diagnostics());
    let s = steps(&done);
    assert_all_succeeded_in_order(&s);
    // No args: ENTRYPOINT then CMD. Args: ENTRYPOINT then the args, the CMD ignored.
    assert_eq!(
        ns.logs("stock", "defaults"),
        "entrypoint: echo cmd ran\ncmd ran\n"
    );
    assert_eq!(
        ns.logs("stock", "with-args"),
        "entrypoint: echo args ran\nargs ran\n"
    );
    drop(r);
}
