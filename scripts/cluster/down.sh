#!/usr/bin/env bash
# Stop the test cluster started by up.sh and remove everything it owns: its
# containers (killed through its own containerd), its processes (by the pids up.sh
# recorded, and the shims of its containerd), its mounts and CLUSTER_DIR.
# Safe to run when nothing is running.
#
# Usage: scripts/cluster/down.sh [--quiet] [--keep-logs DIR]
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
quiet=0 keep_logs=""
while (($#)); do
    case $1 in
        --quiet) quiet=1; shift ;;
        --keep-logs) keep_logs=${2:?}; shift 2 ;;
        *) die "unknown argument: $1" ;;
    esac
done
[[ -d "$CLUSTER_DIR" ]] || exit 0
[[ $(id -u) == 0 ]] || die "stopping the test cluster needs root"
t0=$SECONDS

# stop NAME: SIGTERM the recorded pid, SIGKILL after 10 s.
stop() {
    local file="$CLUSTER_DIR/pids/$1" pid i
    [[ -f "$file" ]] || return 0
    pid=$(cat "$file")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

stop kubelet
stop kube-scheduler
stop kube-controller-manager
# The Pods' containers: killed and removed through the cluster's own containerd.
if [[ -S "$CONTAINERD_SOCK" ]]; then
    for task in $(ctr_k8s tasks ls -q 2>/dev/null); do
        ctr_k8s tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
    done
    for task in $(ctr_k8s tasks ls -q 2>/dev/null); do
        ctr_k8s tasks delete -f "$task" >/dev/null 2>&1 || true
    done
    for c in $(ctr_k8s containers ls -q 2>/dev/null); do
        ctr_k8s containers delete "$c" >/dev/null 2>&1 || true
    done
fi
stop containerd
# Shims of this containerd that outlived it (they name its socket on their command line).
for pid in $(pgrep -f -- "-address $CONTAINERD_SOCK" || true); do
    kill -KILL "$pid" 2>/dev/null || true
done
stop kube-apiserver
stop etcd

# Network namespaces the CRI created for this cluster's sandboxes, and its bridge.
for ns in /var/run/netns/cni-*; do
    [[ -e "$ns" ]] || continue
    umount "$ns" 2>/dev/null || true
    rm -f "$ns"
done
ip link delete kll0 2>/dev/null || true

# Mounts below CLUSTER_DIR (rootfs overlays, tmpfs volumes), deepest first.
awk -v d="$CLUSTER_DIR" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts |
    sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
# Container logs the kubelet wrote for the tests' namespaces (kll-*) and the bench's.
rm -rf /var/log/pods/kll-*_* 2>/dev/null || true
find /var/log/containers -maxdepth 1 -xtype l -delete 2>/dev/null || true
if [[ -n "$keep_logs" && -d "$CLUSTER_DIR/logs" ]]; then
    mkdir -p "$keep_logs"
    cp -r "$CLUSTER_DIR/logs/." "$keep_logs/"
fi
rm -rf "$CLUSTER_DIR"
((quiet)) || say "cluster stopped in $((SECONDS - t0))s"
