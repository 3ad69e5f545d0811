//! Each integration installed with its ecosystem's own command, then used: the Helm 4
//! plugin (from its directory and from the release tarball), Helm 3's `--post-renderer
//! PATH`, the Argo CD plugin's parameters, shell completions and man pages.
//!
//! Missing tools skip (or fail under `CI`) through `tools_support::tool`.

mod tools_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use tools_support::*;

// ---------------------------------------------------------------------------------------
// Helm

/// Helm with its home directories inside the temporary directory and the binary under
/// test on `PATH` (where the plugin's `command: kueueleuleu` finds it).
fn helm(helm: &Path, tmp: &TempDir) -> Command {
    let mut cmd = Command::new(helm);
    cmd.env("HELM_CACHE_HOME", tmp.join("helm/cache"))
        .env("HELM_CONFIG_HOME", tmp.join("helm/config"))
        .env("HELM_DATA_HOME", tmp.join("helm/data"))
        .env_remove("HELM_PLUGINS")
        .env("PATH", path_with(&tmp.bin_dir()));
    cmd
}

fn helm4(tmp: &TempDir) -> Option<PathBuf> {
    let helm4 = tool("helm4")?;
    let version = run(helm(&helm4, tmp).args(["version", "--short"]), None).success("version");
    assert!(version.stdout.starts_with("v4."), "{}", version.stdout);
    Some(helm4)
}

/// The demo chart with one container's `command` removed: conversion must fail on it.
fn broken_chart(tmp: &TempDir) -> PathBuf {
    let chart = tmp.join("broken-chart");
    copy_tree(&repo().join("examples/helm/chart"), &chart, None);
    let job = chart.join("templates/job.yaml");
    let text = std::fs::read_to_string(&job).unwrap();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("command: [\"echo\""))
        .expect("the demo Job's echo command");
    std::fs::write(&job, text.replace(&format!("{line}\n"), "")).unwrap();
    chart
}

fn template(helm_bin: &Path, tmp: &TempDir, chart: &Path, post_renderer: &str) -> Output {
    run(
        helm(helm_bin, tmp)
            .args(["template", "demo"])
            .arg(chart)
            .args(["--post-renderer", post_renderer]),
        None,
    )
}

fn assert_demo_converted(out: &Output) {
    let docs = documents(&out.stdout);
    assert_eq!(docs.len(), 3, "{}", out.stdout);
    assert!(is_converted(find_doc(&docs, "Job", "demo-work")));
}

/// The release tarball, built by the release script, installs with `helm plugin install
/// FILE --verify=false` (what the README tells users of an unsigned release), and a plain
/// install is refused for want of a provenance file, as documented.
#[test]
fn helm4_plugin_installs_from_the_release_tarball() {
    let tmp = TempDir::new("helm4-tgz");
    let Some(helm4) = helm4(&tmp) else { return };
    let out = run(
        Command::new(repo().join(".ci/helm-plugin-package.sh"))
            .args(["--out"])
            .arg(tmp.join("dist"))
            .env("HELM4", &helm4),
        None,
    )
    .success("helm-plugin-package.sh");
    let tarball = PathBuf::from(out.stdout.trim());
    assert_eq!(
        tarball.file_name().unwrap().to_str().unwrap(),
        format!("kueueleuleu-{}.tgz", env!("CARGO_PKG_VERSION"))
    );

    let refused = run(
        helm(&helm4, &tmp).args(["plugin", "install"]).arg(&tarball),
        None,
    );
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("no provenance file (.prov) found"),
        "{}",
        refused.stderr
    );

    run(
        helm(&helm4, &tmp)
            .args(["plugin", "install"])
            .arg(&tarball)
            .arg("--verify=false"),
        None,
    )
    .success("helm plugin install TARBALL --verify=false");
    let list = run(helm(&helm4, &tmp).args(["plugin", "list"]), None).success("plugin list");
    assert!(
        list.stdout
            .lines()
            .any(|l| l.starts_with("kueueleuleu") && l.contains("postrenderer/v1")),
        "{}",
        list.stdout
    );
    let out = template(
        &helm4,
        &tmp,
        &repo().join("examples/helm/chart"),
        "kueueleuleu",
    )
    .success("helm template --post-renderer kueueleuleu");
    assert_demo_converted(&out);
}

