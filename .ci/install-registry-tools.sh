#!/usr/bin/env bash
# Build the pinned OCI registry (distribution) and crane that tests/e2e_registry.rs drives,
# into a cache outside the checkout, and link them into $REPO/.tools/bin.
#
# Idempotent: a cached build of the pinned version is reused (a warm run takes well under a
# second), so a clean clone in CI builds them once per cache. Needs Go; modules come from the
# module proxy configured in the environment (GOPROXY).
#
# Usage: .ci/install-registry-tools.sh
# Environment:
#   KUEUELEULEU_GO_TOOLS   cache root (default /var/cache/kueueleuleu/go-tools, or
#                          ~/.cache/kueueleuleu/go-tools when that is not writable).
set -euo pipefail

DISTRIBUTION_VERSION=v3.1.2
CRANE_VERSION=v0.22.1

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="$REPO/.tools/bin"
CACHE=${KUEUELEULEU_GO_TOOLS:-/var/cache/kueueleuleu/go-tools}
if ! mkdir -p "$CACHE" 2>/dev/null || [[ ! -w "$CACHE" ]]; then
    CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/kueueleuleu/go-tools"
    mkdir -p "$CACHE"
fi
mkdir -p "$BIN"

say() { printf 'install-registry-tools: %s\n' "$*" >&2; }

# build NAME PACKAGE VERSION: go install PACKAGE@VERSION into $CACHE/NAME-VERSION/NAME
# (once), then link it as $BIN/NAME.
build() {
    local name=$1 pkg=$2 version=$3
    local dir="$CACHE/$name-$version"
    if [[ ! -x "$dir/$name" ]]; then
        local tmp log="$CACHE/$name-$version.log"
        tmp=$(mktemp -d "$CACHE/.build.XXXXXX")
        say "building $name $version (log: $log)"
        local t0=$SECONDS
        if ! GOBIN="$tmp" GOFLAGS=-mod=mod CGO_ENABLED=0 \
            go install -trimpath -ldflags="-s -w" "$pkg@$version" >"$log" 2>&1; then
            rm -rf "$tmp"
            say "$name $version: build failed; last lines of $log:"
            tail -n 20 "$log" >&2
            return 1
        fi
        rm -rf "$dir"
        mv "$tmp" "$dir"
        say "$name $version built in $((SECONDS - t0))s"
    fi
    ln -sfn "$dir/$name" "$BIN/$name"
}

build registry github.com/distribution/distribution/v3/cmd/registry "$DISTRIBUTION_VERSION"
build crane github.com/google/go-containerregistry/cmd/crane "$CRANE_VERSION"
say "registry $DISTRIBUTION_VERSION and crane $CRANE_VERSION in $BIN"
