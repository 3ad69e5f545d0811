#!/usr/bin/env bash
# Build the Kubernetes binaries of the cluster test tier (kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kubectl) and the pause
# binary, from the k8s.io/kubernetes module on the Go module proxy.
#
# k8s.io/kubernetes's go.mod replaces every k8s.io/* staging module with a
# local ./staging path, so `go install k8s.io/kubernetes/cmd/...@v` is refused.
# A throwaway module that requires k8s.io/kubernetes and replaces each staging
# module by its published v0.<minor>.<patch> builds fine.
#
# Output: $KUEUELEULEU_CACHE/kubernetes/$KUBERNETES_VERSION/bin/, written
# atomically (a build dir renamed into place), so a half-finished build is never
# mistaken for a cached one. A cached build is reused: a warm run takes ~0s.
#
# Usage: scripts/cluster/build-kubernetes.sh [--check]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"

V=$KUBERNETES_VERSION
DEST="$KUEUELEULEU_CACHE/kubernetes/$V"
BIN="$DEST/bin"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)
say() { printf 'build-kubernetes: %s\n' "$*" >&2; }

complete() {
    local b
    for b in "${BINARIES[@]}" pause; do [[ -x "$BIN/$b" ]] || return 1; done
    # (no `| grep -q`: its early exit would fail the pipe under pipefail)
    local out
    out=$("$BIN/kubectl" version --client 2>/dev/null) || return 1
    [[ "$out" == *"Client Version: $V"* ]]
}
if complete; then
    say "Kubernetes $V: cached in $BIN"
    exit 0
fi
[[ "${1:-}" == "--check" ]] && { say "Kubernetes $V: not built"; exit 1; }

mkdir -p "$DEST"
# One build at a time (the tests and CI may both ask).
exec 9>"$DEST/.lock"
flock 9
if complete; then say "Kubernetes $V: cached in $BIN"; exit 0; fi

t0=$SECONDS
WORK="$DEST/build"
rm -rf "$WORK" "$DEST/bin.new"
mkdir -p "$WORK" "$DEST/bin.new"
cd "$WORK"
say "downloading k8s.io/kubernetes@$V"
modjson=$(GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$V")
src=$(printf '%s' "$modjson" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
gomod=$(printf '%s' "$modjson" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')
[[ -d "$src" && -f "$gomod" ]] || { say "could not download k8s.io/kubernetes@$V"; exit 1; }

minor_patch=${V#v1.}   # 37.2
goversion=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")
{
    echo "module kueueleuleu.local/kubernetes-build"
    echo
    echo "go $goversion"
    echo
    echo "require k8s.io/kubernetes $V"
    echo
    echo "replace ("
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod" |
        while read -r m; do echo "	$m => $m v0.$minor_patch"; done
    echo ")"
} >go.mod
{
    echo "//go:build tools"
    echo
    echo "package tools"
    echo
    echo "import ("
    for b in "${BINARIES[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$b\""; done
    echo ")"
} >tools.go
say "go mod tidy"
GOFLAGS=-mod=mod go mod tidy >"$WORK/tidy.log" 2>&1 || { tail -20 "$WORK/tidy.log" >&2; exit 1; }

major=1
minor=${minor_patch%%.*}
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$V -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
pkgs=()
for b in "${BINARIES[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
say "go build ${BINARIES[*]} (cold: many minutes on 2 cores)"
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags="$ldflags" -o "$DEST/bin.new/" "${pkgs[@]}"

say "compiling pause from build/pause/linux/pause.c"
gcc -Os -static -DVERSION="$V" -o "$DEST/bin.new/pause" "$src/build/pause/linux/pause.c"

rm -rf "$BIN"
mv "$DEST/bin.new" "$BIN"
rm -rf "$WORK"
say "built Kubernetes $V in $((SECONDS - t0))s into $BIN"
