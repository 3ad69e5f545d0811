#!/usr/bin/env bash
# Builds the Go kueueleuleu CLI (github.com/norbjd/kueueleuleu, GPLv3) for the side-by-side
# benchmark in bench/run.sh. Its source is never part of this repository: point
# KUEUELEULEU_GO_SRC at a checkout of it (any directory holding its go.mod), and the binary
# lands in a cache outside the checkout, keyed by a hash of that source, so reruns are free.
#
#   KUEUELEULEU_GO_SRC=/path/to/norbjd-kueueleuleu bench/build_go_cli.sh
#
# Prints the binary's path on stdout. Dependencies come through Go's module proxy.
set -euo pipefail
src=${KUEUELEULEU_GO_SRC:?set KUEUELEULEU_GO_SRC to a checkout of github.com/norbjd/kueueleuleu}
[[ -f "$src/go.mod" && -f "$src/cmd/kueueleuleu/main.go" ]] ||
    { echo "build_go_cli: $src does not hold the Go kueueleuleu (no go.mod or cmd/kueueleuleu)" >&2; exit 1; }
key=$( (cd "$src" && find . -name '*.go' -o -name 'go.mod' -o -name 'go.sum' | LC_ALL=C sort | xargs cat) |
    sha256sum | cut -c1-16)
cache=${KUEUELEULEU_CACHE:-/var/cache/kueueleuleu}/go-cli/$key
bin=$cache/kueueleuleu-go
if [[ ! -x "$bin" ]]; then
    mkdir -p "$cache"
    (cd "$src" && GOFLAGS=-buildvcs=false CGO_ENABLED=0 go build -trimpath \
        -ldflags "-s -w -X main.version=bench-$key" -o "$bin.tmp" ./cmd/kueueleuleu) >&2
    mv "$bin.tmp" "$bin"
fi
echo "$bin"
