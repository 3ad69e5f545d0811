#!/usr/bin/env bash
# Build the kueueleuleu image offline, from the Dockerfile's final stage, with buildah.
#
# The static binaries are compiled on this machine (.ci/build-static.sh) and handed to the
# Dockerfile as its `build` stage (--build-context), so no base image is pulled and
# `docker build .` and this script give the same image. The image is tagged with the
# converter's default init image (what `kueueleuleu convert` writes into the init
# container), so a converted Pod runs exactly this image.
#
# Usage: .ci/build-image.sh [--out FILE.tar] [--multiarch-out FILE.tar] [--bins DIR]
#   --out FILE            this machine's architecture as a docker-archive (podman load,
#                         docker load, ctr -n k8s.io images import)
#   --multiarch-out FILE  linux/amd64 + linux/arm64 as one manifest list, in an
#                         oci-archive (skopeo copy oci-archive:FILE docker://..., ctr import)
#   --bins DIR            use DIR/kueueleuleu and DIR/kueueleuleu-step (this machine's
#                         architecture) instead of building them
# Prints the image reference on stdout; progress, sizes and digests go to stderr.
# Environment:
#   SOURCE_DATE_EPOCH  image and file timestamps (default: the last commit's time), so a
#                      rebuild of the same commit gives the same image digest
#   ARM64_LINKER       linker for aarch64-unknown-linux-musl (default: rust-lld)
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
OUT="" MULTI_OUT="" BINS=""

while (($#)); do
    case $1 in
        --out) OUT=${2:?--out needs a file}; shift 2 ;;
        --multiarch-out) MULTI_OUT=${2:?--multiarch-out needs a file}; shift 2 ;;
        --bins) BINS=${2:?--bins needs a directory}; shift 2 ;;
        -h | --help)
            sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "build-image: unknown argument: $1" >&2
            exit 2
            ;;
    esac
done
if [[ -z "$OUT" && -z "$MULTI_OUT" ]]; then
    echo "build-image: nothing to do: give --out FILE.tar and/or --multiarch-out FILE.tar" >&2
    exit 2
fi

say() { printf 'build-image: %s\n' "$*" >&2; }
abspath() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd)" "$(basename "$1")"); }
[[ -n "$OUT" ]] && OUT=$(abspath "$OUT")
[[ -n "$MULTI_OUT" ]] && MULTI_OUT=$(abspath "$MULTI_OUT")
[[ -n "$BINS" ]] && BINS=$(cd "$BINS" && pwd)

command -v buildah >/dev/null || {
    say "buildah is not installed (run .ci/install-podman.sh)"
    exit 1
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kueueleuleu-image.XXXXXX")
# A private image store: the build leaves nothing behind and does not depend on (or
# disturb) the machine's container storage settings. vfs needs no kernel support.
STORE=(--root "$WORK/storage" --runroot "$WORK/runroot" --storage-driver vfs)
cleanup() {
    buildah "${STORE[@]}" rm --all >/dev/null 2>&1 || true
    rm -rf "$WORK" 2>/dev/null || { chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"; }
}
trap cleanup EXIT

# platform (linux/ARCH) of a Rust musl target
platform_of() {
    case $1 in
        x86_64-*) echo linux/amd64 ;;
        aarch64-*) echo linux/arm64 ;;
        *) say "no image platform known for $1"; exit 1 ;;
    esac
}

HOST_TARGET=$(uname -m)-unknown-linux-musl

