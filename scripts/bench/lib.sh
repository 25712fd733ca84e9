# Shared by every benchmark script (sourced; each script sets ROOT to the checkout first):
# the scale, raw records, the C helpers, loud failures.
#
# Records: one line each, tab-separated, appended to $BENCH_OUT (scripts/bench.sh sets it;
# a script run on its own writes to $CARGO_TARGET_DIR/bench/last.tsv):
#
#   bench <TAB> case <TAB> impl <TAB> run <TAB> metric <TAB> value
#
# `run` is the run's number (1, 2, ...), or `-` for a setting of the benchmark (its sizes).
# Values are raw: nanoseconds, kilobytes, counts, as measured; scripts/bench-tables.sh
# computes medians, spreads and ratios from them.
#
# BENCH_SCALE (default 1, the full size; scripts/bench.sh --quick sets 0.05) multiplies every
# size (lines, services, kills, windows); BENCH_RUNS (default: each benchmark's own) sets the
# number of runs of the benchmarks that repeat.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case $CARGO_TARGET_DIR in /*) ;; *) CARGO_TARGET_DIR=$ROOT/$CARGO_TARGET_DIR ;; esac
BENCH_SCALE=${BENCH_SCALE:-1}
if [ -z "${BENCH_OUT:-}" ]; then
    mkdir -p "$CARGO_TARGET_DIR/bench"
    BENCH_OUT=$CARGO_TARGET_DIR/bench/last.tsv
    : >"$BENCH_OUT"
    echo "records: $BENCH_OUT" >&2
fi
export BENCH_SCALE BENCH_OUT

bench_fatal() {
    echo "benchmark: fatal: $*" >&2
    exit 111
}

# scaled BASE [MIN]: BASE times the scale, rounded, at least MIN (default 1).
scaled() {
    awk -v b="$1" -v s="$BENCH_SCALE" -v m="${2:-1}" 'BEGIN { v = int(b * s + 0.5); if (v < m) v = m; print v }'
}

# runs DEFAULT: the number of runs, BENCH_RUNS if set.
runs() {
    echo "${BENCH_RUNS:-$1}"
}

# record BENCH CASE IMPL RUN METRIC VALUE
record() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" >>"$BENCH_OUT"
}

# record_file BENCH CASE IMPL RUN FILE: every `metric value` line of FILE (benchexec's -r).
record_file() {
    while read -r m v; do
        record "$1" "$2" "$3" "$4" "$m" "$v"
    done <"$5"
}

# value FILE METRIC: one value from a benchexec result file.
value() {
    awk -v m="$2" '$1 == m { print $2 }' "$1"
}

# need PATH...: each must be an executable, or the script stops and says which.
need() {
    for t in "$@"; do
        case $t in
            /*) [ -x "$t" ] || bench_fatal "missing $t (scripts/bench.sh installs the Debian packages the benchmarks use)" ;;
            *) command -v "$t" >/dev/null 2>&1 || bench_fatal "missing $t (scripts/bench.sh installs the Debian packages the benchmarks use)" ;;
        esac
    done
}

# bench_tool SOURCE.c: compiles a C helper with cc (once, again when the source is newer)
# into $CARGO_TARGET_DIR/bench/ and prints its path.
bench_tool() {
    src=$1
    name=$(basename "$src" .c)
    bin=$CARGO_TARGET_DIR/bench/$name
    need cc
    mkdir -p "$CARGO_TARGET_DIR/bench"
    if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
        cc -O2 -Wall -o "$bin.tmp" "$src" || bench_fatal "cc could not build $src"
        mv "$bin.tmp" "$bin"
    fi
    echo "$bin"
}

BENCHEXEC=$(bench_tool "$ROOT/scripts/bench/benchexec.c")

# gen_lines N FILE: N lines of 120 bytes (numbered; no line contains "error" or "warn").
gen_lines() {
    awk -v n="$1" 'BEGIN {
        pad = "the quick brown fox jumps over the lazy dog, while a log line of typical length goes by"
        for (i = 0; i < n; i++) printf "%010d %s %020d\n", i, pad, i
    }' >"$2"
}

# loadavg: the three load averages.
loadavg() {
    cut -d' ' -f1-3 /proc/loadavg
}
