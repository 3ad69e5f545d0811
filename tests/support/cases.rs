//! How many generated cases a property test runs: `FUZZ_CASES` when set (long rounds by
//! hand), else the test's own default (what CI runs). One variable for every such test, so
//! one setting lengthens a whole round.

/// `FUZZ_CASES`, or `default` when it is unset or not a number.
pub fn cases(default: u32) -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