# bins_for TARGET: DIR/out/{kueueleuleu,kueueleuleu-step}, built for TARGET, echoes DIR
bins_for() {
    local target=$1 dir="$WORK/ctx-$1"
    mkdir -p "$dir/out"
    if [[ "$target" == "$HOST_TARGET" && -n "$BINS" ]]; then
        cp "$BINS/kueueleuleu" "$BINS/kueueleuleu-step" "$dir/out/"
    elif [[ "$target" == "$HOST_TARGET" ]]; then
        TARGET=$target "$REPO/.ci/build-static.sh" --out "$dir/out" >&2
    else
        # Cross: rust-lld links musl's self-contained crt objects and libc.a that rustup
        # ships with the target, so no cross C toolchain is needed.
        local var
        var=CARGO_TARGET_$(printf '%s' "$target" | tr 'a-z-' 'A-Z_')_LINKER
        env "$var=${ARM64_LINKER:-rust-lld}" TARGET="$target" \
            "$REPO/.ci/build-static.sh" --out "$dir/out" >&2
    fi
    # A binary of the wrong architecture would only fail on the node that pulls it.
    local want machine b
    case $target in x86_64-*) want='X86-64' ;; aarch64-*) want='AArch64' ;; esac
    for b in kueueleuleu kueueleuleu-step; do
        machine=$(readelf -h "$dir/out/$b" | sed -n 's/^ *Machine: *//p')
        if [[ "$machine" != *"$want"* ]]; then
            say "$b for $target is built for '$machine', not $want"
            exit 1
        fi
    done
    printf '%s\n' "$dir"
}

host_ctx=$(bins_for "$HOST_TARGET")
host_bin="$host_ctx/out/kueueleuleu"

# The one image reference: whatever the converter writes as its init container's image.
REF=$(printf '%s\n' 'apiVersion: v1' 'kind: Pod' 'metadata:' '  name: p' 'spec:' \
    '  restartPolicy: Never' '  containers:' '  - name: a' '    image: x' '    command: ["true"]' \
    | "$host_bin" convert --all 2>/dev/null \
    | sed -n '/name: kueueleuleu-init/,/image:/s/^ *image: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' \
    | head -n 1)
VERSION=$("$host_bin" --version | awk '{print $NF}')
if [[ -z "$REF" || "$REF" != *":v$VERSION" ]]; then
    say "cannot tell the default image reference (got '$REF', version '$VERSION')"
    exit 1
fi
say "image $REF (version $VERSION)"

SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || echo 0)}

# build PLATFORM CTX [buildah args...]: the Dockerfile's final stage for PLATFORM
build() {
    local platform=$1 ctx=$2
    shift 2
    say "buildah build --platform $platform (binaries from ${ctx#"$WORK"/})"
    buildah "${STORE[@]}" build --quiet --target image --platform "$platform" \
        --build-context "build=$ctx" --build-arg "VERSION=$VERSION" \
        --timestamp "$SOURCE_DATE_EPOCH" --format oci --layers=false --identity-label=false \
        -f "$REPO/Dockerfile" "$@" "$REPO" >&2
}

# report REF: size of the image, as stored
report() {
    say "$1 ($2): $(buildah "${STORE[@]}" images --format '{{.Size}}' "$1" | head -n 1)"
}

if [[ -n "$OUT" ]]; then
    build "$(platform_of "$HOST_TARGET")" "$host_ctx" --tag "$REF"
    report "$REF" "$(platform_of "$HOST_TARGET")"
    rm -f "$OUT"
    buildah "${STORE[@]}" push --quiet "$REF" "docker-archive:$OUT:$REF" >&2
    say "wrote $OUT ($(stat -c %s "$OUT") bytes)"
fi

if [[ -n "$MULTI_OUT" ]]; then
    buildah "${STORE[@]}" manifest create "$REF-list" >/dev/null
    for target in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
        if [[ "$target" == "$HOST_TARGET" ]]; then
            ctx=$host_ctx
        else
            ctx=$(bins_for "$target")
        fi
        platform=$(platform_of "$target")
        build "$platform" "$ctx" --tag "$REF-${platform#linux/}" --manifest "$REF-list"
        report "$REF-${platform#linux/}" "$platform"
    done
    listed=$(buildah "${STORE[@]}" manifest inspect "$REF-list")
    for arch in amd64 arm64; do
        if [[ "$listed" != *"\"architecture\": \"$arch\""* ]]; then
            say "the manifest list has no linux/$arch image:"
            printf '%s\n' "$listed" >&2
            exit 1
        fi
    done
    rm -f "$MULTI_OUT"
    buildah "${STORE[@]}" manifest push --quiet --all --format oci "$REF-list" \
        "oci-archive:$MULTI_OUT:$REF" >&2
    say "wrote $MULTI_OUT ($(stat -c %s "$MULTI_OUT") bytes)"
fi

printf '%s\n' "$REF"
