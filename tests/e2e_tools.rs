//! End-to-end tests: the real orchestrators (kustomize, kpt, Helm 3 and 4, the Argo CD
//! plugin command) run the examples under `examples/` with the `kueueleuleu` built here,
//! and their whole output is compared with `tests/expected/e2e/`.
//!
//! Tools come from `.tools/bin` (`.ci/install-tools.sh`), else `PATH`. A missing tool fails
//! the test when `CI` is set and skips it with a message naming the tool otherwise.
//! `UPDATE_EXPECTED=1` rewrites the expected files; `KEEP_E2E_TMP=1` keeps the work trees.

mod tools_support;

use std::path::Path;
use std::process::Command;
use tools_support::*;

// ---------------------------------------------------------------------------------------
// kustomize

/// A copy of `examples/kustomize` at `TMP/examples/kustomize`, with the binary linked at
/// `TMP/target/release/kueueleuleu`, the path its transformer config names relative to it.
fn kustomize_example(tmp: &TempDir) -> std::path::PathBuf {
    let dir = tmp.join("examples/kustomize");
    copy_tree(&repo().join("examples/kustomize"), &dir, None);
    link_kueueleuleu(&tmp.join("target/release/kueueleuleu"));
    dir
}

#[test]
fn kustomize_exec_function_converts() {
    let Some(kustomize) = tool("kustomize") else {
        return;
    };
    let tmp = TempDir::new("kustomize-exec");
    let dir = kustomize_example(&tmp);

    let out = run(
        Command::new(&kustomize)
            .args(["build", "--enable-alpha-plugins", "--enable-exec"])
            .arg(&dir),
        None,
    )
    .success("kustomize build --enable-alpha-plugins --enable-exec");

    let docs = documents(&out.stdout);
    assert_eq!(docs.len(), 2, "the Job and the ConfigMap");
    assert!(
        is_converted(find_doc(&docs, "Job", "build-and-report")),
        "kustomize ran the exec function and the Job was converted:\n{}",
        out.stdout
    );
    assert_eq!(
        find_doc(&docs, "ConfigMap", "settings")["data"]["mode"],
        "on",
        "the ConfigMap passes through, its \"on\" still a string"
    );
    assert_valid_kubernetes("kustomize build", &out.stdout);
    assert_expected("kustomize-exec.yaml", &normalize(&out.stdout, tmp.path()));
}

/// What the example builds to without the transformer: the reference a skipped function's
/// output must equal.
fn unconverted_base(kustomize: &Path, dir: &Path) -> String {
    run(
        Command::new(kustomize).arg("build").arg(dir.join("base")),
        None,
    )
    .success("kustomize build base")
    .stdout
}

/// Without `--enable-exec` the standalone kustomize skips exec functions without a word:
/// the objects come out exactly as if there were no transformer. The examples' README
/// documents this.
#[test]
fn kustomize_without_enable_exec_skips_the_function_silently() {
    let Some(kustomize) = tool("kustomize") else {
        return;
    };
    let tmp = TempDir::new("kustomize-no-exec");
    let dir = kustomize_example(&tmp);

    let base = unconverted_base(&kustomize, &dir);
    let skipped = run(
        Command::new(&kustomize)
            .args(["build", "--enable-alpha-plugins"])
            .arg(&dir),
        None,
    )
    .success("kustomize build --enable-alpha-plugins");
    assert!(!skipped.stdout.contains("kueueleuleu-step"));
    assert_eq!(skipped.stdout, base, "nothing was converted");

    let refused = run(Command::new(&kustomize).arg("build").arg(&dir), None);
    assert_ne!(
        refused.code, 0,
        "without --enable-alpha-plugins the build fails"
    );
    assert!(
        refused.stdout.is_empty(),
        "and prints no objects: {}",
        refused.stdout
    );
}

