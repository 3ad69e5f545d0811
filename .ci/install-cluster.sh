#!/usr/bin/env bash
# Install what the real-cluster test tier needs: the Debian packages (containerd,
# runc, CNI plugins, etcd, busybox-static for the test image, conntrack/iptables for
# the kubelet) at pinned versions, buildah for the project image (.ci/install-podman.sh),
# and the Kubernetes binaries built from source by
# scripts/cluster/build-kubernetes.sh (cached by version outside the checkout, so a
# warm run takes a second).
#
# Needs root (apt-get, and later the cluster itself).
# Usage: .ci/install-cluster.sh [--check]
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf 'install-cluster: %s\n' "$*" >&2; }

# Debian 12 (bookworm) versions; bump together with scripts/cluster/versions.env.
PACKAGES=(
    containerd=1.6.20~ds1-1+deb12u3
    runc=1.1.5+ds1-1+deb12u1
    containernetworking-plugins=1.1.1+ds1-3+b5
    etcd-server=3.4.23-4+b4
    busybox-static=1:1.35.0-4+deb12u1+b1
    conntrack=1:1.4.7-1+b2
    iptables=1.8.9-2
)

missing=()
for p in "${PACKAGES[@]}"; do
    name=${p%%=*} want=${p#*=}
    have=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)
    [[ "$have" == "$want" ]] || missing+=("$p")
done
if [[ "${1:-}" == --check ]]; then
    ((${#missing[@]} == 0)) || { say "missing: ${missing[*]}"; exit 1; }
    "$REPO/.ci/install-podman.sh" --check
    exec "$REPO/scripts/cluster/build-kubernetes.sh" --check
fi
if ((${#missing[@]})); then
    [[ $(id -u) == 0 ]] || { say "need root to install: ${missing[*]}"; exit 1; }
    say "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
        --no-install-recommends "${missing[@]}" >/tmp/install-cluster-apt.log 2>&1 || {
        # The package lists may be stale on a fresh machine.
        apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
            --no-install-recommends "${missing[@]}" >/tmp/install-cluster-apt.log 2>&1
    } || { tail -20 /tmp/install-cluster-apt.log >&2; exit 1; }
else
    say "Debian packages: present"
fi
"$REPO/.ci/install-podman.sh"
"$REPO/scripts/cluster/build-kubernetes.sh"
