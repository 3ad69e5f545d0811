//! Finding the pinned test tools: `.tools/bin` (what `.ci/install-tools.sh` installs) first,
//! then PATH. A missing tool fails the test under `CI` and skips it, loudly, elsewhere.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The tool's path, or `None` after printing why the test is skipped. Panics under `CI`,
/// where every test must run.
pub fn find(name: &str) -> Option<PathBuf> {
    let local = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".tools/bin")
        .join(name);
    if is_executable(&local) {
        return Some(local);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| is_executable(p))
    });
    if on_path.is_some() {
        return on_path;
    }
    let why = format!(
        "`{name}` is not installed: not in .tools/bin (run .ci/install-tools.sh) nor on PATH"
    );
    if std::env::var_os("CI").is_some() {
        panic!("{why}; with CI set every test must run");
    }
    eprintln!("SKIPPED: {why}");
    None
}

/// A file that may be run (a directory or a plain file of the same name on PATH is not the
/// tool).
fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
