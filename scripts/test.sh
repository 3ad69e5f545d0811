#!/usr/bin/env bash
# Everything CI checks, from a fresh clone: installs the pinned test tools (kustomize, kpt,
# Helm, kubernetes-validate) into .tools/, then format, lint, every test, and the static build.
# Set CI=1 to make a test that lacks its tool fail instead of skip (.ci/run does).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step "install pinned test tools"
.ci/install-tools.sh
export PATH="$PWD/.tools/bin:$PATH"
.ci/install-registry-tools.sh # pinned registry and crane for tests/e2e_registry.rs

step "install pinned podman, buildah and runc (image build and container-function tests)"
.ci/install-podman.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --all-targets -- -D warnings

step "cargo test"
cargo test --all-targets

step "portable converter: cargo check for Windows and macOS (the step runner is Linux only)"
# Check only: no linker or SDK for these targets is needed.
for t in x86_64-pc-windows-gnu x86_64-apple-darwin; do
    rustup target list --installed | grep -qx "$t" || rustup target add "$t"
    cargo check --locked --target "$t" --lib --bins
    cargo check --locked --target "$t" --profile test --lib --bins
done

step "static (musl) build of both binaries, x86_64 and aarch64"
.ci/build-static.sh --arch all

step "release assets as .github/workflows/release.yml builds them, krew install of the manifest"
.ci/release-build.sh --out target/release-check
