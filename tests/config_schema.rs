//! The checked-in JSON schema of the function config must match the code. Regenerate it
//! with `UPDATE_EXPECTED=1 cargo test --test config_schema`.

use std::path::Path;

#[test]
fn checked_in_schema_is_current() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("functions/kueueleuleu/config.schema.json");
    let current = kueueleuleu::config::json_schema();
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &current).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if checked_in != current {
        let diff = similar::TextDiff::from_lines(checked_in.as_str(), current.as_str())
            .unified_diff()
            .to_string();
        panic!(
            "{} is stale; run UPDATE_EXPECTED=1 cargo test --test config_schema\n{diff}",
            path.display()
        );
    }
}