/// Helm 4 drops a plugin's stderr and exit status. The plugin's `--helm-plugin` mode makes
/// the reason reach the user anyway, inside Helm's own error message.
#[test]
fn helm4_plugin_failure_shows_the_reason() {
    let tmp = TempDir::new("helm4-fail");
    let Some(helm4) = helm4(&tmp) else { return };
    let plugin = tmp.join("plugin-src/kueueleuleu");
    copy_tree(
        &repo().join("examples/helm/plugin/kueueleuleu"),
        &plugin,
        None,
    );
    let installed = run(
        helm(&helm4, &tmp).args(["plugin", "install"]).arg(&plugin),
        None,
    )
    .success("helm plugin install DIR");
    assert!(installed.stdout.contains("Installed plugin: kueueleuleu"));

    let out = template(&helm4, &tmp, &broken_chart(&tmp), "kueueleuleu");
    assert_ne!(out.code, 0, "helm must fail:\n{}", out.stdout);
    assert!(
        out.stderr.contains("container \"greet\" has no command"),
        "the reason reaches the user:\n{}",
        out.stderr
    );
    assert_expected(
        "install-helm4-failure.stderr",
        &normalize(&out.stderr, tmp.path()),
    );
}

/// Helm 3 keeps taking a path, and shows the post-renderer's stderr itself.
#[test]
fn helm3_post_renderer_path_works_and_shows_failures() {
    let tmp = TempDir::new("helm3-path");
    let Some(helm3) = tool("helm") else { return };
    let bin = tmp.bin_dir().join("kueueleuleu");
    let path = bin.to_str().unwrap();
    let out = template(&helm3, &tmp, &repo().join("examples/helm/chart"), path)
        .success("helm 3 --post-renderer PATH");
    assert_demo_converted(&out);

    let out = template(&helm3, &tmp, &broken_chart(&tmp), path);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("container \"greet\" has no command"),
        "{}",
        out.stderr
    );
    assert_expected(
        "install-helm3-failure.stderr",
        &normalize(&out.stderr, tmp.path()),
    );
}

// ---------------------------------------------------------------------------------------
// Argo CD

