#!/usr/bin/env bash
# Build the cluster's local images as docker-archive tarballs and import them
# into the cluster's containerd (namespace k8s.io), so the kubelet finds them
# with IfNotPresent/Never and nothing is ever pulled:
#   - the pause image (compiled by build-kubernetes.sh from pause.c);
#   - busybox (busybox-static from Debian), tagged as the examples' busybox:1.36;
#   - the project image (.ci/build-image.sh; holds /usr/local/bin/kueueleuleu-step),
#     tagged with the converter's default init image reference.
#
# Re-run it (or `images.sh project`) after changing the runner: the project image
# is rebuilt and re-imported under the same tag.
#
# Usage: scripts/cluster/images.sh [all|base|project]
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
what=${1:-all}
OUT="$CLUSTER_DIR/images"
mkdir -p "$OUT"

import() {
    local archive=$1 ref=$2
    ctr_k8s images import --no-unpack=false "$archive" >/dev/null 2>"$OUT/import.err" \
        || { cat "$OUT/import.err" >&2; die "importing $archive failed"; }
    # (no `ctr | grep -q`: grep's early exit would fail the pipe under pipefail)
    [[ $'\n'"$(ctr_k8s images ls -q)"$'\n' == *$'\n'"$ref"$'\n'* ]] || die "$ref is not in containerd after importing $archive"
    say "imported $ref"
}

base_images() {
    local root
    root=$(mktemp -d)
    install -D -m 0755 "${PAUSE_BIN:-$K8S_BIN/pause}" "$root/pause"
    "$(dirname "$0")/image-archive.sh" --ref "$PAUSE_IMAGE" --rootfs "$root" \
        --out "$OUT/pause.tar" --entrypoint '["/pause"]' --user 65535:65535
    rm -rf "$root"
    import "$OUT/pause.tar" "$PAUSE_IMAGE"

    root=$(mktemp -d)
    install -D -m 0755 "$(command -v busybox)" "$root/bin/busybox"
    local applet
    while read -r applet; do
        [[ "$applet" == bin/busybox ]] && continue
        mkdir -p "$root/$(dirname "$applet")"
        ln -sf /bin/busybox "$root/$applet"
    done < <(busybox --list-full)
    mkdir -p "$root/etc" "$root/tmp" "$root/root"
    chmod 1777 "$root/tmp"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
    "$(dirname "$0")/image-archive.sh" --ref "${BUSYBOX_IMAGES[0]}" --rootfs "$root" \
        --out "$OUT/busybox.tar" --cmd '["sh"]'
    rm -rf "$root"
    import "$OUT/busybox.tar" "${BUSYBOX_IMAGES[0]}"
    local tag
    for tag in "${BUSYBOX_IMAGES[@]:1}"; do
        ctr_k8s images tag --force "${BUSYBOX_IMAGES[0]}" "$tag" >/dev/null
        say "tagged $tag"
    done
}

# The project image, from its one definition (.ci/build-image.sh: the Dockerfile's
# final stage, built offline with buildah from the static binaries).
project_image() {
    local ref
    ref=$(project_image_ref)
    "$REPO/.ci/build-image.sh" --out "$OUT/project.tar" >&2
    import "$OUT/project.tar" "$ref"
}

case $what in
    all) base_images; project_image ;;
    base) base_images ;;
    project) project_image ;;
    *) die "unknown image set: $what (all, base, project)" ;;
esac
