#!/bin/sh
# runc, with negative oomScoreAdj values clamped to 0.
#
# The kubelet asks for a negative OOM score (-998 for sandboxes, -997 for
# Guaranteed Pods). Writing one needs CAP_SYS_RESOURCE, which containers such
# as this CI machine's do not have, and runc then fails to start the container.
# containerd runs this wrapper instead of runc (BinaryName in its config); it
# rewrites the OCI spec (`create --bundle DIR`) or the process spec
# (`exec --process FILE`) and hands over to the real runc.
prev=""
for arg in "$@"; do
    case $prev in
        --bundle | -b) spec="$arg/config.json" ;;
        --process | -p) spec="$arg" ;;
    esac
    case $arg in
        --bundle=*) spec="${arg#--bundle=}/config.json" ;;
        --process=*) spec="${arg#--process=}" ;;
    esac
    prev=$arg
done
if [ -n "${spec:-}" ] && [ -f "$spec" ]; then
    sed -i -E 's/"oomScoreAdj": ?-[0-9]+/"oomScoreAdj":0/g' "$spec"
fi
exec /usr/sbin/runc "$@"
