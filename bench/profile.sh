#!/usr/bin/env bash
# Where the converter's time goes, on the inputs of bench/run.sh: 1,000 Jobs all converted,
# and the 20 MB ResourceList with 1% of objects converted. Builds the `profiling` profile of
# Cargo.toml (release optimisation, with symbols) with frame pointers into target/profile,
# then samples it with `perf record` (software clock, so it works in VMs without hardware
# counters) or, when perf cannot sample, `valgrind --tool=callgrind`.
#
#   bench/profile.sh                # both inputs
#   bench/profile.sh jobs           # one of: jobs mix
#   TOP=40 bench/profile.sh         # more rows
#
# Prints, per input, the hottest functions by self time and by inclusive time (children
# included); the raw profiles stay in target/profile/*.data for `perf report -i`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TOP=${TOP:-25}
out=target/profile
# Frame pointers make perf's call chains cheap and whole (glibc's malloc still has none).
RUSTFLAGS="-C force-frame-pointers=yes" \
    cargo build --profile profiling --quiet --bin kueueleuleu --target-dir "$out"
bin=$out/profiling/kueueleuleu
mkdir -p "$out/inputs"
[[ -s "$out/inputs/jobs1000.yaml" ]] || python3 bench/gen.py jobs 1000 >"$out/inputs/jobs1000.yaml"
[[ -s "$out/inputs/mix20-1pc.yaml" ]] || python3 bench/gen.py mix 20 100 >"$out/inputs/mix20-1pc.yaml"

use_perf=false
if perf record -e cpu-clock -o /dev/null -- true >/dev/null 2>&1; then use_perf=true; fi

profile() { # profile NAME INPUT ARGS...
    local name=$1 input=$2
    shift 2
    echo "=== $name: $bin $* < $input"
    if $use_perf; then
        # 1,000 Jobs take well under a second: repeat the run so the profile has samples.
        local reps=1
        [[ $name == jobs ]] && reps=10
        perf record -q -e cpu-clock -F 4000 --call-graph fp -o "$out/$name.data" -- \
            bash -c 'for ((i = 0; i < '"$reps"'; i++)); do "$0" "$@" <"'"$input"'" >/dev/null || exit 1; done' \
            "$bin" "$@" 2>/dev/null
        echo "--- self time (top $TOP)"
        perf report -i "$out/$name.data" --comm kueueleuleu --no-children --stdio -g none \
            --percent-limit 0.3 2>/dev/null | grep -v '^#' | grep -v '^$' | head -"$TOP"
        echo "--- inclusive time, children included (top $TOP)"
        perf report -i "$out/$name.data" --comm kueueleuleu --children --stdio -g none \
            --percent-limit 2 2>/dev/null | grep -v '^#' | grep -v '^$' | head -"$TOP"
    else
        valgrind --tool=callgrind --callgrind-out-file="$out/$name.callgrind" "$bin" "$@" \
            <"$input" >/dev/null 2>"$out/$name.valgrind.log"
        echo "--- self (top $TOP)"
        callgrind_annotate "$out/$name.callgrind" 2>/dev/null | sed -n "1,$((TOP + 25))p"
        echo "--- inclusive (top $TOP)"
        callgrind_annotate --inclusive=yes "$out/$name.callgrind" 2>/dev/null | sed -n "1,$((TOP + 25))p"
    fi
}

inputs=("$@")
[[ ${#inputs[@]} -gt 0 ]] || inputs=(jobs mix)
for what in "${inputs[@]}"; do
    case $what in
    jobs) profile jobs "$out/inputs/jobs1000.yaml" convert ;;
    mix) profile mix "$out/inputs/mix20-1pc.yaml" ;;
    *) echo "profile.sh: unknown input $what (jobs or mix)" >&2; exit 2 ;;
    esac
done
