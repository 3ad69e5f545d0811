#!/usr/bin/env bash
# Captures the Pod, Job and CronJob documents under tests/status/ from a real run on the
# project's test cluster (scripts/cluster/up.sh; this script neither starts nor stops it).
# Usage: tests/status/capture.sh [CONVERTER]   (as root: the PredecessorLost case kills a
# runner through containerd). Rewrites tests/status/*.json; the tests then read them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
env_file=${KUEUELEULEU_CLUSTER_DIR:-/var/lib/kueueleuleu/cluster}/cluster.env
[ -f "$env_file" ] || { echo "capture: no running cluster ($env_file)" >&2; exit 1; }
# shellcheck disable=SC1090
. "$env_file"
export KUBECONFIG
convert=${1:-$here/../../target/debug/kueueleuleu}
ns=kll-status-capture-$$
k() { "$KUBECTL" -n "$ns" "$@"; }
getpod() { k get pod "$1" -o json; }
phase() { k get pod "$1" -o jsonpath='{.status.phase}'; }
until_done() { # POD
    for _ in $(seq 600); do
        case $(phase "$1") in Succeeded|Failed) return 0;; esac
        sleep 0.2
    done
    echo "capture: $1 did not end" >&2; return 1
}
job_done() { # JOB
    for _ in $(seq 600); do
        if k get job "$1" -o json | grep -q '"type": "\(Complete\|Failed\)"'; then return 0; fi
        sleep 0.2
    done
    echo "capture: job $1 did not end" >&2; return 1
}
save() { # FILE < json
    cat >"$here/$1.json"
    echo "capture: $1.json" >&2
}
"$KUBECTL" create namespace "$ns" >/dev/null
trap '"$KUBECTL" delete namespace "$ns" --wait=false >/dev/null 2>&1 || true' EXIT
for m in middle-fails oom lost flaky deadline nightly crashloop unschedulable; do
    "$convert" convert -f "$here/manifests/$m.yaml" | k apply -f - >/dev/null
done
k apply -f "$here/manifests/plain.yaml" >/dev/null
k create job --from=cronjob/nightly nightly-manual >/dev/null
# The staged Pod last, so that its stages are not over before they are watched.
"$convert" convert -f "$here/manifests/steps.yaml" | k apply -f - >/dev/null

# The three-step Pod at each stage: initializing, first step running, second step running
# (the third waiting for it), all done.
step_state() { # POD CONTAINER -> waiting|running|terminated
    k get pod "$1" -o json | doc_state "$2"
}
doc_state() { # CONTAINER < pod json
    jq -r --arg c "$1" '.status.containerStatuses[]? | select(.name == $c) | .state | keys[0]'
}
seen_init= seen_first= seen_second=
for _ in $(seq 600); do
    doc=$(getpod steps)
    prepare=$(printf '%s' "$doc" | doc_state prepare)
    work=$(printf '%s' "$doc" | doc_state work)
    if [ -z "$seen_init" ] && printf '%s' "$doc" | grep -q '"reason": "PodInitializing"'; then
        printf '%s\n' "$doc" | save pod-initializing; seen_init=1
    fi
    if [ -z "$seen_first" ] && [ "$prepare" = running ]; then
        printf '%s\n' "$doc" | save pod-first-running; seen_first=1
    fi
    if [ -z "$seen_second" ] && [ "$prepare" = terminated ] && [ "$work" = running ]; then
        sleep 1; getpod steps | save pod-second-running; seen_second=1
    fi
    case $(printf '%s' "$doc" | jq -r .status.phase) in Succeeded|Failed) break;; esac
    sleep 0.1
done
until_done steps; getpod steps | save pod-succeeded

# Scheduling fails (the condition appears within a second or two).
for _ in $(seq 300); do
    getpod unschedulable | grep -q '"reason": "Unschedulable"' && break
    sleep 0.2
done
getpod unschedulable | save pod-unschedulable


# The runner of `long` killed from the node.
for _ in $(seq 600); do
    [ "$(step_state lost long)" = running ] && k exec lost -c long -- pidof sleep >/dev/null 2>&1 && break
    sleep 0.2
done
id=$(k get pod lost -o jsonpath='{.status.containerStatuses[?(@.name=="long")].containerID}')
ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks kill -s SIGKILL "${id#containerd://}"
until_done lost; getpod lost | save pod-predecessor-lost

until_done oom; getpod oom | save pod-oom-killed
# When the kubelet loses the stopped containers, their statuses say ContainerStatusUnknown
# (seen here under load): that document is its own case.
until_done deadline; doc=$(getpod deadline)
case $doc in
    *ContainerStatusUnknown*) printf '%s\n' "$doc" | save pod-deadline-status-unknown ;;
    *) printf '%s\n' "$doc" | save pod-deadline-exceeded ;;
esac
until_done plain; getpod plain | save pod-not-converted

job_done middle-fails
k get job middle-fails -o json | save job-middle-fails
k get pods -l batch.kubernetes.io/job-name=middle-fails -o json | save job-middle-fails-pods
job_done flaky
k get job flaky -o json | save job-flaky
k get pods -l batch.kubernetes.io/job-name=flaky -o json | save job-flaky-pods
job_done nightly-manual
k get cronjob nightly -o json | save cronjob-nightly
k get jobs -o json | jq '.items |= map(select(.metadata.ownerReferences[0].kind? == "CronJob"))' | save cronjob-nightly-jobs
k get pods -l batch.kubernetes.io/job-name=nightly-manual -o json | save cronjob-nightly-pods

# A step in CrashLoopBackOff between in-place restarts.
for _ in $(seq 600); do
    crash=$(k get pods -l batch.kubernetes.io/job-name=crashloop -o json)
    printf '%s' "$crash" | grep -q '"reason": "CrashLoopBackOff"' && break
    sleep 0.2
done
printf '%s\n' "$crash" | save job-crashloop-pods
