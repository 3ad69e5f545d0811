//! What the command line tells its user on stderr, and how: one place decides whether there
//! is colour, a progress line, or only warnings and errors (`--quiet`), so that every command
//! behaves the same and no orchestrator ever gets escape codes in what it captures.

pub mod progress;
pub mod report;
