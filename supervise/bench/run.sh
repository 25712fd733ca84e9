#!/bin/sh
# All supervise benchmarks, ours beside runit's in the same run:
#   supervise/bench/run.sh
# (builds the release binaries first unless NO_BUILD=1; set CARGO_TARGET_DIR to reuse a
# build; BENCH_SCALE scales the sizes, N, R, WINDOW, RUNS override them). Prints one line per
# figure; the raw records go to $BENCH_OUT (scripts/bench/lib.sh).
set -eu
here=$(dirname "$0")
if [ -z "${BENCH_OUT:-}" ]; then
    BENCH_OUT=${CARGO_TARGET_DIR:-$here/../../target}/bench/last.tsv
    mkdir -p "$(dirname "$BENCH_OUT")"
    : >"$BENCH_OUT"
    export BENCH_OUT
fi
"$here/memory.sh"
NO_BUILD=1 "$here/restart.sh"
NO_BUILD=1 "$here/startup.sh"
NO_BUILD=1 "$here/idle.sh"
