//! One image reference: the converter's default `image` ([`DEFAULT_IMAGE`], the release
//! image tagged with the crate's version) is the only tag of the project's image named
//! anywhere in the tree (code, README, examples, the kpt catalog entry, the Argo CD and
//! kustomize files, the fixtures' expected outputs). Test inputs under `tests/` are left
//! out: some stand for objects converted by older releases on purpose. Bumping the crate version without updating the docs fails
//! here, naming every stale place.

use kueueleuleu::config::DEFAULT_IMAGE;
use std::path::{Path, PathBuf};

/// Places users copy the image from: each must name the default image.
const MUST_NAME_IT: [&str; 9] = [
    "README.md",
    "Dockerfile",
    "examples/kpt/container/Kptfile",
    "examples/kustomize/container/sequential.yaml",
    "examples/argocd/repo-server-patch.yaml",
    "functions/kueueleuleu/metadata.yaml",
    "functions/kueueleuleu/README.md",
    "functions/kueueleuleu/config.schema.json",
    "functions/kueueleuleu/examples/sequential-simple/Kptfile",
];

/// Where the reference is built rather than written out: the constant itself and the
/// cluster scripts' copy, which reads the version from Cargo.toml.
const BUILT_HERE: [(&str, &str); 2] = [
    ("src/config.rs", "ghcr.io/kueueleuleu/kueueleuleu:v\","),
    (
        "scripts/cluster/lib.sh",
        "ghcr.io/kueueleuleu/kueueleuleu:v%s'",
    ),
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every file of the source tree (build output, VCS data, installed tools and test data
/// left out).
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() {
            let tests = path == repo().join("tests");
            if !tests && !matches!(name.as_ref(), "target" | ".git" | ".tools" | "node_modules") {
                files(&path, out);
            }
        } else {
            out.push(path);
        }
    }
}

#[test]
fn every_tag_of_the_project_image_is_the_default_image() {
    let (repository, tag) = DEFAULT_IMAGE.split_once(':').unwrap();
    assert_eq!(tag, format!("v{}", env!("CARGO_PKG_VERSION")));
    let mut all = Vec::new();
    files(repo(), &mut all);
    for fixture in std::fs::read_dir(repo().join("tests/fixtures")).unwrap() {
        all.push(fixture.unwrap().path().join("expected.out"));
    }
    let (mut seen, mut stale) = (0, Vec::new());
    for path in all {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // not text
        };
        let rel = path
            .strip_prefix(repo())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for (at, _) in text.match_indices(repository) {
            let rest = &text[at..];
            let end = rest
                .find(|c: char| c.is_whitespace() || "\"'`(),{}[]<>\\".contains(c))
                .unwrap_or(rest.len());
            let word = &rest[..end];
            if !word.contains([':', '@']) {
                continue; // the repository named without a tag (prose, a URL)
            }
            if BUILT_HERE
                .iter()
                .any(|(file, built)| rel == *file && rest.starts_with(built))
            {
                continue;
            }
            seen += 1;
            if word != DEFAULT_IMAGE {
                let line = text[..at].lines().count().max(1);
                stale.push(format!("{rel}:{line}: {word}"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "these name the project's image otherwise than {DEFAULT_IMAGE}:\n{}",
        stale.join("\n")
    );
    assert!(
        seen >= 20,
        "only {seen} references found: is the walk broken?"
    );
    for file in MUST_NAME_IT {
        let text = std::fs::read_to_string(repo().join(file)).unwrap();
        assert!(
            text.contains(DEFAULT_IMAGE),
            "{file} should name {DEFAULT_IMAGE}"
        );
    }
}
