//! Finding the pinned test tools: `.tools/bin` (what `.ci/install-tools.sh` installs) first,
//! then PATH. A missing tool fails the test under `CI` and skips it, loudly, elsewhere.

use std::path::{Path, PathBuf};

/// The tool's path, or `None` after printing why the test is skipped. Panics under `CI`.
pub fn find(name: &str) -> Option<PathBuf> {
    let local = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".tools/bin")
        .join(name);
    if local.is_file() {
        return Some(local);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if on_path.is_some() {
        return on_path;
    }
    let why = format!("{name} is not installed (run .ci/install-tools.sh)");
    if std::env::var_os("CI").is_some() {
        panic!("{why}; CI must run every test");
    }
    eprintln!("SKIPPED: {why}");
    None
}
