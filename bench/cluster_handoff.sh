#!/usr/bin/env bash
# Hand-off figures of the step runner on the real kubelet of the test cluster
# (scripts/cluster/up.sh must be running; needs root for the SIGKILL through containerd).
# Not a test: it asserts nothing about speed, it prints figures.
#
#   warm hand-off  20 steps; the first sleeps 8 s so every other container has started and
#                  its runner waits: the gap (next startedAt - previous finishedAt, from
#                  the runners' records) is the runner's own hand-off.
#   cold hand-off  20 steps of `true` from a cold Pod: gaps include the kubelet starting
#                  containers one by one.
#   total          apply -> Succeeded of the cold 20-step Pod, against the same 20 commands
#                  in one container.
#   SIGKILL        SIGKILL of a running step's container (its runner, through containerd)
#                  -> successors' finishedAt, and -> the Pod seen Failed by a watch.
#
#   ROUNDS=5 bench/cluster_handoff.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=${ROUNDS:-5}
ENV_FILE=${KUEUELEULEU_CLUSTER_ENV:-/var/lib/kueueleuleu/cluster/cluster.env}
[[ -f "$ENV_FILE" ]] || { echo "no test cluster ($ENV_FILE): run scripts/cluster/up.sh" >&2; exit 1; }
# shellcheck disable=SC1090
. "$ENV_FILE"
k() { "$KUBECTL" --kubeconfig "$KUBECONFIG" -n "$NS" "$@"; }
cargo build -q --release --bin kueueleuleu
KLL=target/release/kueueleuleu
NS=kll-bench-$$
"$KUBECTL" --kubeconfig "$KUBECONFIG" create namespace "$NS" >/dev/null
trap '"$KUBECTL" --kubeconfig "$KUBECONFIG" delete namespace "$NS" --wait=false >/dev/null 2>&1 || true' EXIT
until k get serviceaccount default >/dev/null 2>&1; do sleep 0.2; done
WORK=$(mktemp -d)

# pod NAME FIRST_COMMAND N: an annotated Pod of N steps, the first running FIRST_COMMAND.
pod() {
    local name=$1 first=$2 n=$3 i
    printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  annotations:\n    kueueleuleu.io/sequential: "true"\nspec:\n  restartPolicy: Never\n  terminationGracePeriodSeconds: 1\n  containers:\n' "$name"
    printf '  - {name: s1, image: "busybox:1.37", command: ["sh", "-c", "%s"]}\n' "$first"
    for ((i = 2; i <= n; i++)); do
        printf '  - {name: s%d, image: "busybox:1.37", command: ["true"]}\n' "$i"
    done
}

# gaps POD: one gap per line (seconds), from the runners' records in spec order.
gaps() {
    k get pod "$1" -o json | jq -r '
      def t: (sub("\\.[0-9]+Z$"; "Z") | fromdate) + (capture("(?<f>\\.[0-9]+)Z$").f | tonumber);
      [.spec.containers[].name] as $order
      | [.status.containerStatuses[] | {name, r: (.state.terminated.message | fromjson)}]
      | sort_by(.name as $n | $order | index($n)) | map(.r)
      | . as $r | range(1; length) | ($r[.].startedAt | t) - ($r[. - 1].finishedAt | t)'
}

# stats FILE LABEL [s]: median and p99 (nearest rank) of the values (seconds) in FILE,
# printed in ms, or in s with a third argument.
stats() {
    sort -g "$1" | awk -v label="$2" -v unit="${3:-ms}" '{ v[NR] = (unit == "ms") ? $1 * 1000 : $1 } END {
        if (NR == 0) { print label ": no samples"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        p = int(0.99 * NR + 0.999); if (p < 1) p = 1
        printf "%s: median %.2f %s, p99 %.2f %s, max %.2f %s (%d samples)\n", label, m, unit, v[p], unit, v[NR], unit, NR }'
}

now() { date +%s.%N; }

# run_pod NAME YAML: apply (converted), wait for the end; prints apply->end seconds.
run_pod() {
    local t0 t1
    t0=$(now)
    k apply -f - >/dev/null <<<"$2"
    k wait --for=jsonpath='{.status.phase}'=Succeeded --timeout=300s pod/"$1" >/dev/null
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}

: >"$WORK/warm" >"$WORK/cold" >"$WORK/total-steps" >"$WORK/total-one" >"$WORK/kill-succ" >"$WORK/kill-pod"
for ((r = 1; r <= ROUNDS; r++)); do
    run_pod warm-$r "$(pod warm-$r 'sleep 8' 20 | "$KLL" convert 2>/dev/null)" >/dev/null
    gaps warm-$r >>"$WORK/warm"
    run_pod cold-$r "$(pod cold-$r 'true' 20 | "$KLL" convert 2>/dev/null)" >>"$WORK/total-steps"
    gaps cold-$r >>"$WORK/cold"
    one=$(printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: one-%s}\nspec:\n  restartPolicy: Never\n  containers:\n  - {name: all, image: "busybox:1.37", command: ["sh", "-c", "%s"]}\n' \
        "$r" "$(for ((i = 1; i <= 20; i++)); do printf 'true; '; done)")
    run_pod one-$r "$one" >>"$WORK/total-one"

    # SIGKILL: the first step sleeps; kill its container's init (the runner).
    k apply -f - >/dev/null <<<"$(pod kill-$r 'sleep 3600' 3 | "$KLL" convert 2>/dev/null)"
    until [[ -n "$(k get pod kill-$r -o jsonpath='{.status.containerStatuses[?(@.name=="s1")].state.running.startedAt}')" ]]; do sleep 0.1; done
    id=$(k get pod kill-$r -o jsonpath='{.status.containerStatuses[?(@.name=="s1")].containerID}')
    sleep 1
    t0=$(now)
    ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks kill -s SIGKILL "${id#containerd://}"
    k wait --for=jsonpath='{.status.phase}'=Failed --timeout=120s pod/kill-$r >/dev/null
    t1=$(now)
    echo "$t1 - $t0" | bc -l >>"$WORK/kill-pod"
    last=$(k get pod kill-$r -o json | jq -r '.status.containerStatuses[] | select(.name == "s3") | .state.terminated.message | fromjson | .finishedAt')
    python3 -c "import datetime,sys; t=datetime.datetime.strptime(sys.argv[1], '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc).timestamp(); print(t - float(sys.argv[2]))" "$last" "$t0" >>"$WORK/kill-succ"
    k delete pod warm-$r cold-$r one-$r kill-$r --wait=false >/dev/null
    echo "round $r/$ROUNDS done" >&2
done

echo "Kubernetes $KUBERNETES_VERSION, $ROUNDS rounds, $(nproc) CPUs"
stats "$WORK/warm" "warm hand-off (runners already waiting)"
stats "$WORK/cold" "cold-Pod hand-off (containers started by the kubelet meanwhile)"
stats "$WORK/total-steps" "20-step Pod, apply -> Succeeded" s
stats "$WORK/total-one" "same 20 commands in one container, apply -> Succeeded" s
stats "$WORK/kill-succ" "SIGKILL of a step -> last successor's finishedAt"
stats "$WORK/kill-pod" "SIGKILL of a step -> Pod Failed (seen by a watch)" s
rm -rf "$WORK"
