#!/usr/bin/env bash
# What waiting costs: N step runners chained behind a gate step that sleeps, started directly
# on this host (no emulator, so the figures are the runners' own). Reports, while all N wait:
# the CPU they use together (% of one core), inotify instances per runner, threads, memory;
# then how long the chain takes to drain once the gate ends; and what releasing an inotify
# instance costs (plain close against the background thread the runner uses).
# Not a test: it asserts nothing. Run as root for the figures the issue asks about (root's
# inotify instances are what a big Pod run as root exhausts).
#
#   bench/step_wait_cost.sh              # 200 and 1000 steps, 10 s window
#   STEPS="200" WINDOW=20 bench/step_wait_cost.sh
#   RUNNER=/path/to/other/kueueleuleu-step bench/step_wait_cost.sh   # compare a build
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

STEPS=${STEPS:-"200 1000"}
WINDOW=${WINDOW:-10}
if [[ -z "${RUNNER:-}" ]]; then
    cargo build -q --release --bin kueueleuleu-step
    RUNNER=$(cargo metadata --format-version 1 --no-deps \
        | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/kueueleuleu-step
fi
say() { printf '%s\n' "$*"; }

# nanoseconds on a CPU, all threads of the given pids (exited threads are lost: the lock
# watchers and release threads of a waiting runner are alive, so the window is exact)
cpu_ns() {
    cat $(printf '/proc/%s/task/*/schedstat ' "$@") 2>/dev/null | awk '{s += $1} END {printf "%d", s}'
}

inotify_of() { find "/proc/$1/fd" -lname 'anon_inode:inotify' 2>/dev/null | wc -l; }

bench() {
    local n=$1 work pids=() i
    work=$(mktemp -d /tmp/step-wait-cost.XXXXXX)
    for ((i = 0; i <= n; i++)); do mkdir -p "$work/run/$i"; done
    # The gate waits for a file (its own polling is not counted), then succeeds.
    "$RUNNER" run --name gate --run-dir "$work/run/0" --termination-path "$work/term-0" \
        --command-len 3 -- sh -c "until [ -e $work/go ]; do sleep 0.2; done" &
    local gate=$!
    local t0=$SECONDS
    for ((i = 1; i <= n; i++)); do
        "$RUNNER" run --name "s$i" --run-dir "$work/run/$i" --wait-for "$work/run/$((i - 1))" \
            --termination-path "$work/term-$i" --command-len 1 -- true &
        pids+=($!)
    done
    for ((i = 0; i <= n; i++)); do
        until [[ -e "$work/run/$i/lock" ]]; do sleep 0.05; done
    done
    local start_cpu
    start_cpu=$(cpu_ns "${pids[@]}")
    sleep 1 # settle: instances that were needed briefly are released in the background
    local before after ino=0 max_ino=0 c threads=0 rss=0
    before=$(cpu_ns "${pids[@]}")
    sleep "$WINDOW"
    after=$(cpu_ns "${pids[@]}")
    for p in "${pids[@]}"; do
        c=$(inotify_of "$p")
        ino=$((ino + c))
        ((c > max_ino)) && max_ino=$c
        threads=$((threads + $(awk '/^Threads:/ {print $2}' "/proc/$p/status")))
        rss=$((rss + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")))
    done
    say "$n waiting steps (chained behind a gate), ${WINDOW}s window:"
    say "  CPU of all waiting runners together: $(awk -v d=$((after - before)) -v w="$WINDOW" 'BEGIN {printf "%.3f%% of one core (%.1f ms in %d s)", 100 * d / 1e9 / w, d / 1e6, w}')"
    say "  CPU to start, claim and settle (all $n): $(awk -v d="$start_cpu" 'BEGIN {printf "%.0f ms", d / 1e6}') (all claimed $((SECONDS - t0)) s after the first start)"
    say "  inotify instances: $ino in all, at most $max_ino per runner"
    say "  threads: $threads in all ($((threads / n)) per runner); memory (PSS) $((rss / 1024)) MiB in all ($((rss / n)) KiB per runner)"
    local t1
    t1=$(date +%s.%N)
    touch "$work/go"
    wait "$gate" "${pids[@]}" || say "  WARNING: a step failed"
    say "  gate released: the chain of $n steps (each runs true) drained in $(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f ms", 1000 * (b - a)}') (includes up to 200 ms of the gate's own polling)"
    grep -q '"reason":"Succeeded"' "$work/run/$n/done" || say "  WARNING: the last step did not succeed"
    rm -rf "$work"
}

say "runner: $RUNNER"
say "inotify max_user_instances: $(cat /proc/sys/fs/inotify/max_user_instances), user: $(id -un)"
for n in $STEPS; do bench "$n"; done
cargo test -q --lib -- --ignored --exact step::inotify::tests::inotify_release_cost --nocapture 2>/dev/null \
    | grep 'release of'
