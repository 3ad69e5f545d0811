//! The kpt function catalog entry: its example package renders to its expected diff.

use super::*;

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
