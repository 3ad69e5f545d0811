//! The command line reads files and directories like kubectl, names the file and line of
//! every problem, and never reports success when its output did not reach the reader.

#[path = "support/run.rs"]
mod support_run;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kueueleuleu"))
}

fn fresh(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kueueleuleu-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("team/jobs")).unwrap();
    let pod =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pod.yaml"))
            .unwrap();
    std::fs::write(dir.join("team/jobs/pod.yaml"), pod).unwrap();
    std::fs::write(
        dir.join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    )
    .unwrap();
    dir
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).stdin(Stdio::null()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn subdirectories_are_named_without_r_and_read_with_it() {
    let dir = fresh("recurse");
    let d = dir.to_str().unwrap();
    let (code, out, err) = run(&["convert", "-f", d]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("two-steps"), "{out}");
    assert!(
        err.contains(&format!("{d}/team: subdirectory not read")) && err.contains("-R"),
        "{err}"
    );
    let (code, out, err) = run(&["convert", "-R", "-f", d]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("kueueleuleu-step") && out.contains("name: c"),
        "{out}"
    );
    assert!(
        err.contains(&format!("{d}/team/jobs/pod.yaml:5: Pod two-steps")),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_name_the_file_and_line_and_nothing_is_half_converted() {
    let dir = fresh("errors");
    std::fs::write(
        dir.join("z-bad.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\n  annotations: {kueueleuleu.io/sequential: \"true\"}\nspec:\n  restartPolicy: Always\n  containers: [{name: a, command: [\"true\"]}]\n",
    )
    .unwrap();
    let d = dir.to_str().unwrap();
    let (code, out, err) = run(&["convert", "-R", "-f", d]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("{d}/z-bad.yaml:5: Pod bad: spec.restartPolicy")),
        "{err}"
    );
    assert!(
        !out.contains("kueueleuleu-step"),
        "the good Pod of another file must not be converted either:\n{out}"
    );
    assert!(
        out.contains("name: c") && out.contains("two-steps"),
        "{out}"
    );
    std::fs::write(dir.join("z-bad.yaml"), "a: [1\n").unwrap();
    let (code, out, err) = run(&["convert", "-R", "-f", d]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.contains(&format!("{d}/z-bad.yaml: the input is not valid YAML")),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
fn links_are_followed_and_broken_ones_named() {
    let dir = fresh("links");
    std::os::unix::fs::symlink(dir.join("team/jobs/pod.yaml"), dir.join("linked.yaml")).unwrap();
    let d = dir.to_str().unwrap();
    let (code, out, _) = run(&["convert", "-f", d]);
    assert_eq!(code, 0);
    assert!(out.contains("two-steps"), "{out}");
    std::os::unix::fs::symlink(dir.join("gone.yaml"), dir.join("dangling.yaml")).unwrap();
    let (code, out, err) = run(&["convert", "-f", d]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.contains("dangling.yaml: a symbolic link whose target does not exist"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_is_a_failure_and_a_failed_stderr_is_not() {
    let pod = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pod.yaml");
    let full = std::fs::File::options()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let status = bin()
        .args(["convert", "-f", pod.to_str().unwrap()])
        .stdout(full)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1), "stdout to a full disk must fail");
    let full = std::fs::File::options()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let status = bin()
        .args(["convert", "-f", pod.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(full)
        .status()
        .unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "a full stderr must not change the result"
    );
    // A reader that went away: the write fails with EPIPE, which is not success.
    let big: String = (0..20_000)
        .map(|i| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n"))
        .collect();
    let mut child = bin()
        .arg("convert")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    use std::io::Write;
    let _ = child.stdin.take().unwrap().write_all(big.as_bytes());
    assert_eq!(
        child.wait().unwrap().code(),
        Some(1),
        "EPIPE must not exit 0"
    );
}

/// Files saved with a byte order mark: only the first may keep it, since YAML allows one only
/// at the stream's start, and the output must convert again to itself (a second run, as kpt
/// render makes, would refuse a mark inside the stream).
#[test]
fn only_the_streams_first_byte_order_mark_is_written() {
    let dir = fresh("bom");
    let pod = std::fs::read_to_string(dir.join("team/jobs/pod.yaml")).unwrap();
    let files = ["a.yaml", "b.yaml", "c.yaml"];
    std::fs::write(dir.join(files[0]), format!("\u{feff}{pod}")).unwrap();
    std::fs::write(
        dir.join(files[1]),
        "\u{feff}apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join(files[2]),
        format!("\u{feff}{}", pod.replace("name: ", "name: c")),
    )
    .unwrap();
    let paths: Vec<String> = files
        .iter()
        .map(|f| dir.join(f).to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["convert"];
    for p in &paths {
        args.extend(["-f", p.as_str()]);
    }
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with('\u{feff}'), "{out}");
    assert_eq!(out.matches('\u{feff}').count(), 1, "{out}");
    assert_eq!(out.matches("name: kueueleuleu-init").count(), 2, "{out}");
    // The output read again from stdin converts to itself.
    let again = support_run::kueueleuleu(&["convert"], out.as_bytes());
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(again.text(), out);
    // Refused, every file comes back as it was, again with one mark.
    std::fs::write(dir.join(files[1]), "\u{feff}apiVersion: v1\nkind: Pod\nmetadata: {name: b, annotations: {kueueleuleu.io/sequential: \"true\"}}\nspec: {containers: [{name: x, image: nginx}]}\n").unwrap();
    let (code, out, err) = run(&args);
    assert_eq!(code, 1, "{err}");
    assert_eq!(out.matches('\u{feff}').count(), 1, "{out}");
    assert!(out.contains("name: b"), "{out}");
}
