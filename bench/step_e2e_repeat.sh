#!/usr/bin/env bash
# Runs the end-to-end step suite (tests/e2e_steps.rs) RUNS times in a row and counts: the
# evidence that it is deterministic. Builds the test binary once (in target/e2e-repeat),
# then runs it directly, no cargo in the loop. Stops at the first failure unless
# KEEP_GOING=1; each failing run's output is kept in $LOGS. Load the machine while it runs
# (e.g. a parallel build) to make the point.
#
#   bench/step_e2e_repeat.sh            # 50 runs
#   RUNS=200 KEEP_GOING=1 bench/step_e2e_repeat.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS=${RUNS:-50}
# A target directory of its own: rebuilding while the loop runs must not change the test
# binary or the runner and converter it starts.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/e2e-repeat}
LOGS=${LOGS:-$(mktemp -d /tmp/step-e2e-repeat.XXXXXX)}
bin=$(cargo test -q --test e2e_steps --no-run --message-format=json 2>/dev/null \
    | sed -n 's/.*"executable":"\([^"]*e2e_steps[^"]*\)".*/\1/p' | tail -n 1)
[[ -x "$bin" ]] || { echo "step_e2e_repeat: cannot find the e2e_steps test binary" >&2; exit 1; }
pass=0
fail=0
start=$SECONDS
for ((i = 1; i <= RUNS; i++)); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    if "$bin" >"$LOGS/run-$i.log" 2>&1; then
        pass=$((pass + 1))
        rm -f "$LOGS/run-$i.log"
        printf 'run %d/%d: ok (load %s)\n' "$i" "$RUNS" "$load"
    else
        fail=$((fail + 1))
        printf 'run %d/%d: FAILED (load %s), log: %s\n' "$i" "$RUNS" "$load" "$LOGS/run-$i.log"
        grep -E '^test .*FAILED|panicked' "$LOGS/run-$i.log" | head -n 5
        [[ "${KEEP_GOING:-0}" == 1 ]] || break
    fi
done
echo "e2e step suite: $pass passed, $fail failed, of $((pass + fail)) runs in $((SECONDS - start)) s"
((fail == 0))
