#!/bin/sh
# svlogd throughput: our svlogd against runit's svlogd, s6-log, multilog and `cat > file`, on
# the same input in the same run, the loggers taking turns; the selection-pattern rows (issue
# 16.3); and compression, timed until every archive is compressed, beside `gzip -6` on the
# same files.
#
#   svlogd/bench/throughput.sh       (scripts/bench.sh runs it with the others)
#
# Input: LINES lines of 120 bytes (2,000,000 at full size: 240 MB), generated on /dev/shm and
# piped by `cat` into each logger, whose log directory is on /dev/shm (tmpfs) too. Every
# logger rotates at the same size, ROTATE bytes (multilog's maximum, 16777215, at full size;
# scaled with the input, so that the number of rotations is the same at every scale) and
# keeps up to 100 archives (none is deleted): svlogd `sROTATE n100`, s6-log `sROTATE n100`,
# multilog `sROTATE n100`. Each logger runs RUNS times (default 5), in turns, so a busy moment
# of the machine hits them all alike; every run's lines are counted afterwards. The time is
# wall-clock from the start of `cat` to the exit of both, measured by scripts/bench/benchexec
# (no shell in between); peak RSS is the logger's own (wait4's ru_maxrss).
#
# Cases (records `throughput CASE IMPL RUN METRIC VALUE`, metrics wall_ns, maxrss_kb,
# user_us, sys_us, lines, bytes):
#   cat coreutils         `cat > file`, the ceiling
#   plain ours|runit      svlogd without timestamps
#   tt ours|runit         svlogd -tt
#   tt ours-musl          the same, the static musl build (build-release.sh --target MUSL)
#   tt ours-small         the same, the smallest multicall binary (build-release.sh --small)
#   T-local ours          svlogd -T local (local-time stamps)
#   t s6, T s6            s6-log t (TAI64N), s6-log T (ISO 8601)
#   t multilog            multilog t
# Selection patterns, svlogd -tt with one pattern line in `config`, none of which matches a
# line of the input (so every line is searched in full, and every line is logged):
#   regex-literal ours     `~+error`      (a plain word: memchr's search)
#   regex-alternation ours `~+error|warn` (the regular-expression engine)
#   glob ours              `+*error*`     (runit's glob)
# Compression (`compress gzip`, level 6), records `compress gzip ours|gzip RUN ...`: the pipe
# stays open until every archive is compressed; written_ns (all lines written), compressed_ns
# (every archive compressed), compress_cpu_ns (CPU time of svlogd's compression thread),
# archives, archive_bytes; then `gzip -6` compresses the same files' contents, one process:
# its user_us + sys_us.
#
# Environment: LINES, ROTATE, RUNS (defaults from BENCH_SCALE, BENCH_RUNS), BENCH_DIR (default
# /dev/shm/svlogd-bench.PID), NO_BUILD=1 to use the release build that is there.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/bench/lib.sh"

LINES=${LINES:-$(scaled 2000000 10000)}
ROTATE=${ROTATE:-$(scaled 16777215 4096)}
RUNS=${RUNS:-$(runs 5)}
KEEP=100
DIR=${BENCH_DIR:-/dev/shm/svlogd-bench.$$}

. "$ROOT/scripts/bench/builds.sh"
[ -n "${NO_BUILD:-}" ] || build_all
OURS=$B_GLIBC/svlogd
need "$OURS" "$B_MUSL/svlogd" "$B_SMALL" /usr/bin/svlogd /usr/bin/s6-log /usr/bin/multilog gzip

rm -rf "$DIR"
mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT INT TERM
applet_dir "$B_SMALL" "$DIR/bin-small"
INPUT=$DIR/input
echo "throughput: generating $LINES lines of 120 bytes..."
gen_lines "$LINES" "$INPUT"
BYTES=$(wc -c <"$INPUT")
record throughput - - - lines "$LINES"
record throughput - - - bytes "$BYTES"
record throughput - - - rotate_bytes "$ROTATE"
record throughput - - - keep "$KEEP"
record throughput - - - runs "$RUNS"

# count DIR: "lines bytes" of everything a logger wrote into DIR (archives decompressed).
count() {
    for f in "$1"/current "$1"/@* "$1"/out; do
        [ -e "$f" ] || continue
        case $f in *.gz) gzip -dc "$f" ;; *) cat "$f" ;; esac
    done | wc -lc | awk '{ print $1, $2 }'
}