/// `kubectl kustomize` embeds kustomize but has no `--enable-exec`: with
/// `--enable-alpha-plugins` it skips the exec function, exits 0 and prints the objects
/// unconverted. Use the standalone kustomize.
#[test]
fn kubectl_kustomize_skips_exec_functions() {
    let Some(kubectl) = tool("kubectl") else {
        return;
    };
    let Some(kustomize) = tool("kustomize") else {
        return;
    };
    let tmp = TempDir::new("kubectl-kustomize");
    let dir = kustomize_example(&tmp);

    let base = unconverted_base(&kustomize, &dir);
    let out = run(
        Command::new(&kubectl)
            .args(["kustomize", "--enable-alpha-plugins"])
            .arg(&dir),
        None,
    )
    .success("kubectl kustomize --enable-alpha-plugins");
    assert!(!out.stdout.contains("kueueleuleu-step"));
    assert_eq!(out.stdout, base, "kubectl kustomize converted nothing");
}

// ---------------------------------------------------------------------------------------
// kpt

fn kpt_cmd(kpt: &Path, tmp: &TempDir) -> Command {
    let mut cmd = Command::new(kpt);
    // The Kptfiles say `exec: kueueleuleu`: found on PATH.
    cmd.env("PATH", path_with(&tmp.bin_dir()));
    cmd
}

/// `kpt fn render` twice on `examples/kpt/config-path` in a git repository: the first
/// render converts the Job and the CronJob and `git diff` shows only the fields the
/// conversion owns; the second render changes nothing.
#[test]
fn kpt_render_converts_and_second_render_changes_nothing() {
    let Some(kpt) = tool("kpt") else { return };
    if tool("git").is_none() {
        return;
    }
    let tmp = TempDir::new("kpt-render");
    let pkg = tmp.join("config-path");
    copy_tree(&repo().join("examples/kpt/config-path"), &pkg, None);
    let before = snapshot(&pkg);
    git(&pkg, &["init", "-q"]);
    git(&pkg, &["add", "-A"]);
    git(&pkg, &["commit", "-q", "-m", "package as written"]);

    let first = run(
        kpt_cmd(&kpt, &tmp)
            .args(["fn", "render", "--allow-exec"])
            .arg(&pkg),
        None,
    )
    .success("first kpt fn render");
    assert_expected(
        "kpt-render-config-path.stderr",
        &normalize(&first.stderr, tmp.path()),
    );
    let rendered = snapshot(&pkg);
    assert_ne!(rendered, before, "the first render changed the package");
    assert_expected(
        "kpt-render-config-path.files",
        &normalize(&rendered, tmp.path()),
    );

    // Only the converted objects' files changed...
    let changed = git(&pkg, &["diff", "--name-only"]).stdout;
    assert_eq!(changed, "cronjob.yaml\njob.yaml\n");
    // ...and in them only lines the conversion owns were removed: the steps' original
    // `command`/`args` (flow sequences here). Comments, the other keys, quoting: kept.
    let diff = git(&pkg, &["diff", "--no-color", "-U2"]).stdout;
    for line in diff.lines() {
        if let Some(removed) = line.strip_prefix('-').filter(|_| !line.starts_with("---")) {
            let key = removed.trim_start();
            assert!(
                key.starts_with("command: [") || key.starts_with("args: ["),
                "git diff removed a line the conversion does not own: {line:?}\n{diff}"
            );
        }
    }
    assert_expected("kpt-render-config-path.diff", &normalize(&diff, tmp.path()));
    for doc in documents(&std::fs::read_to_string(pkg.join("job.yaml")).unwrap())
        .iter()
        .chain(&documents(
            &std::fs::read_to_string(pkg.join("cronjob.yaml")).unwrap(),
        ))
    {
        assert!(is_converted(doc), "converted: {doc}");
    }
    let objects: String = ["job.yaml", "cronjob.yaml", "service.yaml"]
        .iter()
        .map(|f| format!("---\n{}", std::fs::read_to_string(pkg.join(f)).unwrap()))
        .collect();
    assert_valid_kubernetes("kpt fn render", &objects);

    git(&pkg, &["add", "-A"]);
    git(&pkg, &["commit", "-q", "-m", "first render"]);
    run(
        kpt_cmd(&kpt, &tmp)
            .args(["fn", "render", "--allow-exec"])
            .arg(&pkg),
        None,
    )
    .success("second kpt fn render");
    assert_eq!(
        git(&pkg, &["status", "--porcelain"]).stdout,
        "",
        "the second render changed files"
    );
    assert_eq!(snapshot(&pkg), rendered);
}

