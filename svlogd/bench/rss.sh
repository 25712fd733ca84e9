#!/bin/sh
# What an idle svlogd keeps resident, ours and runit's: /proc/PID/smaps_rollup and
# /proc/PID/smaps of an svlogd -tt that has logged 1,000 lines and waits for more (`idle`), and
# of the same process after LINES more lines (`burst`: its buffers at their working size).
#
#   svlogd/bench/rss.sh              (scripts/bench.sh runs it with the others)
#
# Implementations: ours (the release build, glibc), ours-musl (static musl), ours-small (the
# smallest multicall binary, build-release.sh --small, through a link named svlogd), runit.
#
# Records `rss STATE IMPL RUN METRIC VALUE` (KiB, from smaps_rollup): rss_kb, pss_kb,
# private_dirty_kb, private_clean_kb, anonymous_kb (anonymous pages: heap, stack, and the
# private copies of written pages of the binary's and libraries' data) and file_kb (Rss minus
# Anonymous: pages of the binary and the libraries as they are on disk, shared with every
# other process that maps them); and `rss-map STATE IMPL RUN MAPPING:rss_kb|private_dirty_kb
# VALUE` by mapping (the binary, each library, [heap], [stack], anonymous maps), from smaps.
#
# Each run measures IDLE idle processes of each implementation (default 8), side by side, and
# takes the first through the burst.
#
# Environment: LINES (the throughput input's size at the scale), RUNS (default 3), IDLE,
# BENCH_DIR, NO_BUILD=1.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/bench/lib.sh"

LINES=${LINES:-$(scaled 2000000 10000)}
ROTATE=${ROTATE:-$(scaled 16777215 4096)}
RUNS=${RUNS:-$(runs 3)}
# Idle loggers measured in each run: the stack's random offset alone moves an idle svlogd's
# private memory by a page from one process to the next (ours and runit's alike).
IDLE=${IDLE:-$(scaled 8 2)}
DIR=${BENCH_DIR:-/dev/shm/svlogd-rss.$$}

. "$ROOT/scripts/bench/builds.sh"
[ -n "${NO_BUILD:-}" ] || build_all
OURS=$B_GLIBC/svlogd
need "$OURS" "$B_MUSL/svlogd" "$B_SMALL" /usr/bin/svlogd

rm -rf "$DIR"
mkdir -p "$DIR"
SV=""
cleanup() {
    # shellcheck disable=SC2086
    [ -z "$SV" ] || kill $SV 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
INPUT=$DIR/input
gen_lines "$LINES" "$INPUT"
applet_dir "$B_SMALL" "$DIR/bin-small"
record rss - - - lines "$LINES"
record rss - - - idle_lines 1000

# lines_in DIR: lines in current and the archives.
lines_in() {
    cat "$1"/current "$1"/@* 2>/dev/null | wc -l
}

# wait_lines DIR N: until DIR holds N lines (bounded: 120 s).
wait_lines() {
    i=0
    while [ "$(lines_in "$1")" -lt "$2" ]; do
        i=$((i + 1))
        [ "$i" -lt 12000 ] || bench_fatal "rss: svlogd wrote $(lines_in "$1") of $2 lines"
        sleep 0.01
    done
}

# measure STATE IMPL PID
measure() {
    awk '/^[A-Za-z_]+:/ { k = $1; sub(/:$/, "", k); v[k] = $2 }
        END {
            print "rss_kb", v["Rss"]; print "pss_kb", v["Pss"]
            print "private_dirty_kb", v["Private_Dirty"]; print "private_clean_kb", v["Private_Clean"]
            print "anonymous_kb", v["Anonymous"]; print "file_kb", v["Rss"] - v["Anonymous"]
        }' "/proc/$3/smaps_rollup" >"$DIR/rollup"
    record_file rss "$1" "$2" "$r" "$DIR/rollup"
    # By mapping: the file's base name, or [heap], [stack], [anon] (no name).
    awk '/^[0-9a-f]+-[0-9a-f]+ / { n = (NF >= 6) ? $6 : "[anon]"; sub(/.*\//, "", n); next }
        /^Rss:/ { rss[n] += $2 } /^Private_Dirty:/ { pd[n] += $2 }
        END { for (n in rss) if (rss[n] > 0) { print n ":rss_kb", rss[n]; print n ":private_dirty_kb", pd[n] } }' \
        "/proc/$3/smaps" | sort >"$DIR/maps"
    while read -r m v; do
        record rss-map "$1" "$2" "$r" "$m" "$v"
    done <"$DIR/maps"
    echo "  rss $1 $2 run $r: $(tr '\n' ' ' <"$DIR/rollup")"
}

echo "rss: idle svlogd -tt, our builds and runit's, $RUNS runs of $IDLE idle processes"
r=0
run=0
while [ "$run" -lt "$RUNS" ]; do
    run=$((run + 1))
    for impl in ours ours-musl ours-small runit; do
        case $impl in
            ours) bin=$OURS ;;
            ours-musl) bin=$B_MUSL/svlogd ;;
            ours-small) bin=$DIR/bin-small/svlogd ;;
            runit) bin=/usr/bin/svlogd ;;
        esac
        # IDLE loggers side by side, each fed 1000 lines through a FIFO held open (the first's
        # by fd 3, the others' by a sleeping writer); each idle one is a record of its own, and
        # the first goes on through the burst.
        pids=""
        holders=""
        j=0
        while [ "$j" -lt "$IDLE" ]; do
            j=$((j + 1))
            d=$DIR/run$j
            rm -rf "$d"
            mkdir -p "$d/log"
            printf 's%s\nn100\n' "$ROTATE" >"$d/log/config"
            mkfifo "$d/in"
            (cd "$d" && exec "$bin" -tt log <in) &
            pids="${pids:+$pids }$!"
            if [ "$j" -eq 1 ]; then
                exec 3>"$d/in"
                head -n 1000 "$INPUT" >&3
            else
                (head -n 1000 "$INPUT" && exec sleep 86400) >"$d/in" &
                holders="${holders:+$holders }$!"
            fi
        done
        SV="$pids $holders"
        j=0
        while [ "$j" -lt "$IDLE" ]; do
            j=$((j + 1))
            wait_lines "$DIR/run$j/log" 1000
        done
        sleep 0.5
        j=0
        for pid in $pids; do
            j=$((j + 1))
            r=$(((run - 1) * IDLE + j))
            measure idle "$impl" "$pid"
        done
        r=$run
        cat "$INPUT" >&3
        wait_lines "$DIR/run1/log" $((LINES + 1000))
        sleep 0.5
        measure burst "$impl" "${pids%% *}"
        exec 3>&-
        # shellcheck disable=SC2086
        kill $holders 2>/dev/null || true
        for pid in $pids; do
            wait "$pid" || bench_fatal "rss: $impl svlogd failed"
        done
        SV=""
    done
done
