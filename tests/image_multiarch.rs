//! The multi-arch image: `.ci/build-image.sh --multiarch-out` writes one manifest list
//! (linux/amd64 and linux/arm64) as an OCI archive, named with the converter's default
//! image. Each architecture's image holds its own static binaries, which really run (arm64
//! through qemu-user) and convert exactly as the amd64 ones do; the list's amd64 image is
//! the single-arch image that `--out` writes in the same run, and a rebuild gives the same
//! bytes.
//!
//! Needs buildah and qemu-user (`.ci/install-podman.sh`); a missing tool fails under `CI`
//! and skips elsewhere.

mod tools_support;

use kueueleuleu::config::DEFAULT_IMAGE;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use tools_support::*;

/// An annotated two-step Pod, converted by both architectures' binaries.
const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: two-steps\n  annotations:\n    \
    kueueleuleu.io/sequential: \"true\"\nspec:\n  restartPolicy: Never\n  containers:\n  \
    - name: a\n    image: busybox:1.37\n    command: [\"echo\", \"a\"]\n  - name: b\n    \
    image: busybox:1.37\n    command: [\"echo\", \"b\"]\n";

fn untar(archive: &Path, into: &Path, gzip: bool) {
    std::fs::create_dir_all(into).unwrap();
    let flags = if gzip { "-xzf" } else { "-xf" };
    run(
        Command::new("tar")
            .arg(flags)
            .arg(archive)
            .arg("-C")
            .arg(into),
        None,
    )
    .success(&format!("tar {flags} {}", archive.display()));
}

fn json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The blob a descriptor points at, in an OCI image layout.
fn blob(layout: &Path, descriptor: &Value) -> PathBuf {
    let digest = descriptor["digest"]
        .as_str()
        .expect("a descriptor has a digest");
    layout
        .join("blobs/sha256")
        .join(digest.strip_prefix("sha256:").expect("a sha256 digest"))
}

/// `readelf -h`'s machine line.
fn elf_machine(binary: &Path) -> String {
    let out = run(Command::new("readelf").arg("-h").arg(binary), None).success("readelf -h");
    out.stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Machine:"))
        .expect("readelf prints the machine")
        .trim()
        .to_string()
}

/// Runs a binary of the image (arm64 through qemu) and returns its stdout.
fn run_binary(qemu: Option<&Path>, binary: &Path, args: &[&str], stdin: &str) -> String {
    let mut cmd = match qemu {
        Some(qemu) => {
            let mut cmd = Command::new(qemu);
            cmd.arg(binary);
            cmd
        }
        None => Command::new(binary),
    };
    cmd.args(args);
    run(&mut cmd, Some(stdin.as_bytes()))
        .success(&format!("{} {args:?}", binary.display()))
        .stdout
}