# once BENCH CASE IMPL CONFIG CMD...: one run of `cat input | CMD` in a fresh directory whose
# log/config is CONFIG (printf format; empty: none), timed, its lines counted; the records.
TT_BYTES=""
once() {
    bench=$1 cs=$2 impl=$3 config=$4
    shift 4
    d=$DIR/run
    rm -rf "$d"
    mkdir -p "$d/log"
    [ -z "$config" ] || printf "$config" >"$d/log/config"
    out=""
    [ "$impl" != coreutils ] || out="-o $d/log/out"
    sync
    # shellcheck disable=SC2086
    "$BENCHEXEC" -d "$d" -c "$INPUT" $out -r "$d/res" -- "$@"
    [ "$(value "$d/res" status)" = 0 ] || bench_fatal "$cs $impl exited with status $(value "$d/res" status)"
    set -- $(count "$d/log")
    [ "$1" -eq "$LINES" ] || bench_fatal "$bench $cs $impl: $1 lines logged, want $LINES"
    record_file "$bench" "$cs" "$impl" "$r" "$d/res"
    record "$bench" "$cs" "$impl" "$r" lines "$1"
    record "$bench" "$cs" "$impl" "$r" bytes "$2"
    [ "$cs.$impl" != tt.ours ] || TT_BYTES=$2
    awk -v b="$bench" -v c="$cs" -v i="$impl" -v r="$r" -v ns="$(value "$d/res" wall_ns)" -v kb="$(value "$d/res" maxrss_kb)" \
        'BEGIN { printf "  %-10s %-17s %-9s run %d: %8.3f s, peak %6d KiB\n", b, c, i, r, ns / 1e9, kb }'
    rm -rf "$d"
}

# compress_once: svlogd -tt with `compress gzip`, until every archive is compressed; then gzip
# -6 on the same contents.
compress_once() {
    [ -n "$TT_BYTES" ] || bench_fatal "compress: run after a plain -tt run (its bytes are the log's size)"
    d=$DIR/run
    rm -rf "$d"
    mkdir -p "$d/log" "$d/plain"
    printf 's%s\nn%s\ncompress gzip\n' "$ROTATE" "$KEEP" >"$d/log/config"
    sync
    "$BENCHEXEC" -d "$d" -c "$INPUT" -w "$d/log" -b "$TT_BYTES" -r "$d/res" -- "$OURS" -tt log
    [ "$(value "$d/res" status)" = 0 ] || bench_fatal "compress: svlogd exited with status $(value "$d/res" status)"
    set -- $(count "$d/log")
    [ "$1" -eq "$LINES" ] || bench_fatal "compress: $1 lines logged, want $LINES"
    [ "$(value "$d/res" archives)" -gt 0 ] || bench_fatal "compress: no archive (ROTATE $ROTATE too large for $BYTES bytes?)"
    record_file compress gzip ours "$r" "$d/res"
    record compress gzip ours "$r" lines "$1"
    for f in "$d"/log/@*.s.gz; do
        gzip -dc "$f" >"$d/plain/${f##*/}"
    done
    "$BENCHEXEC" -o /dev/null -r "$d/gz" -- gzip -6 -c "$d"/plain/@*
    [ "$(value "$d/gz" status)" = 0 ] || bench_fatal "gzip -6 failed"
    record_file compress gzip gzip "$r" "$d/gz"
    record compress gzip gzip "$r" bytes "$(cat "$d"/plain/@* | wc -c)"
    awk -v w="$(value "$d/res" written_ns)" -v c="$(value "$d/res" compressed_ns)" -v cpu="$(value "$d/res" compress_cpu_ns)" \
        -v b="$(value "$d/res" archive_bytes)" -v gu="$(value "$d/gz" user_us)" -v gs="$(value "$d/gz" sys_us)" -v r="$r" \
        'BEGIN { printf "  compress   gzip              ours      run %d: written %.3f s, compressed %.3f s, %.1f MB/s of CPU (gzip -6: %.1f)\n",
                 r, w / 1e9, c / 1e9, b / cpu * 1e3, b / (gu + gs) }'
    rm -rf "$d"
}

echo "throughput: $RUNS runs of each logger on $LINES lines ($BYTES bytes), rotating at $ROTATE bytes, in turns"
r=0
while [ "$r" -lt "$RUNS" ]; do
    r=$((r + 1))
    cfg="s$ROTATE\nn$KEEP\n"
    once throughput tt ours "$cfg" "$OURS" -tt log
    once throughput tt runit "$cfg" /usr/bin/svlogd -tt log
    once throughput tt ours-musl "$cfg" "$B_MUSL/svlogd" -tt log
    once throughput tt ours-small "$cfg" "$DIR/bin-small/svlogd" -tt log
    once throughput t s6 "" /usr/bin/s6-log t "s$ROTATE" "n$KEEP" ./log
    once throughput T s6 "" /usr/bin/s6-log T "s$ROTATE" "n$KEEP" ./log
    once throughput t multilog "" /usr/bin/multilog t "s$ROTATE" "n$KEEP" ./log
    once throughput cat coreutils "" cat
    once throughput plain ours "$cfg" "$OURS" log
    once throughput plain runit "$cfg" /usr/bin/svlogd log
    once throughput T-local ours "$cfg" "$OURS" -T local log
    once throughput regex-literal ours "$cfg~+error\n" "$OURS" -tt log
    once throughput regex-alternation ours "$cfg~+error|warn\n" "$OURS" -tt log
    once throughput glob ours "$cfg+*error*\n" "$OURS" -tt log
    compress_once
done
