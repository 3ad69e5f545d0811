#!/usr/bin/env bash
# Write a one-layer image as a docker-archive tarball (what `ctr images import`
# and `podman load` read), from a root filesystem directory. No registry, no
# daemon, no base image; the same input gives the same bytes.
#
# Usage: image-archive.sh --ref REF --rootfs DIR --out FILE.tar
#                         [--entrypoint JSON] [--cmd JSON] [--user USER]
#   JSON is an array, e.g. '["/pause"]'.
set -euo pipefail
ref="" rootfs="" out="" entrypoint=null cmd=null user=""
while (($#)); do
    case $1 in
        --ref) ref=$2; shift 2 ;;
        --rootfs) rootfs=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --entrypoint) entrypoint=$2; shift 2 ;;
        --cmd) cmd=$2; shift 2 ;;
        --user) user=$2; shift 2 ;;
        *) echo "image-archive: unknown argument: $1" >&2; exit 2 ;;
    esac
done
[[ -n "$ref" && -d "$rootfs" && -n "$out" ]] || { echo "image-archive: need --ref, --rootfs DIR, --out" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    -C "$rootfs" -cf "$work/layer.tar" .
layer=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir "$work/$layer"
mv "$work/layer.tar" "$work/$layer/layer.tar"
case $(uname -m) in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
jq -cn --arg arch "$arch" --arg layer "sha256:$layer" --arg user "$user" \
    --argjson entrypoint "$entrypoint" --argjson cmd "$cmd" '{
      architecture: $arch, os: "linux", created: "1970-01-01T00:00:00Z",
      config: ({Env: ["PATH=/usr/local/bin:/usr/bin:/bin"], Entrypoint: $entrypoint, Cmd: $cmd}
               + (if $user == "" then {} else {User: $user} end)),
      rootfs: {type: "layers", diff_ids: [$layer]},
      history: [{created: "1970-01-01T00:00:00Z", created_by: "scripts/cluster/image-archive.sh"}]
    }' >"$work/config.json"
config=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/$config.json"
jq -cn --arg config "$config.json" --arg ref "$ref" --arg layer "$layer/layer.tar" \
    '[{Config: $config, RepoTags: [$ref], Layers: [$layer]}]' >"$work/manifest.json"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    -C "$work" -cf "$out.tmp" manifest.json "$config.json" "$layer"
mv "$out.tmp" "$out"
