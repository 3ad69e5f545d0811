//! `kueueleuleu resolve` against a real registry started here (distribution), with images
//! pushed by crane: what it writes, what it refuses, and that `convert` then works offline
//! from what it wrote.

mod registry_support;

use registry_support::{
    Registry, TempDir, kueueleuleu, one_pod, read, resolve_args, stderr, write,
};

const NGINX_EP: &[&str] = &["/docker-entrypoint.sh"];
const NGINX_CMD: &[&str] = &["nginx", "-g", "daemon off;"];

/// A manifest of stock-image shapes, every image in the local registry.
fn manifest(host: &str) -> String {
    format!(
        r#"apiVersion: batch/v1
kind: Job
metadata:
  name: stock
  annotations:
    kueueleuleu.io/sequential: "true"
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: web
        image: {host}/library/nginx:1.27
      - name: cache
        image: {host}/library/redis:7
        args: ["--port", "6380"]
      - name: script
        image: {host}/library/python:3.12
      - name: db
        image: {host}/library/postgres:17
      - name: shell
        image: {host}/library/python:3.12
        command: ["sh", "-c", "true"]
"#
    )
}

fn push_stock(r: &Registry) {
    r.push(
        "library/nginx:1.27",
        "linux/amd64",
        Some(NGINX_EP),
        Some(NGINX_CMD),
    );
    r.push(
        "library/redis:7",
        "linux/amd64",
        Some(&["docker-entrypoint.sh"]),
        Some(&["redis-server"]),
    );
    r.push(
        "library/python:3.12",
        "linux/amd64",
        None,
        Some(&["python3"]),
    );
    r.push(
        "library/postgres:17",
        "linux/amd64",
        Some(&["docker-entrypoint.sh"]),
        Some(&["postgres"]),
    );
}

/// The `commands` lines of a config (comments carry a date and digests).
fn entries(config: &str) -> Vec<String> {
    config
        .lines()
        .filter(|l| l.starts_with("    \""))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn stock_images_resolve_then_convert_offline() {
    let Some(r) = Registry::start("stock", false) else {
        return;
    };
    push_stock(&r);
    let work = TempDir::new("stock-work");
    let w = &work.0;
    write(w, "job.yaml", &manifest(&r.host));
    let docker = r.docker_config();
    let resolve = resolve_args("job.yaml", &r.host, &[]);
    let out = kueueleuleu(w, &docker, &resolve);
    assert!(out.status.success(), "resolve failed: {}", stderr(&out));
    let config = read(w, "fn.yaml");
    let h = &r.host;
    assert_eq!(
        entries(&config),
        [
            format!(
                r#""{h}/library/nginx:1.27": {{entrypoint: ["/docker-entrypoint.sh"], cmd: ["nginx", "-g", "daemon off;"]}}"#
            ),
            format!(
                r#""{h}/library/postgres:17": {{entrypoint: ["docker-entrypoint.sh"], cmd: ["postgres"]}}"#
            ),
            format!(r#""{h}/library/python:3.12": {{entrypoint: [], cmd: ["python3"]}}"#),
            format!(
                r#""{h}/library/redis:7": {{entrypoint: ["docker-entrypoint.sh"], cmd: ["redis-server"]}}"#
            ),
        ]
    );
    let digest = r.digest(&format!("{h}/library/nginx:1.27"));
    assert!(
        config.contains(&format!("# {h}/library/nginx:1.27@{digest}, read 20")),
        "the comment names the digest read:\n{config}"
    );
    assert!(
        config.starts_with("apiVersion: fn.kueueleuleu.io/v1alpha1\nkind: Sequential\n"),
        "{config}"
    );

    // A second resolve reads nothing and changes nothing; --pin on it pins nothing new.
    let out = kueueleuleu(w, &docker, &resolve);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("nothing to read"), "{}", stderr(&out));
    assert_eq!(read(w, "fn.yaml"), config);
    // --quiet hides that summary (info), and a pipe gets no progress line.
    let out = kueueleuleu(w, &docker, &[&resolve[..], &["--quiet"]].concat());
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        stderr(&out)
    );

    // Convert runs offline: the registry is gone.
    drop(r);
    let out = kueueleuleu(
        w,
        &docker,
        &["convert", "-f", "job.yaml", "--config", "fn.yaml"],
    );
    assert!(out.status.success(), "convert failed: {}", stderr(&out));
    let converted = String::from_utf8(out.stdout).unwrap();
    let args_of = |name: &str| -> Vec<String> {
        let v: serde_json::Value = serde_yaml::from_str(&converted).unwrap();
        let c = v["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone();
        let args: Vec<String> = serde_json::from_value(c["args"].clone()).unwrap();
        let dash = args
            .iter()
            .position(|a| a == "--")
            .expect("runner args end with --");
        args[dash + 1..].to_vec()
    };
    assert_eq!(
        args_of("web"),
        ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]
    );
    assert_eq!(args_of("cache"), ["docker-entrypoint.sh", "--port", "6380"]);
    assert_eq!(args_of("script"), ["python3"]);
    assert_eq!(args_of("db"), ["docker-entrypoint.sh", "postgres"]);
    assert_eq!(args_of("shell"), ["sh", "-c", "true"]);
}

