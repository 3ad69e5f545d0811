//! End-to-end tests of the container image, run as users run it: the README's
//! container-function lines build it offline (`.ci/build-image.sh`), load it, and run it
//! through `kpt fn eval --image`, a Kptfile `image:` pipeline (`kpt fn render`) and a
//! kustomize `container:` transformer, with podman as the container runtime.
//!
//! Outputs are compared whole with `tests/expected/e2e/`; the container forms must give
//! exactly what the exec forms give (the same expected files). Needs podman and buildah
//! (`.ci/install-podman.sh`), kpt and kustomize (`.ci/install-tools.sh`); a missing tool
//! fails under `CI` and skips elsewhere. `UPDATE_EXPECTED=1` rewrites expected files.

mod image_support;
mod tools_support;

use image_support::*;
use kueueleuleu::config::DEFAULT_IMAGE;
use std::path::Path;
use tools_support::*;

/// What each line of the README block starts with; each is run by a test below.
const README_COMMANDS: [&str; 5] = [
    ".ci/build-image.sh",
    "docker load",
    "kpt fn eval",
    "kpt fn render",
    "kustomize build",
];

/// The README block is exactly the commands the tests run, and every place users copy the
/// image reference from names the converter's default image.
#[test]
fn readme_block_and_examples_name_the_default_image() {
    let block = readme_block();
    let starts: Vec<&str> = block
        .iter()
        .map(|l| {
            README_COMMANDS
                .iter()
                .find(|p| l.starts_with(**p))
                .unwrap_or_else(|| panic!("README line {l:?} is not run by tests/e2e_image.rs"))
        })
        .copied()
        .collect();
    assert_eq!(starts, README_COMMANDS, "the README block, in order");

    let prefix = DEFAULT_IMAGE.split_once(':').unwrap().0;
    for file in [
        "README.md",
        "examples/kpt/README.md",
        "examples/kpt/container/Kptfile",
        "examples/kustomize/README.md",
        "examples/kustomize/container/sequential.yaml",
        "functions/kueueleuleu/README.md",
        "functions/kueueleuleu/metadata.yaml",
    ] {
        let text = std::fs::read_to_string(repo().join(file)).unwrap();
        let refs: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || "\"'`(),{}[]".contains(c))
            .filter(|w| w.starts_with(prefix) || w.starts_with("kueueleuleu:v"))
            .collect();
        assert!(
            refs.iter().all(|r| *r == DEFAULT_IMAGE),
            "{file} names the image as {refs:?}, not {DEFAULT_IMAGE}"
        );
    }
    assert!(
        std::fs::read_to_string(repo().join("examples/kpt/container/Kptfile"))
            .unwrap()
            .contains(&format!("image: {DEFAULT_IMAGE}\n")),
        "the Kptfile pipeline runs the default image"
    );
}

/// `docker build .` labels the image with the Dockerfile's default version; it must be the
/// crate's (the offline build passes the crate's version explicitly).
#[test]
fn dockerfile_default_version_is_the_crate_version() {
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    let want = format!("ARG VERSION={}\n", env!("CARGO_PKG_VERSION"));
    assert!(dockerfile.contains(&want), "the Dockerfile has {want:?}");
}

/// The image's configuration and its whole file tree.
#[test]
fn image_is_two_static_binaries_passwd_and_group_as_nonroot() {
    let Some(env) = image_env() else { return };
    let config = env
        .podman(&[
            "image",
            "inspect",
            "--format",
            "{{json .Config}}",
            DEFAULT_IMAGE,
        ])
        .success("podman image inspect");
    let config: serde_json::Value = serde_json::from_str(&config.stdout).unwrap();
    assert_eq!(config["User"], "65532:65532");
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!(["/usr/local/bin/kueueleuleu"])
    );
    let labels = &config["Labels"];
    assert_eq!(
        labels["org.opencontainers.image.version"],
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(labels["org.opencontainers.image.licenses"], "Apache-2.0");
    assert_eq!(
        labels["org.opencontainers.image.source"],
        "https://github.com/kueueleuleu/kueueleuleu"
    );

    let id = env
        .podman(&["create", "--network", "none", DEFAULT_IMAGE])
        .success("podman create");
    let id = id.stdout.trim();
    let tree = env.sh(
        &env.dir,
        &format!("podman export {id} | tar -tvf - | awk '{{print $1, $2, $6}}' | sort -k3"),
        None,
    );
    env.podman(&["rm", id]).success("podman rm");
    assert_expected("image-files.txt", &tree.success("podman export").stdout);

    // kpt and kustomize run `--user nobody`: the runtime looks the name up in /etc/passwd.
    let passwd = env.read_file("etc/passwd");
    for (name, id) in [("nobody", "65534"), ("nonroot", "65532")] {
        assert!(
            passwd
                .lines()
                .any(|l| l.starts_with(&format!("{name}:x:{id}:{id}:"))),
            "/etc/passwd names {name} ({id}):\n{passwd}"
        );
    }
    assert!(
        passwd.lines().all(|l| l.ends_with(":/sbin/nologin")),
        "no login shell"
    );
    for file in ["etc/passwd", "etc/group"] {
        let in_repo = std::fs::read_to_string(repo().join("image").join(file)).unwrap();
        assert_eq!(env.read_file(file), in_repo, "{file} is image/{file}");
    }
}

