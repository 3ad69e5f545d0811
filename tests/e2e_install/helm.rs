//! Helm: the Helm 4 plugin installed from its directory and its release tarball, its
//! failures made visible, and Helm 3's `--post-renderer PATH`.

use super::*;

fn helm4(tmp: &TempDir) -> Option<PathBuf> {
    let helm4 = tool("helm4")?;
    let version =
        run(helm_command(&helm4, tmp).args(["version", "--short"]), None).success("version");
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
        helm_command(helm_bin, tmp)
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
        helm_command(&helm4, &tmp)
            .args(["plugin", "install"])
            .arg(&tarball),
        None,
    );
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("no provenance file (.prov) found"),
        "{}",
        refused.stderr
    );

    run(
        helm_command(&helm4, &tmp)
            .args(["plugin", "install"])
            .arg(&tarball)
            .arg("--verify=false"),
        None,
    )
    .success("helm plugin install TARBALL --verify=false");
    let list =
        run(helm_command(&helm4, &tmp).args(["plugin", "list"]), None).success("plugin list");
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
        helm_command(&helm4, &tmp)
            .args(["plugin", "install"])
            .arg(&plugin),
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