/// The `configMap:` form: every value a string, `selectAll: "true"` converts the Pod that
/// has no annotation.
#[test]
fn kpt_render_with_config_map() {
    let Some(kpt) = tool("kpt") else { return };
    let tmp = TempDir::new("kpt-configmap");
    let pkg = tmp.join("config-map");
    copy_tree(&repo().join("examples/kpt/config-map"), &pkg, None);

    let out = run(
        kpt_cmd(&kpt, &tmp)
            .args(["fn", "render", "--allow-exec"])
            .arg(&pkg),
        None,
    )
    .success("kpt fn render");
    let pod = std::fs::read_to_string(pkg.join("pod.yaml")).unwrap();
    assert!(
        is_converted(&documents(&pod)[0]),
        "selectAll converted the Pod"
    );
    assert_expected(
        "kpt-render-config-map.stderr",
        &normalize(&out.stderr, tmp.path()),
    );
    assert_expected(
        "kpt-render-config-map.files",
        &normalize(&snapshot(&pkg), tmp.path()),
    );
}

/// `kpt fn eval --exec`, imperatively, gives the same package as the declarative render:
/// once with the `Sequential` file as `--fn-config`, once with `key=value` arguments
/// (a ConfigMap functionConfig).
#[test]
fn kpt_eval_exec_matches_render() {
    let Some(kpt) = tool("kpt") else { return };
    let tmp = TempDir::new("kpt-eval");

    let evaluated = tmp.join("eval/config-path");
    copy_tree(&repo().join("examples/kpt/config-path"), &evaluated, None);
    let out = run(
        kpt_cmd(&kpt, &tmp)
            .args(["fn", "eval", "--exec", "kueueleuleu", "--fn-config"])
            .arg(evaluated.join("sequential.yaml"))
            .arg(&evaluated),
        None,
    )
    .success("kpt fn eval --exec --fn-config");
    assert_expected(
        "kpt-eval-config-path.stderr",
        &normalize(&out.stderr, tmp.path()),
    );
    let rendered = tmp.join("render/config-path");
    copy_tree(&repo().join("examples/kpt/config-path"), &rendered, None);
    run(
        kpt_cmd(&kpt, &tmp)
            .args(["fn", "render", "--allow-exec"])
            .arg(&rendered),
        None,
    )
    .success("kpt fn render");
    let eval_files = snapshot(&evaluated);
    assert!(eval_files.contains("kueueleuleu-init"), "eval converted");
    assert_eq!(eval_files, snapshot(&rendered), "eval and render agree");

    let evaluated = tmp.join("eval/config-map");
    copy_tree(&repo().join("examples/kpt/config-map"), &evaluated, None);
    run(
        kpt_cmd(&kpt, &tmp)
            .args(["fn", "eval", "--exec", "kueueleuleu"])
            .arg(&evaluated)
            .args(["--", "selectAll=true"]),
        None,
    )
    .success("kpt fn eval --exec -- selectAll=true");
    let rendered = tmp.join("render/config-map");
    copy_tree(&repo().join("examples/kpt/config-map"), &rendered, None);
    run(
        kpt_cmd(&kpt, &tmp)
            .args(["fn", "render", "--allow-exec"])
            .arg(&rendered),
        None,
    )
    .success("kpt fn render");
    let eval_files = snapshot(&evaluated);
    assert!(eval_files.contains("kueueleuleu-init"), "eval converted");
    assert_eq!(eval_files, snapshot(&rendered), "eval and render agree");
}

