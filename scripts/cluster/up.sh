#!/usr/bin/env bash
# Start the single-node test cluster: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, containerd (runc) and the kubelet, all on 127.0.0.1, plus the local
# images (images.sh). Needs root, the Debian packages of .ci/install-cluster.sh and
# the binaries of build-kubernetes.sh (built here when missing).
#
# A cluster left over from an earlier run is stopped first (down.sh), so every run
# starts from an empty etcd and empty containerd. On success it prints
#   KUEUELEULEU_KUBECONFIG=<path>
# on stdout (for `eval`/`export`), and the kubeconfig stays at that path until down.sh.
#
# Usage: scripts/cluster/up.sh [--timeout SECONDS]   (default 240)
set -euo pipefail
SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$SCRIPTS/lib.sh"
timeout=240
[[ "${1:-}" == --timeout ]] && timeout=${2:?--timeout needs seconds}
t0=$SECONDS

[[ $(id -u) == 0 ]] || die "the test cluster needs root (kubelet, containerd, runc)"
for tool in containerd runc ctr etcd busybox openssl jq buildah /usr/lib/cni/bridge; do
    command -v "$tool" >/dev/null || die "$tool is missing: run .ci/install-cluster.sh"
done
"$SCRIPTS/build-kubernetes.sh"

"$SCRIPTS/down.sh" --quiet
t0=$SECONDS # the timeout covers the start, not a first build of the binaries
mkdir -p "$CLUSTER_DIR"/{logs,pids,pki,cni,etcd,kubelet}
PKI="$CLUSTER_DIR/pki"
LOGS="$CLUSTER_DIR/logs"

render() { # render TEMPLATE OUT
    sed -e "s#@CLUSTER_DIR@#$CLUSTER_DIR#g" -e "s#@CONTAINERD_SOCK@#$CONTAINERD_SOCK#g" \
        -e "s#@PAUSE_IMAGE@#$PAUSE_IMAGE#g" -e "s#@SCRIPTS@#$SCRIPTS#g" "$1" >"$2"
}

# start NAME CMD...: run a component in its own session, log and pid in CLUSTER_DIR.
start() {
    local name=$1
    shift
    setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
    echo $! >"$CLUSTER_DIR/pids/$name"
}

# wait_for WHAT CMD...: retry CMD until it succeeds or the deadline passes.
wait_for() {
    local what=$1
    shift
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS - t0 > timeout)); then
            say "timed out after ${timeout}s waiting for $what; last log lines:"
            tail -n 15 "$LOGS"/*.log >&2 || true
            exit 1
        fi
        local name pid
        for name in "$CLUSTER_DIR"/pids/*; do
            pid=$(cat "$name")
            kill -0 "$pid" 2>/dev/null && continue
            say "$(basename "$name") exited while waiting for $what; its log:"
            tail -n 30 "$LOGS/$(basename "$name").log" >&2
            exit 1
        done
        sleep 0.5
    done
    say "$what: ready at $((SECONDS - t0))s"
}

# --- keys and certificates (fresh per cluster) ---
(
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout ca.key -out ca.crt \
        -subj /CN=kueueleuleu-test-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj /CN=kube-apiserver
    printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile apiserver.ext -out apiserver.crt
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
) >"$LOGS/pki.log" 2>&1 || { cat "$LOGS/pki.log" >&2; die "openssl failed"; }
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s,kueueleuleu-admin,kueueleuleu-admin,system:masters\n' "$token" >"$PKI/tokens.csv"
chmod 0600 "$PKI"/*.key "$PKI/tokens.csv"
cat >"$KUBECONFIG_PATH.tmp" <<EOK
apiVersion: v1
kind: Config
clusters:
- name: kueueleuleu
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: admin
  user:
    token: $token
contexts:
- name: kueueleuleu
  context: {cluster: kueueleuleu, user: admin, namespace: default}
current-context: kueueleuleu
EOK
chmod 0600 "$KUBECONFIG_PATH.tmp"
mv "$KUBECONFIG_PATH.tmp" "$KUBECONFIG_PATH"
kubectl() { "$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

# --- etcd ---
start etcd etcd --name kueueleuleu --data-dir "$CLUSTER_DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "kueueleuleu=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --snapshot-count 100000 --log-level warn

# --- containerd (started alongside, it does not need the API) ---
render "$SCRIPTS/containerd.toml.in" "$CLUSTER_DIR/containerd.toml"
cp "$SCRIPTS/cni.conflist" "$CLUSTER_DIR/cni/10-kueueleuleu.conflist"
start containerd containerd --config "$CLUSTER_DIR/containerd.toml"

# --- kube-apiserver ---
wait_for etcd curl -fsS "http://127.0.0.1:$ETCD_PORT/health"
start kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --token-auth-file "$PKI/tokens.csv" --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range 10.96.0.0/24 \
    --kubelet-preferred-address-types Hostname \
    --endpoint-reconciler-type none \
    --allow-privileged=true --profiling=false --cert-dir "$PKI/apiserver-generated"

wait_for containerd ctr --address "$CONTAINERD_SOCK" version
"$SCRIPTS/images.sh" base &
images_pid=$!

wait_for kube-apiserver kubectl get --raw /readyz

# --- controller manager, scheduler ---
start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig "$KUBECONFIG_PATH" --leader-elect=false \
    --bind-address 127.0.0.1 --secure-port 10257 \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --use-service-account-credentials=false --allocate-node-cidrs=false
start kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig "$KUBECONFIG_PATH" --leader-elect=false \
    --bind-address 127.0.0.1 --secure-port 10259

# --- kubelet (after the pause image is in containerd) ---
wait "$images_pid" || die "importing the base images failed"
render "$SCRIPTS/kubelet.yaml.in" "$CLUSTER_DIR/kubelet.yaml"
printf 'nameserver 127.0.0.1\n' >"$CLUSTER_DIR/resolv.conf"
start kubelet "$K8S_BIN/kubelet" \
    --config "$CLUSTER_DIR/kubelet.yaml" --kubeconfig "$KUBECONFIG_PATH" \
    --root-dir "$CLUSTER_DIR/kubelet" --hostname-override "$NODE_NAME"

# --- the project image, built while the node registers ---
"$SCRIPTS/images.sh" project

node_ready() {
    [[ $(kubectl get node "$NODE_NAME" \
        -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}') == True ]]
}
wait_for "node $NODE_NAME Ready" node_ready
wait_for "default service account" kubectl -n default get serviceaccount default
wait_for "kube-root-ca.crt" kubectl -n default get configmap kube-root-ca.crt

# What the tests need to find this cluster (tests/cluster_support reads it).
cat >"$CLUSTER_DIR/cluster.env" <<EOE
KUBECONFIG=$KUBECONFIG_PATH
KUBECTL=$K8S_BIN/kubectl
CONTAINERD_SOCK=$CONTAINERD_SOCK
NODE_NAME=$NODE_NAME
KUBERNETES_VERSION=$KUBERNETES_VERSION
PROJECT_IMAGE=$(project_image_ref)
EOE
say "cluster up in $((SECONDS - t0))s (Kubernetes $KUBERNETES_VERSION)"
echo "KUEUELEULEU_KUBECONFIG=$KUBECONFIG_PATH"
