# Shared settings of the cluster scripts (sourced, not run).
# shellcheck shell=bash
# shellcheck source=versions.env
. "$(dirname "${BASH_SOURCE[0]}")/versions.env"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
K8S_BIN="$KUEUELEULEU_CACHE/kubernetes/$KUBERNETES_VERSION/bin"
# Everything the running cluster owns: state, logs, pids, kubeconfig. Wiped by down.sh.
CLUSTER_DIR=${KUEUELEULEU_CLUSTER_DIR:-/var/lib/kueueleuleu/cluster}
KUBECONFIG_PATH="$CLUSTER_DIR/kubeconfig"
CONTAINERD_SOCK="$CLUSTER_DIR/run/containerd/containerd.sock"
# The node is named "localhost" so that the API server reaches the kubelet (logs, exec)
# through its Hostname address on the loopback interface: the kubelet refuses a loopback
# node IP, and it must not listen on a public address (anonymous access is on).
NODE_NAME=localhost
# Local images (docker-archive tarballs imported into containerd; nothing is pulled).
PAUSE_IMAGE=registry.k8s.io/pause:kueueleuleu
# busybox under the tags the examples (1.37) and fixtures (1.36) use.
BUSYBOX_IMAGES=(docker.io/library/busybox:1.37 docker.io/library/busybox:1.36)
# Ports, all on 127.0.0.1.
ETCD_PORT=${KUEUELEULEU_ETCD_PORT:-23790}
ETCD_PEER_PORT=${KUEUELEULEU_ETCD_PEER_PORT:-23800}
APISERVER_PORT=${KUEUELEULEU_APISERVER_PORT:-6443}

say() { printf '%s: %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

ctr_k8s() { ctr --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }

# The default init image reference baked into the converter (src/config.rs).
project_image_ref() {
    local v
    v=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$REPO/Cargo.toml" | head -n 1)
    printf 'ghcr.io/kueueleuleu/kueueleuleu:v%s' "$v"
}
