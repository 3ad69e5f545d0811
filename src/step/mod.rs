//! The step runner (`kueueleuleu-step`). Owned by the runner work; see `protocol` for its command line.
