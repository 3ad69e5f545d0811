#!/usr/bin/env bash
# Install the pinned podman and buildah (Debian packages) that build the image
# (.ci/build-image.sh) and run it the way kpt and kustomize do (tests/e2e_image.rs),
# runc (crun rejects this machine's hybrid cgroup layout), and qemu-user, which runs
# the image's arm64 binaries in tests/image_multiarch.rs.
#
# Idempotent: when the pinned versions are installed it only checks them. Needs
# root (apt-get) unless they are already there. Runs on Debian 12 (bookworm); a
# point release that replaced the exact pinned build is accepted when its upstream
# version is the same (Debian keeps only the newest build of a suite).
#
# Usage: .ci/install-podman.sh [--check]
#   --check   install nothing; exit 1 unless the pinned versions are installed.
set -euo pipefail

# package=debian-version; the part before "+ds" is the upstream version that must match.
PINS=(
    podman=4.3.1+ds1-8+deb12u1+b3
    buildah=1.28.2+ds1-3+deb12u1+b3
    runc=1.1.5+ds1-1+deb12u1
    qemu-user=1:7.2+dfsg-7+deb12u18+b3
)
# Unversioned helpers the pinned packages need at run time here.
EXTRA=(uidmap)

say() { printf 'install-podman: %s\n' "$*" >&2; }
installed() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || true; }
upstream() { printf '%s' "${1%%[-+]*}"; }

# ok PKG=VERSION: the package is installed at VERSION, or at a build of the same upstream
ok() {
    local have
    have=$(installed "${1%%=*}")
    [[ -n "$have" && "$(upstream "$have")" == "$(upstream "${1#*=}")" ]]
}

missing=()
for pin in "${PINS[@]}"; do ok "$pin" || missing+=("$pin"); done
for pkg in "${EXTRA[@]}"; do [[ -n "$(installed "$pkg")" ]] || missing+=("$pkg"); done

if ((${#missing[@]} == 0)); then
    say "present: podman $(installed podman), buildah $(installed buildah), runc $(installed runc), qemu-user $(installed qemu-user)"
    exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
    say "missing: ${missing[*]}"
    exit 1
fi
if ! command -v apt-get >/dev/null || ((EUID != 0)); then
    say "missing: ${missing[*]}; install them as root with apt-get (Debian 12)"
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
say "apt-get update"
apt-get update -qq >&2
want=()
for item in "${missing[@]}"; do
    if [[ "$item" == *=* ]]; then
        pkg=${item%%=*} version=${item#*=}
        if apt-cache madison "$pkg" | awk '{print $3}' | grep -qxF "$version"; then
            want+=("$item")
        else
            candidate=$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
            if [[ "$(upstream "$candidate")" != "$(upstream "$version")" ]]; then
                say "$pkg: pinned $version, but the archive offers $candidate; update the pin"
                exit 1
            fi
            say "$pkg: pinned build $version is gone; installing $candidate (same upstream)"
            want+=("$pkg=$candidate")
        fi
    else
        want+=("$item")
    fi
done
say "apt-get install ${want[*]}"
apt-get install -y -q --no-install-recommends "${want[@]}" >&2
for pin in "${PINS[@]}"; do
    ok "$pin" || { say "${pin%%=*}: still not at ${pin#*=}"; exit 1; }
done
say "installed: podman $(installed podman), buildah $(installed buildah), runc $(installed runc), qemu-user $(installed qemu-user)"