/// As `nobody` (kpt's and kustomize's default), as any uid, and as the init container runs
/// it (uid 65532, read-only root, no capabilities); and there is no shell.
#[test]
fn image_runs_as_nobody_as_any_uid_and_installs_the_runner() {
    let Some(env) = image_env() else { return };
    let want = format!("kueueleuleu {}\n", env!("CARGO_PKG_VERSION"));
    for user in ["nobody", "4242:4242", "65532"] {
        let out = env
            .podman(&[
                "run",
                "--rm",
                "--network",
                "none",
                "--user",
                user,
                DEFAULT_IMAGE,
                "--version",
            ])
            .success(&format!("--version as {user}"));
        assert_eq!(out.stdout, want, "as {user}");
    }

    // 127: the runtime found no /bin/sh to start (not some other failure).
    let shell = env.podman(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "/bin/sh",
        DEFAULT_IMAGE,
        "-c",
        "true",
    ]);
    assert!(
        shell.code == 127 && shell.stderr.contains("/bin/sh: no such file"),
        "the image has no shell: exit {}\n{}",
        shell.code,
        shell.stderr
    );

    // The init container: `kueueleuleu-step install` into an emptyDir-like mount.
    let tmp = TempDir::new("image-install");
    let dest = tmp.join("bin");
    std::fs::create_dir(&dest).unwrap();
    std::fs::set_permissions(&dest, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let mount = format!("{}:/kueueleuleu/bin", dest.display());
    env.podman(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--user",
        "65532",
        "--read-only",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--workdir",
        "/",
        "-v",
        &mount,
        "--entrypoint",
        "/usr/local/bin/kueueleuleu-step",
        DEFAULT_IMAGE,
        "install",
        "/kueueleuleu/bin/kueueleuleu-step",
    ])
    .success("kueueleuleu-step install, as the init container runs it");
    let installed = dest.join("kueueleuleu-step");
    let mode = std::fs::metadata(&installed).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o7777,
        0o555
    );
    let in_image = env.sh(
        &env.dir,
        &format!(
            "id=$(podman create --network none {DEFAULT_IMAGE}) && podman export $id | tar -xOf - usr/local/bin/kueueleuleu-step | cmp - {} ; rc=$?; podman rm $id >/dev/null; exit $rc",
            installed.display()
        ),
        None,
    );
    in_image.success("the installed runner is the image's kueueleuleu-step");
}

/// The README's `kpt fn eval --image` line converts `examples/kpt/config-path` exactly as
/// the Kptfile's exec pipeline does, with kpt's default lock-down.
#[test]
fn kpt_fn_eval_image_converts_like_the_exec_function() {
    let Some(env) = image_env() else { return };
    if tool("kpt").is_none() {
        return;
    }
    let ws = workspace("image-kpt-eval");
    let log = ws.join("args.log");
    let out = env
        .sh(ws.path(), &readme_line("kpt fn eval"), Some(&log))
        .success("kpt fn eval --image");
    assert_started_locked_down(&run_invocations(&log), "kpt fn eval");
    assert_expected("image-kpt-eval.stderr", &normalize(&out.stderr, ws.path()));
    assert_expected(
        "kpt-render-config-path.files",
        &normalize(&snapshot(&ws.join("examples/kpt/config-path")), ws.path()),
    );
}

