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

/// Levenshtein distance, for "did you mean" on short names.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}
