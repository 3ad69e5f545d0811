#!/usr/bin/env bash
# Package the Helm 4 post-renderer plugin (examples/helm/plugin/kueueleuleu) as the
# release tarball `helm plugin install` takes, with Helm 4's own `helm plugin package`.
#
# Usage: .ci/helm-plugin-package.sh [--out DIR]          (default: dist)
# Environment:
#   HELM4=PATH                     the Helm 4 binary (default: .tools/bin/helm4, then helm4, helm)
#   HELM_PLUGIN_SIGN_KEY=NAME      sign with this key (writes the .prov file next to the tarball)
#   HELM_PLUGIN_SIGN_KEYRING=FILE  the secret keyring holding it (legacy gpg format)
#   HELM_PLUGIN_SIGN_PASSPHRASE_FILE=FILE  its passphrase, when it has one
# Without a key the tarball is unsigned; users then install it with --verify=false.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out=dist
while (($#)); do
    case $1 in
        --out) out=$2; shift 2 ;;
        *) echo "helm-plugin-package: unknown argument $1" >&2; exit 2 ;;
    esac
done

helm=${HELM4:-}
if [[ -z "$helm" ]]; then
    for candidate in .tools/bin/helm4 "$(command -v helm4 || true)" "$(command -v helm || true)"; do
        if [[ -n "$candidate" && -x "$candidate" ]] && "$candidate" version --short 2>/dev/null | grep -q '^v4\.'; then
            helm=$candidate
            break
        fi
    done
fi
[[ -n "$helm" ]] || { echo "helm-plugin-package: Helm 4 not found (set HELM4 or run .ci/install-tools.sh)" >&2; exit 1; }

src=examples/helm/plugin/kueueleuleu
crate_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
plugin_version=$(sed -n 's/^version: *//p' "$src/plugin.yaml" | head -n1)
if [[ "$crate_version" != "$plugin_version" ]]; then
    echo "helm-plugin-package: $src/plugin.yaml has version $plugin_version, Cargo.toml $crate_version; they must agree" >&2
    exit 1
fi

mkdir -p "$out"
sign=(--sign=false)
if [[ -n "${HELM_PLUGIN_SIGN_KEY:-}" ]]; then
    sign=(--sign --key "$HELM_PLUGIN_SIGN_KEY" --keyring "${HELM_PLUGIN_SIGN_KEYRING:?set HELM_PLUGIN_SIGN_KEYRING}")
    [[ -n "${HELM_PLUGIN_SIGN_PASSPHRASE_FILE:-}" ]] && sign+=(--passphrase-file "$HELM_PLUGIN_SIGN_PASSPHRASE_FILE")
fi
# Its own config home: packaging reads no user settings.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
HELM_CONFIG_HOME="$tmp/config" HELM_DATA_HOME="$tmp/data" HELM_CACHE_HOME="$tmp/cache" \
    "$helm" plugin package "$src" -d "$out" "${sign[@]}" >&2
tarball="$out/kueueleuleu-$plugin_version.tgz"
[[ -f "$tarball" ]] || { echo "helm-plugin-package: expected $tarball, found: $(ls "$out")" >&2; exit 1; }
echo "$tarball"
