#!/bin/sh
# Measures the step runner's hand-over time: 20 no-op steps, converted by the real
# `kueueleuleu` binary and run by the kubelet emulator (tests/kubelet), several rounds.
# Reports the gap between one step's end and the next step's start (median, p99), and the
# wall time against the same 20 commands run as one shell script. Not a test: it asserts
# nothing about speed. Needs root or user namespaces, like the e2e tests.
#
#   bench/step_gap.sh            # 5 rounds (100 transitions)
#   ROUNDS=20 bench/step_gap.sh
set -eu
cd "$(dirname "$0")/.."
exec cargo test --release --test e2e_steps -- --ignored --exact bench::step_gap_benchmark --nocapture
