//! Which config key a parameter or variable name stands for.

use super::KEYS;

/// The key a parameter or variable name stands for: case and `_`/`-` do not matter
/// (`selectAll`, `SELECTALL`, `SELECT_ALL`).
pub(super) fn key_named(name: &str) -> Option<&'static str> {
    let wanted = normalize(name);
    KEYS.into_iter().find(|k| normalize(k) == wanted)
}

pub(super) fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}