/// An annotated Deployment cannot be converted: the function fails, kpt prints our error
/// result (object, field, fix) and writes it to the results file, and the package is left
/// exactly as it was.
#[test]
fn kpt_render_prints_our_error_results() {
    let Some(kpt) = tool("kpt") else { return };
    let tmp = TempDir::new("kpt-error");
    let pkg = tmp.join("bad-package");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::copy(
        repo().join("examples/kpt/config-map/Kptfile"),
        pkg.join("Kptfile"),
    )
    .unwrap();
    std::fs::write(
        pkg.join("deployment.yaml"),
        "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    kueueleuleu.io/sequential: \"true\"
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: migrate
          image: busybox:1.37
          command: [\"sh\", \"-c\", \"echo migrate\"]
        - name: serve
          image: busybox:1.37
          command: [\"httpd\", \"-f\"]
",
    )
    .unwrap();
    std::fs::copy(
        repo().join("examples/kpt/config-path/job.yaml"),
        pkg.join("job.yaml"),
    )
    .unwrap();
    let before = snapshot(&pkg);
    let results = tmp.join("results");

    let out = run(
        kpt_cmd(&kpt, &tmp)
            .args(["fn", "render", "--allow-exec", "--results-dir"])
            .arg(&results)
            .arg(&pkg),
        None,
    );
    assert_ne!(out.code, 0, "kpt fn render must fail:\n{}", out.stderr);
    assert!(
        out.stderr.contains("[error] apps/v1/Deployment/web"),
        "kpt shows our error result for the Deployment:\n{}",
        out.stderr
    );
    assert_eq!(snapshot(&pkg), before, "a failed render changes no file");
    assert_expected(
        "kpt-render-error.stderr",
        &normalize(&out.stderr, tmp.path()),
    );
    assert_expected(
        "kpt-render-error.results.yaml",
        &normalize(
            &std::fs::read_to_string(results.join("results.yaml")).unwrap(),
            tmp.path(),
        ),
    );
}

// ---------------------------------------------------------------------------------------
// Argo CD Config Management Plugin

/// The generate command of `examples/argocd/plugin.yaml`, with the image's
/// `/usr/local/bin/kueueleuleu` replaced by the binary under test.
fn cmp_generate_command() -> Command {
    let text = std::fs::read_to_string(repo().join("examples/argocd/plugin.yaml")).unwrap();
    let plugin: serde_json::Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(plugin["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    let generate = &plugin["spec"]["generate"];
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    // The CMP server runs command[0] with command[1..] and then args: no shell.
    let mut argv = strings(&generate["command"]);
    argv.extend(strings(&generate["args"]));
    assert_eq!(
        argv.first().map(String::as_str),
        Some("/usr/local/bin/kueueleuleu"),
        "the plugin runs the binary the image ships"
    );
    let mut cmd = Command::new(kueueleuleu_bin());
    cmd.args(&argv[1..]);
    cmd
}

/// Sets up the environment the CMP server gives the generate command: only the sidecar's
/// own variables, the build variables and the Application's `plugin.env` prefixed with
/// `ARGOCD_ENV_`.
fn as_cmp_server(cmd: &mut Command, app_dir: &Path, source_path: &str) {
    cmd.current_dir(app_dir)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", "/home/argocd")
        .env("ARGOCD_APP_NAME", "sequential-jobs")
        .env("ARGOCD_APP_NAMESPACE", "default")
        .env("ARGOCD_APP_PROJECT_NAME", "default")
        .env(
            "ARGOCD_APP_REVISION",
            "0123456789abcdef0123456789abcdef01234567",
        )
        .env("ARGOCD_APP_REVISION_SHORT", "0123456")
        .env("ARGOCD_APP_SOURCE_PATH", source_path)
        .env(
            "ARGOCD_APP_SOURCE_REPO_URL",
            "https://git.example.com/you/your-config.git",
        )
        .env("ARGOCD_APP_SOURCE_TARGET_REVISION", "HEAD")
        .env("KUBE_VERSION", "1.33.0")
        .env("KUBE_API_VERSIONS", "v1,batch/v1,apps/v1")
        .env("ARGOCD_ENV_TEAM", "platform");
}

/// The repository as the CMP server unpacks it: every file without its executable bits.
fn unpacked_repository(tmp: &TempDir) -> std::path::PathBuf {
    let root = tmp.join("cmp-work/repo");
    copy_tree(
        &repo().join("examples"),
        &root.join("examples"),
        Some(0o644),
    );
    root
}

#[test]
fn argocd_cmp_generate_converts_the_application_source() {
    let tmp = TempDir::new("argocd");
    let root = unpacked_repository(&tmp);
    let source_path = "examples/argocd/app";
    let mut cmd = cmp_generate_command();
    as_cmp_server(&mut cmd, &root.join(source_path), source_path);

    let out = run(&mut cmd, None).success("the plugin's generate command");
    let docs = documents(&out.stdout);
    assert_eq!(docs.len(), 1);
    assert!(is_converted(find_doc(&docs, "Job", "extract-then-load")));
    assert_eq!(
        find_doc(&docs, "Job", "extract-then-load")["metadata"]["annotations"]["argocd.argoproj.io/sync-options"],
        "Replace=true"
    );
    assert_valid_kubernetes("argocd generate", &out.stdout);
    assert_expected("argocd-generate.yaml", &normalize(&out.stdout, tmp.path()));
}

/// Empty output would make Argo CD prune everything the Application owns: a source
/// directory with no objects must fail generation, with nothing on stdout.
#[test]
fn argocd_cmp_generate_fails_on_a_source_without_objects() {
    let tmp = TempDir::new("argocd-empty");
    let root = unpacked_repository(&tmp);
    let cases: [(&str, &[(&str, &str)]); 3] = [
        ("no-files", &[]),
        (
            "comments-only",
            &[("job.yaml", "# the Job moved elsewhere\n")],
        ),
        (
            "empty-documents",
            &[("a.yaml", "---\n---\n"), ("notes.txt", "not yaml\n")],
        ),
    ];
    let mut report = String::new();
    for (name, files) in cases {
        let source_path = format!("apps/{name}");
        let app = root.join(&source_path);
        std::fs::create_dir_all(&app).unwrap();
        for (file, text) in files {
            std::fs::write(app.join(file), text).unwrap();
        }
        let mut cmd = cmp_generate_command();
        as_cmp_server(&mut cmd, &app, &source_path);
        let out = run(&mut cmd, None);
        assert_ne!(out.code, 0, "{name}: generate must fail, not print nothing");
        assert_eq!(out.stdout, "", "{name}: nothing on stdout");
        assert!(!out.stderr.is_empty(), "{name}: a reason on stderr");
        report.push_str(&format!(
            "== {name}: exit {}\n{}",
            out.code,
            normalize(&out.stderr, tmp.path())
        ));
    }
    assert_expected("argocd-generate-empty.stderr", &report);
}

// ---------------------------------------------------------------------------------------
// Helm

/// Helm 3: `--post-renderer` runs an executable (found on PATH) with the rendered
/// manifests on stdin. Hooks are not post-rendered by Helm 3: the hook Job comes out as
/// written, which the Helm example documents.
/// `helm template` of the demo chart through `--post-renderer kueueleuleu`: the main Job
/// is converted in both Helm versions; the pre-install hook only where Helm post-renders
/// hooks (`hooks_converted`, Helm 4).
fn template_demo_chart(helm: &Path, tmp: &TempDir, hooks_converted: bool) -> Output {
    let out = run(
        helm_command(helm, tmp)
            .args(["template", "demo"])
            .arg(repo().join("examples/helm/chart"))
            .args(["--post-renderer", "kueueleuleu"]),
        None,
    )
    .success("helm template --post-renderer kueueleuleu");
    let docs = documents(&out.stdout);
    assert_eq!(docs.len(), 3);
    assert!(is_converted(find_doc(&docs, "Job", "demo-work")));
    let hook = find_doc(&docs, "Job", "demo-setup");
    assert_eq!(
        hook["metadata"]["annotations"]["helm.sh/hook"],
        "pre-install"
    );
    assert_eq!(
        is_converted(hook),
        hooks_converted,
        "Helm 3 does not post-render hooks; Helm 4 does"
    );
    out
}

#[test]
fn helm3_post_renderer_converts_manifests_but_not_hooks() {
    let Some(helm) = tool("helm") else { return };
    let tmp = TempDir::new("helm3");
    let version =
        run(helm_command(&helm, &tmp).args(["version", "--short"]), None).success("helm version");
    assert!(
        version.stdout.starts_with("v3."),
        "helm is Helm 3: {}",
        version.stdout
    );

    let out = template_demo_chart(&helm, &tmp, false);
    for source in ["configmap.yaml", "job.yaml", "setup-hook.yaml"] {
        assert!(
            out.stdout
                .contains(&format!("# Source: sequential-demo/templates/{source}\n")),
            "{source} keeps its # Source: line"
        );
    }
    assert_valid_kubernetes("helm 3 template", &out.stdout);
    assert_expected("helm3-template.yaml", &normalize(&out.stdout, tmp.path()));
}

/// Helm 4: `--post-renderer` names a `postrenderer/v1` plugin, installed from
/// `examples/helm/plugin/kueueleuleu`. Helm 4 post-renders hooks too, tagging every
/// document with `postrenderer.helm.sh/postrender-filename`; kueueleuleu keeps that
/// annotation, so Helm files each object (hooks included) back under its own template.
#[test]
fn helm4_postrenderer_plugin_converts_hooks_too() {
    let Some(helm4) = tool("helm4") else { return };
    let tmp = TempDir::new("helm4");
    let version = run(
        helm_command(&helm4, &tmp).args(["version", "--short"]),
        None,
    )
    .success("helm4 version");
    assert!(
        version.stdout.starts_with("v4."),
        "helm4 is Helm 4: {}",
        version.stdout
    );

    let plugin = tmp.join("plugin-src/kueueleuleu");
    copy_tree(
        &repo().join("examples/helm/plugin/kueueleuleu"),
        &plugin,
        None,
    );
    run(
        helm_command(&helm4, &tmp)
            .args(["plugin", "install"])
            .arg(&plugin),
        None,
    )
    .success("helm4 plugin install");
    let list =
        run(helm_command(&helm4, &tmp).args(["plugin", "list"]), None).success("helm4 plugin list");
    assert!(
        list.stdout
            .lines()
            .any(|l| l.starts_with("kueueleuleu") && l.contains("postrenderer/v1")),
        "the plugin is installed as a postrenderer/v1:\n{}",
        list.stdout
    );

    let out = template_demo_chart(&helm4, &tmp, true);
    // Each object is back under its own template: the annotation survived the round trip.
    let sources: Vec<(&str, &str)> = out
        .stdout
        .split("\n---\n")
        .filter_map(|doc| {
            let source = doc.lines().find_map(|l| l.strip_prefix("# Source: "))?;
            let name = doc
                .lines()
                .find_map(|l| l.strip_prefix("  name: "))
                .expect("metadata.name");
            Some((source, name))
        })
        .collect();
    assert_eq!(
        sources,
        [
            ("sequential-demo/templates/configmap.yaml", "demo-settings"),
            ("sequential-demo/templates/job.yaml", "demo-work"),
            ("sequential-demo/templates/setup-hook.yaml", "demo-setup"),
        ]
    );
    assert!(
        !out.stdout.contains("postrenderer.helm.sh/"),
        "Helm strips its annotation again"
    );
    assert_valid_kubernetes("helm 4 template", &out.stdout);
    assert_expected("helm4-template.yaml", &normalize(&out.stdout, tmp.path()));
}

/// What Helm 4 hands the post-renderer, directly: the filename annotation comes back
/// untouched on converted and unconverted objects alike.
#[test]
fn postrender_filename_annotation_passes_through_conversion() {
    let input = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: demo-settings
  annotations:
    postrenderer.helm.sh/postrender-filename: 'sequential-demo/templates/configmap.yaml'
data:
  greeting: \"hello\"
---
apiVersion: batch/v1
kind: Job
metadata:
  name: demo-setup
  annotations:
    \"helm.sh/hook\": pre-install
    kueueleuleu.io/sequential: \"true\"
    postrenderer.helm.sh/postrender-filename: 'sequential-demo/templates/setup-hook.yaml'
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: a
          image: busybox:1.37
          command: [\"true\"]
        - name: b
          image: busybox:1.37
          command: [\"true\"]
";
    let out = run(
        Command::new(kueueleuleu_bin()).arg("convert"),
        Some(input.as_bytes()),
    )
    .success("kueueleuleu convert");
    let docs = documents(&out.stdout);
    let key = "postrenderer.helm.sh/postrender-filename";
    assert_eq!(
        find_doc(&docs, "ConfigMap", "demo-settings")["metadata"]["annotations"][key],
        "sequential-demo/templates/configmap.yaml"
    );
    let job = find_doc(&docs, "Job", "demo-setup");
    assert!(is_converted(job));
    assert_eq!(
        job["metadata"]["annotations"][key],
        "sequential-demo/templates/setup-hook.yaml"
    );
    assert!(
        out.stdout.starts_with(&input[..input.find("---").unwrap()]),
        "the ConfigMap comes out byte for byte"
    );
}