#[test]
fn pins_are_checked_and_a_moved_tag_is_an_error() {
    let Some(r) = Registry::start("pin", false) else {
        return;
    };
    r.push("app:1", "linux/amd64", Some(&["/app"]), Some(&["serve"]));
    let work = TempDir::new("pin-work");
    let w = &work.0;
    let image = format!("{}/app:1", r.host);
    one_pod(w, &image, false);
    // An existing config: its other keys and comments stay.
    let head = "# mine\napiVersion: fn.kueueleuleu.io/v1alpha1\nkind: Sequential\nmetadata:\n  name: s\nspec:\n  selectAll: true  # every Pod\n";
    write(w, "fn.yaml", head);
    let docker = r.docker_config();
    let resolve = resolve_args("pod.yaml", &r.host, &["--pin"]);
    let out = kueueleuleu(w, &docker, &resolve);
    assert!(out.status.success(), "{}", stderr(&out));
    let config = read(w, "fn.yaml");
    let digest = r.digest(&image);
    assert!(
        config.starts_with(&format!(
            "{head}  commands:\n    # pinned: {image}@{digest}, read 20"
        )),
        "{config}"
    );
    let out = kueueleuleu(w, &docker, &resolve);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        read(w, "fn.yaml"),
        config,
        "an unchanged pin changes nothing"
    );

    r.push("app:1", "linux/amd64", Some(&["/app2"]), None);
    let out = kueueleuleu(w, &docker, &resolve);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{image}: pinned to {digest}")) && err.contains("--refresh"),
        "{err}"
    );
    assert_eq!(read(w, "fn.yaml"), config);
    let refresh = [&resolve[..], &["--refresh"]].concat();
    let out = kueueleuleu(w, &docker, &refresh);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(read(w, "fn.yaml").contains(&format!(
        "\"{image}\": {{entrypoint: [\"/app2\"], cmd: []}}"
    )));
}

