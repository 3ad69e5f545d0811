#!/usr/bin/env bash
# Install the pinned tools the end-to-end tests drive into $REPO/.tools/bin.
#
# Idempotent: a tool whose binary already reports the pinned version is left
# alone, so a warm run takes a second or two. Needs Go (for kustomize, Helm and
# kubectl, which scripts/cluster/build-kubernetes.sh builds with the test
# cluster's binaries, cached outside the checkout), apt (kpt's Debian package)
# and Python 3 with venv (for kubernetes-validate); all fetch from the registries
# configured in the environment (GOPROXY, apt sources, pip's index settings).
#
# Usage: .ci/install-tools.sh [--check]
#   --check   install nothing; list each tool's state and exit 1 if any is missing.
# Environment:
#   KUEUELEULEU_SKIP_HELM4=1   do not build Helm 4 (it is optional for the tests).
#   PYTHON=python3.12          interpreter for the kubernetes-validate venv.
set -euo pipefail

KUSTOMIZE_VERSION=v5.8.1
KPT_VERSION=v1.0.0-beta.56
KPT_DEB_VERSION=528.0.0-0
HELM3_VERSION=v3.19.5
HELM4_VERSION=v4.3.1
# The newest krew the Go module proxy serves; the release check installs the kubectl plugin
# manifest with it.
KREW_VERSION=v0.4.3
KUBERNETES_VALIDATE_VERSION=1.37.0
MUSL_TARGET=x86_64-unknown-linux-musl

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="$REPO/.tools"
BIN="$TOOLS/bin"
LOGS="$TOOLS/logs"
VENV="$TOOLS/venv"
CHECK_ONLY=0
[[ "${1:-}" == "--check" ]] && CHECK_ONLY=1

mkdir -p "$BIN" "$LOGS"
missing=()
start=$SECONDS

say() { printf 'install-tools: %s\n' "$*" >&2; }

# has_version BIN WANT ARGS...: true when `BIN ARGS...` runs and prints WANT
# (with or without the leading "v").
has_version() {
    local bin=$1 want=$2
    shift 2
    [[ -x "$bin" ]] || return 1
    local out
    out=$("$bin" "$@" 2>&1) || return 1
    [[ "$out" == *"$want"* || "$out" == *"${want#v}"* ]]
}

