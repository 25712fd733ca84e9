#!/bin/sh
# Where svlogd -tt spends its time: `perf stat` and `perf record` of our svlogd -tt on the
# throughput benchmark's input (LINES lines of 120 bytes piped by cat from /dev/shm, the log
# directory on /dev/shm, rotating at ROTATE bytes, as in svlogd/bench/throughput.sh).
#
#   svlogd/bench/perf.sh             (scripts/bench.sh runs it with the others)
#
# The binary is the release build with its symbols kept (CARGO_PROFILE_RELEASE_STRIP=none,
# built into $CARGO_TARGET_DIR/perf), otherwise the same. Records:
#   perf stat ours RUN task_clock_ms|context_switches|cpu_migrations|page_faults VALUE
#       (software counters: a virtual machine often has no hardware ones)
#   perf dso NAME 1 pct VALUE       share of svlogd's samples by object: [kernel.kallsyms]
#                                   (the kernel's pipe, tmpfs and page-cache work), svlogd
#                                   itself, libc
#   perf symbol DSO:SYMBOL 1 pct VALUE   the functions with at least 1 % of the samples
#   perf - - - samples N
# The user/kernel split of the same process without perf is in the throughput records
# (user_us, sys_us). When perf cannot run here, the script says so loudly, records
# `perf - - - unavailable REASON` and exits 0, so the rest of the benchmarks still run.
#
# Environment: LINES, ROTATE, RUNS (defaults from BENCH_SCALE, BENCH_RUNS), BENCH_DIR.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/bench/lib.sh"

LINES=${LINES:-$(scaled 2000000 10000)}
ROTATE=${ROTATE:-$(scaled 16777215 4096)}
RUNS=${RUNS:-$(runs 3)}
DIR=${BENCH_DIR:-/dev/shm/svlogd-perf.$$}

unavailable() {
    echo "" >&2
    echo "######################################################################" >&2
    echo "perf.sh: PERF IS NOT AVAILABLE: $*" >&2
    echo "perf.sh: the perf breakdown is left out of the results (Debian: linux-perf)" >&2
    echo "######################################################################" >&2
    echo "" >&2
    record perf - - - unavailable "$*"
    exit 0
}
command -v perf >/dev/null 2>&1 || unavailable "no perf command"
perf stat -e task-clock -o /dev/null -- true >/dev/null 2>&1 ||
    unavailable "perf stat fails: $(perf stat -e task-clock -o /dev/null -- true 2>&1 | head -n 1)"

(cd "$ROOT" && CARGO_PROFILE_RELEASE_STRIP=none cargo build --release --quiet --locked -p svlogd --bin svlogd \
    --target-dir "$CARGO_TARGET_DIR/perf")
BIN=$CARGO_TARGET_DIR/perf/release/svlogd

rm -rf "$DIR"
mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT INT TERM
INPUT=$DIR/input
gen_lines "$LINES" "$INPUT"
record perf - - - lines "$LINES"
record perf - - - rotate_bytes "$ROTATE"
record perf - - - perf_version "$(perf --version 2>&1 | head -n 1)"

fresh() {
    rm -rf "$DIR/run"
    mkdir -p "$DIR/run/log"
    printf 's%s\nn100\n' "$ROTATE" >"$DIR/run/log/config"
}

echo "perf: perf stat of svlogd -tt, $RUNS runs of $LINES lines"
r=0
while [ "$r" -lt "$RUNS" ]; do
    r=$((r + 1))
    fresh
    "$BENCHEXEC" -d "$DIR/run" -c "$INPUT" -r "$DIR/res" -- \
        perf stat -x, -e task-clock,context-switches,cpu-migrations,page-faults -o "$DIR/stat" -- "$BIN" -tt log
    [ "$(value "$DIR/res" status)" = 0 ] || bench_fatal "perf stat svlogd failed"
    # CSV lines: value,unit,event,...
    awk -F, '$3 != "" && $1 ~ /^[0-9.]+$/ { e = $3; gsub(/-/, "_", e); if (e == "task_clock") e = "task_clock_ms"; print e, $1 }' \
        "$DIR/stat" >"$DIR/stat.rec"
    record_file perf stat ours "$r" "$DIR/stat.rec"
    sed 's/^/  perf stat run '"$r"': /' "$DIR/stat.rec"
done

echo "perf: perf record of svlogd -tt"
fresh
"$BENCHEXEC" -d "$DIR/run" -c "$INPUT" -r "$DIR/res" -- \
    perf record -q -F max -o "$DIR/perf.data" -- "$BIN" -tt log
[ "$(value "$DIR/res" status)" = 0 ] || bench_fatal "perf record svlogd failed"
perf report -i "$DIR/perf.data" --stdio --no-children --sort dso 2>/dev/null >"$DIR/dso"
samples=$(sed -n 's/^# Samples: \([0-9.]*[KM]*\).*/\1/p' "$DIR/dso" | head -n 1)
record perf - - - samples "$samples"
awk '/^ *[0-9.]+%/ { p = $1; sub(/%/, "", p); $1 = ""; sub(/^ /, ""); print p "\t" $0 }' "$DIR/dso" |
    while IFS="$(printf '\t')" read -r pct name; do
        record perf dso "$name" 1 pct "$pct"
        echo "  perf dso: $pct % $name"
    done
perf report -i "$DIR/perf.data" --stdio --no-children --sort dso,sym --percent-limit 1 2>/dev/null |
    awk '/^ *[0-9.]+%/ { p = $1; sub(/%/, "", p); d = $2; $1 = ""; $2 = ""; $3 = ""; sub(/^ +/, ""); print p "\t" d ":" substr($0, 1, 80) }' |
    while IFS="$(printf '\t')" read -r pct name; do
        record perf symbol "$name" 1 pct "$pct"
        echo "  perf symbol: $pct % $name"
    done
