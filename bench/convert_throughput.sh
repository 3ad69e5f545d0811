#!/usr/bin/env bash
# Throughput and peak memory of the converter on a large ResourceList, measured with
# /usr/bin/time -v on the release binary. Not a test: it prints figures for the notes.
#
# Usage: bench/convert_throughput.sh [SIZE_MB ...]   (default: 20 100)
# Reports, per size: wall time, MB/s, peak RSS and peak RSS as a multiple of the input, for
# (a) a run where half the Jobs are converted and (b) a run where none is (parse + copy only),
# and the ratio a/b: what the conversion itself costs over reading and writing the stream.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --quiet --bin kueueleuleu
BIN=target/release/kueueleuleu
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

measure() { # measure INPUT -> "seconds peak_kib exit"
    local input=$1
    set +e
    /usr/bin/time -v "$BIN" <"$input" >"$WORK/out.yaml" 2>"$WORK/time.txt"
    local code=$?
    set -e
    local secs kib
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$WORK/time.txt")
    kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
    echo "$secs $kib $code"
}

printf '%-8s %-10s %9s %8s %10s %9s %s\n' size run seconds MB/s peak_MiB peak/input exit
for size in "${@:-20 100}"; do
    python3 bench/gen_resourcelist.py "$size" 2 >"$WORK/half.yaml"
    python3 bench/gen_resourcelist.py "$size" 1000000000 >"$WORK/none.yaml"
    mb=$(du -m --apparent-size "$WORK/half.yaml" | cut -f1)
    declare -A secs
    for run in half none; do
        read -r s kib code < <(measure "$WORK/$run.yaml")
        [[ "$code" == 0 ]] || { echo "run $run exited $code" >&2; tail -5 "$WORK/time.txt" >&2; exit 1; }
        secs[$run]=$s
        awk -v size="${mb}MB" -v run="$run" -v s="$s" -v kib="$kib" -v mb="$mb" 'BEGIN {
            printf "%-8s %-10s %9.2f %8.1f %10.0f %9.1fx %s\n", size, run, s, mb / s, kib / 1024, (kib / 1024) / mb, 0 }'
    done
    awk -v a="${secs[half]}" -v b="${secs[none]}" 'BEGIN { printf "converting half the Jobs costs %.2fx a pass that converts none\n", a / b }'
done