# go_install NAME PACKAGE VERSION LDFLAGS: build PACKAGE@VERSION into $BIN/NAME.
go_install() {
    local name=$1 pkg=$2 version=$3 ldflags=$4
    local tmp log="$LOGS/$name.log"
    tmp=$(mktemp -d "$TOOLS/gobin.XXXXXX")
    say "building $name $version (log: ${log#"$REPO"/})"
    local t0=$SECONDS
    if GOBIN="$tmp" GOFLAGS=-mod=mod CGO_ENABLED=0 \
        go install -trimpath -ldflags="-s -w $ldflags" "$pkg@$version" >"$log" 2>&1; then
        # The binary is named after the last path element that is not a major
        # version suffix (sigs.k8s.io/kustomize/kustomize/v5 -> kustomize).
        local exe=${pkg##*/}
        if [[ "$exe" =~ ^v[0-9]+$ ]]; then
            exe=${pkg%/*}
            exe=${exe##*/}
        fi
        if ! mv -f "$tmp/$exe" "$BIN/$name"; then
            rm -rf "$tmp"
            return 1
        fi
        rm -rf "$tmp"
        say "built $name in $((SECONDS - t0))s"
        return 0
    fi
    rm -rf "$tmp"
    say "go install $pkg@$version failed; last lines of the log:"
    tail -n 5 "$log" >&2
    return 1
}

# --- kustomize (standalone: `kubectl kustomize` cannot run exec functions) ---
if has_version "$BIN/kustomize" "$KUSTOMIZE_VERSION" version; then
    say "kustomize $KUSTOMIZE_VERSION: present"
elif ((CHECK_ONLY)); then
    missing+=(kustomize)
else
    go_install kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION" "" \
        && has_version "$BIN/kustomize" "$KUSTOMIZE_VERSION" version \
        || missing+=(kustomize)
fi

# --- kpt ---
# kpt is not on the Go module proxy; the Debian package google-cloud-cli-kpt (from the
# machine's package registry) carries it. Pinned by package version; it must report
# KPT_VERSION. Linked into .tools/bin.
if has_version "$BIN/kpt" "$KPT_VERSION" version; then
    say "kpt $KPT_VERSION: present"
elif ((CHECK_ONLY)); then
    missing+=(kpt)
else
    if [[ "$(dpkg-query -W -f='${Version}' google-cloud-cli-kpt 2>/dev/null || true)" != "$KPT_DEB_VERSION" ]]; then
        say "apt-get install google-cloud-cli-kpt=$KPT_DEB_VERSION"
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
            --no-install-recommends "google-cloud-cli-kpt=$KPT_DEB_VERSION" >"$LOGS/kpt.log" 2>&1 \
            || say "installing google-cloud-cli-kpt failed (log: ${LOGS#"$REPO"/}/kpt.log)"
    fi
    if has_version /usr/bin/kpt "$KPT_VERSION" version; then
        ln -sf "$(readlink -f /usr/bin/kpt)" "$BIN/kpt"
        say "kpt: linked the Debian package's kpt ($KPT_VERSION) into .tools/bin"
    else
        say "kpt $KPT_VERSION: google-cloud-cli-kpt=$KPT_DEB_VERSION is not installed or reports another version"
        missing+=(kpt)
    fi
fi

# --- kubectl: built with the test cluster's Kubernetes (scripts/cluster/versions.env) ---
# shellcheck source=../scripts/cluster/versions.env
. "$REPO/scripts/cluster/versions.env"
if has_version "$BIN/kubectl" "$KUBERNETES_VERSION" version --client; then
    say "kubectl $KUBERNETES_VERSION: present"
elif ((CHECK_ONLY)); then
    missing+=(kubectl)
elif "$REPO/scripts/cluster/build-kubernetes.sh"; then
    ln -sf "$KUEUELEULEU_CACHE/kubernetes/$KUBERNETES_VERSION/bin/kubectl" "$BIN/kubectl"
    has_version "$BIN/kubectl" "$KUBERNETES_VERSION" version --client || missing+=(kubectl)
else
    missing+=(kubectl)
fi

# install_helm NAME MAJOR VERSION: Helm MAJOR (v3, v4) at VERSION as $BIN/NAME, with the
# version stamped in as a release build would have it (go install leaves it empty).
install_helm() {
    local name=$1 major=$2 version=$3
    if has_version "$BIN/$name" "$version" version --short; then
        say "$name $version: present"
    elif ((CHECK_ONLY)); then
        missing+=("$name")
    else
        # go install names the binary after the package directory; go_install renames it.
        go_install "$name" "helm.sh/helm/$major/cmd/helm" "$version" \
            "-X helm.sh/helm/$major/internal/version.version=$version" \
            && has_version "$BIN/$name" "$version" version --short \
            || missing+=("$name")
    fi
}

# --- Helm 3 (post-renderer as an executable) ---
install_helm helm v3 "$HELM3_VERSION"

# --- Helm 4 (post-renderer as a postrenderer/v1 plugin), installed as helm4 ---
if [[ "${KUEUELEULEU_SKIP_HELM4:-}" == 1 ]]; then
    say "helm4: skipped (KUEUELEULEU_SKIP_HELM4=1)"
else
    install_helm helm4 v4 "$HELM4_VERSION"
fi

# --- krew (the release check installs the kubectl-sequential manifest with it) ---
if has_version "$BIN/krew" "$KREW_VERSION" version; then
    say "krew $KREW_VERSION: present"
elif ((CHECK_ONLY)); then
    missing+=(krew)
elif ! go_install krew sigs.k8s.io/krew/cmd/krew "$KREW_VERSION" \
    "-X sigs.k8s.io/krew/internal/version.gitTag=$KREW_VERSION"; then
    missing+=(krew)
fi

# --- kubernetes-validate (schema check of the converted objects) ---
if has_version "$BIN/kubernetes-validate" "$KUBERNETES_VALIDATE_VERSION" --version; then
    say "kubernetes-validate $KUBERNETES_VALIDATE_VERSION: present"
elif ((CHECK_ONLY)); then
    missing+=(kubernetes-validate)
else
    say "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION into .tools/venv"
    t0=$SECONDS
    if { [[ -x "$VENV/bin/python" ]] || "${PYTHON:-python3}" -m venv "$VENV"; } \
        && "$VENV/bin/python" -m pip install --quiet \
            "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >"$LOGS/kubernetes-validate.log" 2>&1; then
        cat >"$BIN/kubernetes-validate" <<EOF
#!/bin/sh
exec "$VENV/bin/kubernetes-validate" "\$@"
EOF
        chmod 0755 "$BIN/kubernetes-validate"
        say "installed kubernetes-validate in $((SECONDS - t0))s"
    fi
    has_version "$BIN/kubernetes-validate" "$KUBERNETES_VALIDATE_VERSION" --version \
        || missing+=(kubernetes-validate)
fi

# --- Rust target for the static build (.ci/build-static.sh) ---
if rustup target list --installed 2>/dev/null | grep -qx "$MUSL_TARGET"; then
    say "rust target $MUSL_TARGET: present"
elif ((CHECK_ONLY)); then
    missing+=("$MUSL_TARGET")
elif ! rustup target add "$MUSL_TARGET" >"$LOGS/rustup.log" 2>&1; then
    say "rustup target add $MUSL_TARGET failed (static builds unavailable)"
    missing+=("$MUSL_TARGET")
fi

say "done in $((SECONDS - start))s"
if ((${#missing[@]})); then
    say "missing: ${missing[*]}"
    exit 1
fi
