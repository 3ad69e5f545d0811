//! Reading what an image runs (ENTRYPOINT, CMD) from its OCI registry, for `kueueleuleu
//! resolve`. The converter and the KRM function never come here: rendering stays offline and
//! reproducible from the `commands` map that `resolve` writes.

pub mod auth;
pub mod client;
pub mod commands_file;
pub mod error;
pub mod platform;
pub mod reference;
pub mod resolve;
pub mod targets;

pub use resolve::{Args, run};