/// `generate.command` of examples/argocd/plugin.yaml, run as the CMP server runs it: exec'd
/// (no shell), in the source directory, with only the server's variables plus `extra`.
fn generate(app_dir: &Path, extra: &[(&str, &str)]) -> Output {
    let text = std::fs::read_to_string(repo().join("examples/argocd/plugin.yaml")).unwrap();
    let plugin: serde_json::Value = serde_yaml::from_str(&text).unwrap();
    let argv: Vec<&str> = plugin["spec"]["generate"]["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(argv[0], "/usr/local/bin/kueueleuleu");
    let mut cmd = Command::new(kueueleuleu_bin());
    cmd.args(&argv[1..])
        .current_dir(app_dir)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("ARGOCD_APP_NAME", "sequential-jobs")
        .env("ARGOCD_APP_SOURCE_PATH", "apps/batch")
        .env("KUBE_VERSION", "1.33.0")
        .env("ARGOCD_ENV_TEAM", "platform");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    run(&mut cmd, None)
}

/// An unannotated Job whose second container has no command: it converts only with
/// `selectAll` and a `commands` entry for its image.
const BATCH_JOB: &str = "\
apiVersion: batch/v1
kind: Job
metadata:
  name: nightly
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: fetch
          image: busybox:1.37
          command: [wget, -q, http://example.com/]
        - name: serve
          image: nginx:1.27
";

fn batch_app(tmp: &TempDir) -> PathBuf {
    let app = tmp.join("repo/apps/batch");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("job.yaml"), BATCH_JOB).unwrap();
    app
}

/// Plugin parameters as Argo CD passes them (the JSON and the PARAM_ variables it derives)
/// and the same settings from plugin env give the same converted Job.
#[test]
fn argocd_parameters_and_env_configure_the_conversion() {
    let tmp = TempDir::new("argocd-params");
    let app = batch_app(&tmp);
    let params = [
        (
            "ARGOCD_APP_PARAMETERS",
            r#"[{"name":"selectAll","string":"true"},{"name":"image","string":"registry.example/kueueleuleu:v9"},{"name":"commands","map":{"nginx:1.27":"[\"/docker-entrypoint.sh\",\"nginx\"]"}}]"#,
        ),
        ("PARAM_SELECTALL", "true"),
        ("PARAM_IMAGE", "registry.example/kueueleuleu:v9"),
        (
            "PARAM_COMMANDS_NGINX_1_27",
            r#"["/docker-entrypoint.sh","nginx"]"#,
        ),
    ];
    let out = generate(&app, &params).success("generate with plugin parameters");
    let docs = documents(&out.stdout);
    let job = find_doc(&docs, "Job", "nightly");
    assert!(is_converted(job));
    assert_eq!(
        pod_spec(job)["initContainers"][0]["image"],
        "registry.example/kueueleuleu:v9"
    );
    assert_valid_kubernetes("argocd generate with parameters", &out.stdout);
    assert_expected("install-argocd-params.yaml", &out.stdout);

    let env = [
        ("ARGOCD_ENV_selectAll", "true"),
        ("ARGOCD_ENV_IMAGE", "registry.example/kueueleuleu:v9"),
        (
            "ARGOCD_ENV_COMMANDS",
            r#"{"nginx:1.27": ["/docker-entrypoint.sh", "nginx"]}"#,
        ),
    ];
    let same = generate(&app, &env).success("generate with plugin env");
    assert_eq!(same.stdout, out.stdout, "plugin env and parameters agree");

    // Without any setting the Job is not selected: the annotation rule holds.
    let plain = generate(&app, &[]).success("generate without parameters");
    assert_eq!(plain.stdout, BATCH_JOB);
}

/// Every bad setting fails generation: non-zero, nothing on stdout, the variable named.
#[test]
fn argocd_bad_parameters_fail_generation() {
    let tmp = TempDir::new("argocd-bad");
    let app = batch_app(&tmp);
    let cases: [(&str, &[(&str, &str)]); 6] = [
        ("selectAll not a boolean", &[("PARAM_SELECTALL", "yes")]),
        (
            "unknown parameter",
            &[(
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"selectall2","string":"true"}]"#,
            )],
        ),
        ("parameters not JSON", &[("ARGOCD_APP_PARAMETERS", "[{")]),
        (
            "command not a JSON list",
            &[(
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"commands","map":{"nginx:1.27":"nginx -g daemon"}}]"#,
            )],
        ),
        ("misspelt env", &[("ARGOCD_ENV_SELECTAL", "true")]),
        (
            "parameter and env disagree",
            &[
                ("PARAM_IMAGE", "a.example/k:1"),
                ("ARGOCD_ENV_IMAGE", "b.example/k:1"),
            ],
        ),
    ];
    let mut report = String::new();
    for (name, env) in cases {
        let out = generate(&app, env);
        assert_eq!(out.code, 1, "{name}: exit 1\n{}", out.stderr);
        assert_eq!(out.stdout, "", "{name}: nothing on stdout");
        let var = env[0].0;
        assert!(
            out.stderr.contains(var) || name == "parameter and env disagree",
            "{name}: {}",
            out.stderr
        );
        report.push_str(&format!("== {name}\n{}", out.stderr));
    }
    assert_expected("install-argocd-bad-params.stderr", &report);
}

// ---------------------------------------------------------------------------------------
// Completions and man pages