#[test]
fn multiarch_archive_is_a_manifest_list_of_working_amd64_and_arm64_images() {
    if tool("buildah").is_none() {
        return;
    }
    let Some(qemu) = tool("qemu-aarch64") else {
        return;
    };
    let tmp = TempDir::new("image-multiarch");
    let (single, multi) = (tmp.join("single.tar"), tmp.join("multi.tar"));
    let built = run(
        Command::new(repo().join(".ci/build-image.sh"))
            .arg("--out")
            .arg(&single)
            .arg("--multiarch-out")
            .arg(&multi),
        None,
    )
    .success(".ci/build-image.sh --out --multiarch-out");
    assert_eq!(built.stdout, format!("{DEFAULT_IMAGE}\n"));
    // The sizes, for the test log.
    for line in built.stderr.lines().filter(|l| l.contains("): ")) {
        eprintln!("{line}");
    }

    let layout = tmp.join("multi");
    untar(&multi, &layout, false);
    let index = json(&layout.join("index.json"));
    let entries = index["manifests"]
        .as_array()
        .expect("index.json lists manifests");
    assert_eq!(entries.len(), 1, "one entry, the manifest list: {index}");
    assert_eq!(
        entries[0]["annotations"]["org.opencontainers.image.ref.name"],
        DEFAULT_IMAGE
    );
    assert_eq!(
        entries[0]["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let list = json(&blob(&layout, &entries[0]));
    let platforms: BTreeMap<String, &Value> = list["manifests"]
        .as_array()
        .expect("the list has manifests")
        .iter()
        .map(|m| {
            assert_eq!(m["platform"]["os"], "linux");
            (
                m["platform"]["architecture"].as_str().unwrap().to_string(),
                m,
            )
        })
        .collect();
    assert_eq!(
        platforms.keys().collect::<Vec<_>>(),
        ["amd64", "arm64"],
        "{list}"
    );

    let version = format!("kueueleuleu {}\n", env!("CARGO_PKG_VERSION"));
    let mut conversions = BTreeMap::new();
    let mut diff_ids = BTreeMap::new();
    for (arch, descriptor) in &platforms {
        let manifest = json(&blob(&layout, descriptor));
        let config = json(&blob(&layout, &manifest["config"]));
        assert_eq!(config["architecture"], arch.as_str());
        assert_eq!(config["config"]["User"], "65532:65532");
        assert_eq!(
            config["config"]["Labels"]["org.opencontainers.image.version"],
            env!("CARGO_PKG_VERSION")
        );
        diff_ids.insert(arch.clone(), config["rootfs"]["diff_ids"].clone());
        let layers = manifest["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 1, "{arch}: one layer");
        let root = tmp.join(format!("rootfs-{arch}"));
        untar(&blob(&layout, &layers[0]), &root, true);

        let (machine, runner) = match arch.as_str() {
            "amd64" => ("X86-64", None),
            _ => ("AArch64", Some(qemu.as_path())),
        };
        let bin = root.join("usr/local/bin");
        for name in ["kueueleuleu", "kueueleuleu-step"] {
            assert!(
                elf_machine(&bin.join(name)).contains(machine),
                "{arch}: {name} is built for {machine}"
            );
        }
        let kueueleuleu = bin.join("kueueleuleu");
        assert_eq!(
            run_binary(runner, &kueueleuleu, &["--version"], ""),
            version,
            "{arch}"
        );
        conversions.insert(
            arch.clone(),
            run_binary(runner, &kueueleuleu, &["convert"], POD),
        );
        let step = run_binary(runner, &bin.join("kueueleuleu-step"), &["--help"], "");
        assert!(
            step.contains("kueueleuleu-step install DEST"),
            "{arch}: the runner starts:\n{step}"
        );
    }
    assert!(
        conversions["amd64"].contains("/kueueleuleu/bin/kueueleuleu-step"),
        "the Pod was converted:\n{}",
        conversions["amd64"]
    );
    assert_eq!(
        conversions["arm64"], conversions["amd64"],
        "both architectures convert alike"
    );

    // The list's amd64 image is the single-arch archive's image.
    let docker = tmp.join("single");
    untar(&single, &docker, false);
    let manifest = json(&docker.join("manifest.json"));
    assert_eq!(manifest[0]["RepoTags"], serde_json::json!([DEFAULT_IMAGE]));
    let config = json(&docker.join(manifest[0]["Config"].as_str().unwrap()));
    assert_eq!(config["rootfs"]["diff_ids"], diff_ids["amd64"]);

    // Reproducible: the same commit and binaries give the same archive, byte for byte.
    let again = tmp.join("again.tar");
    run(
        Command::new(repo().join(".ci/build-image.sh"))
            .arg("--bins")
            .arg(tmp.join("rootfs-amd64/usr/local/bin"))
            .arg("--out")
            .arg(&again),
        None,
    )
    .success(".ci/build-image.sh --bins --out");
    assert!(
        std::fs::read(&again).unwrap() == std::fs::read(&single).unwrap(),
        "a rebuild from the same binaries gave a different archive"
    );
}
