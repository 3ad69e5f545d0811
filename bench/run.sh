#!/usr/bin/env bash
# The converter's and the runner's speed and memory against the targets of issue 13 (and
# item 10 of issue 7), in one command. Not a test: it prints a table and asserts only that
# every measured output is right.
#
#   bench/run.sh                 # every section: 1 2 3 5 (section 4, the Go CLI, is in 2)
#   bench/run.sh 2               # only some sections
#   RUNS=7 BIG_RUNS=5 STEP_RUNS=500 JOB_COUNTS="100 1000" MIX_SIZES="20" bench/run.sh
#
# The Go kueueleuleu CLI column needs its source: KUEUELEULEU_GO_SRC=/path/to/checkout
# (github.com/norbjd/kueueleuleu; bench/build_go_cli.sh builds it into a cache outside this
# checkout), or a built binary in KUEUELEULEU_GO_BIN. Without either the column is skipped.
# Inputs are generated into a temporary directory (BENCH_WORK to keep and reuse them:
# the 100 MB one takes a while to write).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --release --quiet --bin kueueleuleu --bin kueueleuleu-step
tool_dir=target/bench-tool
cargo build --release --quiet --manifest-path bench/floor/Cargo.toml --target-dir "$tool_dir"
export BENCH_TOOL=$PWD/$tool_dir/release/kueueleuleu-bench

# The runner as the image ships it (static, musl), when that Rust target is installed.
export BENCH_STEP_STATIC=""
musl=$(uname -m)-unknown-linux-musl
if rustup target list --installed 2>/dev/null | grep -qx "$musl"; then
    RUSTFLAGS="-C target-feature=+crt-static" \
        cargo build --release --quiet --target "$musl" --bin kueueleuleu-step
    BENCH_STEP_STATIC=$PWD/target/$musl/release/kueueleuleu-step
else
    echo "bench: Rust target $musl not installed: the static runner row is skipped" >&2
fi

# The floor must use the YAML crates the converter uses, at the same versions.
locked() { # locked LOCKFILE CRATE -> version
    awk -v name="$2" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' "$1"
}
crates=""
for crate in yaml_serde saphyr-parser libyaml-rs; do
    ours=$(locked Cargo.lock "$crate")
    floor=$(locked bench/floor/Cargo.lock "$crate")
    [[ "$ours" == "$floor" ]] || {
        echo "bench: the floor uses $crate $floor but the converter $ours: update bench/floor" >&2
        exit 1
    }
    crates+="$crate $ours, "
done
export BENCH_CRATES=${crates%, }

export BENCH_GO_CLI="" BENCH_GO_VERSION="absent"
if [[ -n "${KUEUELEULEU_GO_BIN:-}" ]]; then
    BENCH_GO_CLI=$KUEUELEULEU_GO_BIN
elif [[ -n "${KUEUELEULEU_GO_SRC:-}" ]]; then
    BENCH_GO_CLI=$(bench/build_go_cli.sh)
else
    echo "bench: the Go kueueleuleu CLI is absent (set KUEUELEULEU_GO_SRC or KUEUELEULEU_GO_BIN); its column is skipped" >&2
fi
if [[ -n "$BENCH_GO_CLI" ]]; then
    src=${KUEUELEULEU_GO_SRC:-}
    rev=$(git -C "${src:-/nonexistent}" rev-parse --short HEAD 2>/dev/null || echo "build ${BENCH_GO_CLI##*/go-cli/}")
    BENCH_GO_VERSION="github.com/norbjd/kueueleuleu $rev, $(go version 2>/dev/null | cut -d' ' -f3 || echo 'go ?')"
fi

exec python3 bench/run.py "$@"