/// Every shell's script is produced and names the subcommands; a shell installed here
/// parses its script (`-n`). Which shells ran is printed.
#[test]
fn completions_for_every_shell() {
    for (shell, checker) in [
        ("bash", Some("bash")),
        ("zsh", Some("zsh")),
        ("fish", Some("fish")),
        ("powershell", None),
    ] {
        let out = run(
            Command::new(kueueleuleu_bin()).args(["completions", shell]),
            None,
        )
        .success("kueueleuleu completions");
        for word in ["convert", "revert", "completions", "filename"] {
            assert!(out.stdout.contains(word), "{shell}: {word} missing");
        }
        let Some(checker) = checker else { continue };
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join(checker))
            .find(|p| p.is_file());
        let Some(found) = found else {
            eprintln!("{shell}: `{checker}` not installed here, script not parsed");
            continue;
        };
        let tmp = TempDir::new("completions");
        let file = tmp.join(format!("kueueleuleu.{shell}"));
        std::fs::write(&file, &out.stdout).unwrap();
        run(Command::new(&found).arg("-n").arg(&file), None).success("shell -n");
        eprintln!("{shell}: `{checker} -n` parsed the script");
    }
}

#[test]
fn man_pages_render() {
    let out = run(Command::new(kueueleuleu_bin()).arg("man"), None).success("kueueleuleu man");
    assert!(out.stdout.contains(".TH kueueleuleu 1"), "{}", out.stdout);
    assert!(out.stdout.contains("convert"));
    let tmp = TempDir::new("man");
    run(
        Command::new(kueueleuleu_bin())
            .args(["man", "--out-dir"])
            .arg(tmp.join("man1")),
        None,
    )
    .success("kueueleuleu man --out-dir");
    // Other subcommands may join; these pages must be there, each a roff page.
    for page in [
        "kueueleuleu.1",
        "kueueleuleu-convert.1",
        "kueueleuleu-revert.1",
    ] {
        let text = std::fs::read_to_string(tmp.join("man1").join(page))
            .unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH "), "{page} is a man page");
    }
}

// ---------------------------------------------------------------------------------------
// kpt function catalog entry

fn git(dir: &Path, args: &[&str]) -> Output {
    let git = tool("git").expect("git is checked by the caller");
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

/// The catalog example package renders to exactly its `.expected/diff.patch` (the catalog's
/// own check), and a second render changes nothing. Its Kptfile names the release image;
/// here the binary under test runs in its place as an exec function (no container runtime).
#[test]
fn catalog_example_renders_to_its_expected_diff() {
    let Some(kpt) = tool("kpt") else { return };
    if tool("git").is_none() {
        return;
    }
    let tmp = TempDir::new("catalog");
    let rel = "functions/kueueleuleu/examples/sequential-simple";
    let pkg = tmp.join("sequential-simple");
    copy_tree(&repo().join(rel), &pkg, None);
    std::fs::remove_dir_all(pkg.join(".expected")).unwrap();
    let kptfile = std::fs::read_to_string(pkg.join("Kptfile")).unwrap();
    let image_line = format!("- image: {}\n", kueueleuleu::config::DEFAULT_IMAGE);
    assert!(
        kptfile.contains(&image_line),
        "the Kptfile runs the release image"
    );
    let exec_line = format!("- exec: {}\n", kueueleuleu_bin().display());
    std::fs::write(
        pkg.join("Kptfile"),
        kptfile.replace(&image_line, &exec_line),
    )
    .unwrap();
    git(&pkg, &["init", "-q"]);
    git(&pkg, &["add", "-A"]);
    git(&pkg, &["commit", "-q", "-m", "as fetched"]);

    let render = || {
        run(
            Command::new(&kpt)
                .args(["fn", "render", "--allow-exec"])
                .arg(&pkg),
            None,
        )
        .success("kpt fn render")
    };
    render();
    let diff = git(&pkg, &["diff"]).stdout;
    let diff = diff.replace(&exec_line, &image_line);
    assert_expected(&format!("../../../{rel}/.expected/diff.patch"), &diff);
    git(&pkg, &["commit", "-q", "-am", "rendered"]);
    render();
    assert_eq!(
        git(&pkg, &["diff"]).stdout,
        "",
        "a second render changes nothing"
    );
}