/// The README's `kpt fn render` line on the `image:` pipeline of `examples/kpt/container`:
/// the first render converts the Job, the second changes nothing.
#[test]
fn kpt_fn_render_image_pipeline_twice() {
    let Some(env) = image_env() else { return };
    if tool("kpt").is_none() || tool("git").is_none() {
        return;
    }
    let ws = workspace("image-kpt-render");
    let pkg = ws.join("examples/kpt/container");
    let git_dir = ws.join("examples");
    git(&git_dir, &["init", "-q"]);
    git(&git_dir, &["add", "-A"]);
    git(&git_dir, &["commit", "-q", "-m", "as written"]);
    let line = readme_line("kpt fn render");
    let log = ws.join("args.log");

    let first = env
        .sh(ws.path(), &line, Some(&log))
        .success("first kpt fn render");
    assert_started_locked_down(&run_invocations(&log), "kpt fn render");
    assert_expected(
        "image-kpt-render.stderr",
        &normalize(&first.stderr, ws.path()),
    );
    let changed = git(&git_dir, &["diff", "--name-only"]).stdout;
    assert_eq!(changed, "kpt/container/job.yaml\n");
    let rendered = snapshot(&pkg);
    assert_expected("image-kpt-render.files", &normalize(&rendered, ws.path()));
    let job = std::fs::read_to_string(pkg.join("job.yaml")).unwrap();
    assert!(
        is_converted(&documents(&job)[0]),
        "the Job was converted:\n{job}"
    );
    assert_valid_kubernetes("kpt fn render (image)", &job);

    git(&git_dir, &["commit", "-q", "-a", "-m", "first render"]);
    env.sh(ws.path(), &line, None)
        .success("second kpt fn render");
    assert_eq!(
        git(&git_dir, &["status", "--porcelain"]).stdout,
        "",
        "second render changed files"
    );
    assert_eq!(snapshot(&pkg), rendered);
}

/// The README's kustomize line: the `container:` transformer gives exactly what the exec
/// transformer gives for the same base.
#[test]
fn kustomize_container_transformer_matches_the_exec_form() {
    let Some(env) = image_env() else { return };
    if tool("kustomize").is_none() {
        return;
    }
    let ws = workspace("image-kustomize");
    let log = ws.join("args.log");
    let out = env
        .sh(ws.path(), &readme_line("kustomize build"), Some(&log))
        .success("kustomize build (container transformer)");
    assert_started_locked_down(&run_invocations(&log), "kustomize build");
    assert!(log_names_docker(&log), "kustomize called docker (the shim)");
    assert_expected("kustomize-exec.yaml", &normalize(&out.stdout, ws.path()));
}

fn log_names_docker(log: &Path) -> bool {
    run_invocations(log)
        .iter()
        .all(|l| l.starts_with("docker run"))
}

/// A typo in the function config, through the container: exit 1, nothing changed, and our
/// message in what kpt prints.
#[test]
fn kpt_reports_a_bad_config_from_the_container() {
    let Some(env) = image_env() else { return };
    if tool("kpt").is_none() {
        return;
    }
    let ws = workspace("image-kpt-bad");
    let before = snapshot(&ws.join("examples"));
    let eval = format!(
        "kpt fn eval examples/kpt/config-path --image {DEFAULT_IMAGE} --image-pull-policy never -- selctAll=true"
    );
    let out = env.sh(ws.path(), &eval, None);
    assert_eq!(out.code, 1, "kpt fn eval with a bad key:\n{}", out.stderr);
    assert_expected(
        "image-kpt-eval-bad-config.stderr",
        &normalize(&out.stderr, ws.path()),
    );

    let config = ws.join("examples/kpt/container/sequential.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("selectAll:", "selctAll:")).unwrap();
    let out = env.sh(ws.path(), &readme_line("kpt fn render"), None);
    assert_eq!(out.code, 1, "kpt fn render with a bad key:\n{}", out.stderr);
    assert_expected(
        "image-kpt-render-bad-config.stderr",
        &normalize(&out.stderr, ws.path()),
    );
    std::fs::write(&config, text).unwrap();
    assert_eq!(
        snapshot(&ws.join("examples")),
        before,
        "nothing was changed"
    );
}

/// The same typo in a kustomize `container:` transformer: exit 1 and our message on
/// kustomize's stderr (kustomize ignores `results`).
#[test]
fn kustomize_reports_a_bad_config_from_the_container() {
    let Some(env) = image_env() else { return };
    if tool("kustomize").is_none() {
        return;
    }
    let ws = workspace("image-kustomize-bad");
    let config = ws.join("examples/kustomize/container/sequential.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("selectAll:", "selctAll:")).unwrap();
    let out = env.sh(ws.path(), &readme_line("kustomize build"), None);
    assert_eq!(
        out.code, 1,
        "kustomize build with a bad key:\n{}",
        out.stderr
    );
    assert_eq!(out.stdout, "", "no partial output");
    assert_expected(
        "image-kustomize-bad-config.stderr",
        &normalize(&out.stderr, ws.path()),
    );
}