#[test]
fn every_failing_image_is_named_and_nothing_is_written() {
    let Some(r) = Registry::start("errors", false) else {
        return;
    };
    r.push("bare:1", "linux/amd64", None, None);
    r.push("good:1", "linux/amd64", Some(&["/good"]), None);
    let work = TempDir::new("errors-work");
    let w = &work.0;
    let h = &r.host;
    write(
        w,
        "pod.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - {{name: a, image: {h}/bare:1}}\n  - {{name: b, image: {h}/missing:1}}\n  - {{name: c, image: {h}/good:1}}\n"
        ),
    );
    let out = kueueleuleu(
        w,
        &r.docker_config(),
        &resolve_args("pod.yaml", h, &["--all"]),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{h}/bare:1: the image sets neither ENTRYPOINT nor CMD"
        )) && err.contains("add `command:`"),
        "{err}"
    );
    assert!(err.contains(&format!("{h}/missing:1: not found")), "{err}");
    assert!(err.contains("pod.yaml:1: Pod/p container \"b\""), "{err}");
    assert!(
        err.contains("2 of 3 image(s) failed; fn.yaml was not written"),
        "{err}"
    );
    assert!(!w.join("fn.yaml").exists());
    // Without --insecure-registry the registry is reached over HTTPS, which it does not speak.
    let out = kueueleuleu(
        w,
        &r.docker_config(),
        &["resolve", "--all", "-f", "pod.yaml", "--config", "fn.yaml"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("--insecure-registry {h}")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_multi_arch_index_whose_platforms_differ_warns_and_uses_the_chosen_one() {
    let Some(r) = Registry::start("index", false) else {
        return;
    };
    let amd = r.push("multi:amd64", "linux/amd64", Some(&["/amd"]), Some(&["x"]));
    let arm = r.push("multi:arm64", "linux/arm64", Some(&["/arm"]), Some(&["y"]));
    let index = r.push_index("multi:1", &[amd, arm]);
    let work = TempDir::new("index-work");
    let w = &work.0;
    one_pod(w, &index, true);
    let base = resolve_args("pod.yaml", &r.host, &[]);
    let out = kueueleuleu(w, &r.docker_config(), &base);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning")
            && err.contains("disagree")
            && err.contains("linux/arm64 has entrypoint [\"/arm\"]"),
        "{err}"
    );
    assert!(read(w, "fn.yaml").contains(&format!(
        "\"{index}\": {{entrypoint: [\"/amd\"], cmd: [\"x\"]}}"
    )));
    let arm_run = [&base[..], &["--platform", "linux/arm64", "--refresh"]].concat();
    let out = kueueleuleu(w, &r.docker_config(), &arm_run);
    assert!(out.status.success(), "{}", stderr(&out));
    let config = read(w, "fn.yaml");
    assert!(
        config.contains(&format!(
            "\"{index}\": {{entrypoint: [\"/arm\"], cmd: [\"y\"]}}"
        )),
        "{config}"
    );
    assert!(config.contains("(linux/arm64: sha256:"), "{config}");
    let out = kueueleuleu(
        w,
        &r.docker_config(),
        &[&base[..], &["--platform", "linux/s390x", "--refresh"]].concat(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no image for linux/s390x; it has linux/amd64, linux/arm64"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn credentials_come_from_the_docker_config() {
    let Some(r) = Registry::start("auth", true) else {
        return;
    };
    r.push("private:1", "linux/amd64", Some(&["/secret"]), None);
    let work = TempDir::new("auth-work");
    let w = &work.0;
    let image = format!("{}/private:1", r.host);
    one_pod(w, &image, false);
    let run = resolve_args("pod.yaml", &r.host, &["--all"]);
    let nobody = TempDir::new("auth-none");
    let out = kueueleuleu(w, &nobody.0, &run);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{image}: unauthorized at {}", r.host))
            && err.contains("docker login"),
        "{err}"
    );
    // crane's `auth login` wrote an `auths` entry (basic auth) into this Docker config.
    let out = kueueleuleu(w, &r.docker_config(), &run);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(read(w, "fn.yaml").contains(&format!(
        "\"{image}\": {{entrypoint: [\"/secret\"], cmd: []}}"
    )));
}

#[test]
fn credential_helpers_are_run() {
    let Some(r) = Registry::start("helper", true) else {
        return;
    };
    r.push("private:2", "linux/amd64", None, Some(&["/run"]));
    let work = TempDir::new("helper-work");
    let w = &work.0;
    let image = format!("{}/private:2", r.host);
    one_pod(w, &image, false);
    // A helper that knows this registry only, as `docker-credential-*` helpers answer.
    let bin = TempDir::new("helper-bin");
    let helper = bin.0.join("docker-credential-kltest");
    let (user, password) = (registry_support::USER, registry_support::PASSWORD);
    write(
        &bin.0,
        "docker-credential-kltest",
        &format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread -r server\nif [ \"$server\" = '{}' ]; then\n  printf '{{\"ServerURL\":\"%s\",\"Username\":\"{user}\",\"Secret\":\"{password}\"}}' \"$server\"\nelse\n  echo 'credentials not found in native keychain'; exit 1\nfi\n",
            r.host
        ),
    );
    let mode = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755);
    std::fs::set_permissions(&helper, mode).unwrap();
    let docker = TempDir::new("helper-docker");
    write(
        &docker.0,
        "config.json",
        &format!(r#"{{"credHelpers": {{"{}": "kltest"}}}}"#, r.host),
    );
    let path = format!(
        "{}:{}",
        bin.0.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kueueleuleu"))
        .args(resolve_args("pod.yaml", &r.host, &["--all"]))
        .current_dir(w)
        .env("DOCKER_CONFIG", &docker.0)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        read(w, "fn.yaml").contains(&format!("\"{image}\": {{entrypoint: [], cmd: [\"/run\"]}}"))
    );
}
