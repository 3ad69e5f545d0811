//! Each integration installed with its ecosystem's own command, then used: the Helm 4
//! plugin (from its directory and from the release tarball), Helm 3's `--post-renderer
//! PATH`, the Argo CD plugin's parameters, shell completions and man pages.
//!
//! Missing tools skip (or fail under `CI`) through `tools_support::tool`.

mod tools_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use tools_support::*;

#[path = "e2e_install/argocd.rs"]
mod argocd;
#[path = "e2e_install/catalog.rs"]
mod catalog;
#[path = "e2e_install/docs.rs"]
mod docs;
#[path = "e2e_install/helm.rs"]
mod helm;
