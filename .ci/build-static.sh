#!/usr/bin/env bash
# Build kueueleuleu and kueueleuleu-step as static (musl) release binaries,
# check that both really are static, and report their sizes.
#
# The Dockerfile's build stage runs this very script, so the image and a local
# build use the same commands.
#
# Usage: .ci/build-static.sh [--out DIR]
#   --out DIR   also copy both binaries into DIR (the Dockerfile uses /out).
# Environment:
#   TARGET      Rust target triple (default: <this machine's arch>-unknown-linux-musl).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${TARGET:-$(uname -m)-unknown-linux-musl}
BINS=(kueueleuleu kueueleuleu-step)
OUT=""

while (($#)); do
    case $1 in
        --out)
            OUT=${2:?--out needs a directory}
            shift 2
            ;;
        -h | --help)
            sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "build-static: unknown argument: $1" >&2
            exit 2
            ;;
    esac
done

say() { printf 'build-static: %s\n' "$*" >&2; }

cd "$REPO"

if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$TARGET"; then
    say "adding rust target $TARGET"
    rustup target add "$TARGET"
fi

# crt-static is the musl default; spelling it out keeps a stray RUSTFLAGS from
# turning it off unnoticed.
export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C target-feature=+crt-static"
args=(build --locked --release --target "$TARGET")
for b in "${BINS[@]}"; do args+=(--bin "$b"); done
say "cargo ${args[*]}"
cargo "${args[@]}"

TARGET_DIR=$(cargo metadata --format-version 1 --no-deps \
    | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
status=0
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
    # What file(1) and ldd(1) say, as a second opinion (when they are installed).
    if command -v file >/dev/null; then
        desc=$(file -b "$f")
        say "$b: file: $desc"
        [[ "$desc" == *"statically linked"* || "$desc" == *"static-pie linked"* ]] || static=0
    fi
    if command -v ldd >/dev/null; then
        ldd_out=$(ldd "$f" 2>&1 || true)
        say "$b: ldd: $(printf '%s' "$ldd_out" | head -n 1 | sed 's/^[[:space:]]*//')"
        [[ "$ldd_out" == *"not a dynamic executable"* || "$ldd_out" == *"statically linked"* ]] || static=0
    fi
    size=$(stat -c %s "$f")
    say "$b: $size bytes ($(((size + 1023) / 1024)) KiB)"
    if ((static)); then
        say "$b: static: yes"
    else
        say "$b: static: NO"
        status=1
    fi
    if [[ -n "$OUT" ]]; then
        mkdir -p "$OUT"
        cp "$f" "$OUT/$b"
    fi
done
exit "$status"
