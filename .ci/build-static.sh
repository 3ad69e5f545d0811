#!/usr/bin/env bash
# Build kueueleuleu and kueueleuleu-step as static (musl) release binaries,
# check that both really are static, and report their sizes.
#
# The Dockerfile's build stage runs this very script, so the image and a local
# build use the same commands.
#
# Usage: .ci/build-static.sh [--arch ARCH]... [--out DIR]
#   --arch ARCH  x86_64 (or amd64), aarch64 (or arm64), or all (both); may be repeated.
#                Default: $TARGET, else this machine's architecture.
#   --out DIR    also copy the binaries: with one architecture into DIR (the Dockerfile
#                uses /out), with several into DIR/amd64/ and DIR/arm64/.
# Environment:
#   TARGET       one Rust target triple (default: <this machine's arch>-unknown-linux-musl).
#   CARGO_TARGET_<TRIPLE>_LINKER  the linker of a cross target; default rust-lld, which
#                links musl's self-contained crt objects and libc.a that rustup ships with
#                the target, so no cross C toolchain is needed.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HOST_ARCH=$(uname -m)
BINS=(kueueleuleu kueueleuleu-step)
OUT=""
TARGETS=()

add_arch() {
    case $1 in
        x86_64 | amd64) TARGETS+=(x86_64-unknown-linux-musl) ;;
        aarch64 | arm64) TARGETS+=(aarch64-unknown-linux-musl) ;;
        all) TARGETS+=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl) ;;
        *)
            echo "build-static: unknown architecture: $1 (x86_64, aarch64 or all)" >&2
            exit 2
            ;;
    esac
}

while (($#)); do
    case $1 in
        --out)
            OUT=${2:?--out needs a directory}
            shift 2
            ;;
        --arch)
            add_arch "${2:?--arch needs an architecture}"
            shift 2
            ;;
        --arch=*)
            add_arch "${1#--arch=}"
            shift
            ;;
        -h | --help)
            sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "build-static: unknown argument: $1" >&2
            exit 2
            ;;
    esac
done

say() { printf 'build-static: %s\n' "$*" >&2; }

((${#TARGETS[@]})) || TARGETS=("${TARGET:-$HOST_ARCH-unknown-linux-musl}")

cd "$REPO"

# crt-static is the musl default; spelling it out keeps a stray RUSTFLAGS from
# turning it off unnoticed.
export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C target-feature=+crt-static"
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps \
    | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')

# docker's name for the architecture of a target triple (the --out subdirectory)
docker_arch() {
    case $1 in
        x86_64-*) echo amd64 ;;
        aarch64-*) echo arm64 ;;
        *) echo "${1%%-*}" ;;
    esac
}

status=0
for TARGET in "${TARGETS[@]}"; do
    if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$TARGET"; then
        say "adding rust target $TARGET"
        rustup target add "$TARGET"
    fi
    linker_var=CARGO_TARGET_$(printf '%s' "$TARGET" | tr 'a-z-' 'A-Z_')_LINKER
    if [[ "$TARGET" != "$HOST_ARCH"-* && -z "${!linker_var:-}" ]]; then
        export "$linker_var=rust-lld"
        say "$TARGET: cross build, linker rust-lld"
    fi
    args=(build --locked --release --target "$TARGET")
    for b in "${BINS[@]}"; do args+=(--bin "$b"); done
    say "cargo ${args[*]}"
    cargo "${args[@]}"

    dest=$OUT
    if [[ -n "$OUT" ]] && ((${#TARGETS[@]} > 1)); then
        dest=$OUT/$(docker_arch "$TARGET")
    fi
    for b in "${BINS[@]}"; do
        f="$TARGET_DIR/$TARGET/release/$b"
        if [[ ! -x "$f" ]]; then
            say "$b: not built ($f missing)"
            status=1
            continue
        fi
        static=1
        # Ground truth: no program interpreter and no shared-library dependencies.
        if readelf -lW "$f" | grep -q 'Requesting program interpreter'; then
            say "$b: has a program interpreter (dynamically linked)"
            static=0
        fi
        if readelf -dW "$f" 2>/dev/null | grep -q '(NEEDED)'; then
            say "$b: needs shared libraries: $(readelf -dW "$f" | grep '(NEEDED)' | sed 's/.*\[\(.*\)\]/\1/' | paste -sd' ')"
            static=0
        fi
        # What file(1) says, as a second opinion (when it is installed); ldd only
        # understands this machine's architecture.
        if command -v file >/dev/null; then
            desc=$(file -b "$f")
            say "$b ($TARGET): file: $desc"
            [[ "$desc" == *"statically linked"* || "$desc" == *"static-pie linked"* ]] || static=0
        fi
        if [[ "$TARGET" == "$HOST_ARCH"-* ]] && command -v ldd >/dev/null; then
            ldd_out=$(ldd "$f" 2>&1 || true)
            say "$b: ldd: $(printf '%s' "$ldd_out" | head -n 1 | sed 's/^[[:space:]]*//')"
            [[ "$ldd_out" == *"not a dynamic executable"* || "$ldd_out" == *"statically linked"* ]] || static=0
        fi
        size=$(stat -c %s "$f")
        stripped=no
        readelf -SW "$f" | grep -q '\.symtab' || stripped=yes
        say "$b ($TARGET): $size bytes ($(((size + 1023) / 1024)) KiB), stripped: $stripped"
        if ((static)); then
            say "$b ($TARGET): static: yes"
        else
            say "$b ($TARGET): static: NO"
            status=1
        fi
        # A foreign architecture's binary is run once when qemu-user can (a smoke test).
        qemu=qemu-${TARGET%%-*}-static
        if [[ "$TARGET" != "$HOST_ARCH"-* ]] && command -v "$qemu" >/dev/null; then
            if out=$("$qemu" "$f" --version 2>&1); then
                say "$b ($TARGET): runs under $qemu: $out"
            else
                say "$b ($TARGET): does NOT run under $qemu: $out"
                status=1
            fi
        fi
        if [[ -n "$dest" ]]; then
            mkdir -p "$dest"
            cp "$f" "$dest/$b"
        fi
    done
done
exit "$status"
