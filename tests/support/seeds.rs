//! The fuzz seeds: every manifest of the collection (`tests/corpus`) and every fixture input,
//! read once per test binary, with the collection's own config. The fuzz test and the
//! parse-once test mutate the same seeds, so a case one of them saves replays in the other.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if ["yaml", "yml", "json"]
            .iter()
            .any(|e| path.extension().is_some_and(|x| x == *e))
        {
            out.push(path);
        }
    }
}

/// Each seed's path and bytes, in path order; empty files are left out.
pub fn seeds() -> &'static [(PathBuf, Vec<u8>)] {
    static SEEDS: OnceLock<Vec<(PathBuf, Vec<u8>)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
        let mut paths = Vec::new();
        collect(&tests.join("corpus"), &mut paths);
        collect(&tests.join("fixtures"), &mut paths);
        paths.retain(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name != "config.yaml" && !name.starts_with("expected")
        });
        paths.sort();
        let seeds: Vec<_> = paths
            .into_iter()
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap();
                (p, bytes)
            })
            .filter(|(_, b)| !b.is_empty())
            .collect();
        assert!(seeds.len() >= 80, "only {} seeds", seeds.len());
        seeds
    })
}

/// The config the collection's manifests are meant to be converted with.
pub fn corpus_config() -> &'static Value {
    static CONFIG: OnceLock<Value> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/kueueleuleu-config.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        serde_yaml::from_str(&text).unwrap()
    })
}
