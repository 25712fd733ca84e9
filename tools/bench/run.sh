#!/bin/sh
# The tools' benchmarks, ours beside the reference binaries (release build):
#
#   tools/bench/run.sh            # all of them (scripts/bench.sh runs them with the others)
#   tools/bench/run.sh sv_wait    # one: sv_wait, filters or p_log
#
# Every time is taken by scripts/bench/benchexec around the exec of the program alone (no
# shell, no interpreter start in it), wall-clock.
#
# sv_wait:  how long `sv -w 10 down` and `sv -w 10 up` take to return on a service run by
#           runit's runsv (ours wakes on inotify; runit's sv polls every 420 ms), N times each
#           (20 at full size). Records `tools sv-down|sv-up ours|runit I wall_ns VALUE`.
# filters:  tai64n and tai64nlocal on LINES lines (1,000,000 at full size), daemontools' beside
#           ours, in turns, RUNS times (default 3). Records `tools tai64n|tai64nlocal
#           ours|daemontools RUN wall_ns VALUE`.
# p_log:    printing an svlogd log directory (PLOG_LINES lines, 400,000 at full size, written
#           by runit's svlogd -tt rotating every 1 MB at full size, so 28 files at every
#           scale) with local-time stamps, against
#           `cat @* current | tai64nlocal` with daemontools' tai64nlocal (cat's time counts),
#           RUNS times in turns. Records `tools p_log ours|reference RUN wall_ns VALUE`.
# Every process runs inside a scratch directory and is stopped by pid at the end.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/bench/lib.sh"
[ -n "${NO_BUILD:-}" ] || (cd "$ROOT" && cargo build --release --locked -p tools --bins >&2)
BIN=$CARGO_TARGET_DIR/release
need "$BIN/sv" "$BIN/tai64n" "$BIN/tai64nlocal" "$BIN/p_log" /usr/bin/runsv /usr/bin/sv \
    /usr/bin/tai64n /usr/bin/tai64nlocal /usr/bin/svlogd
RUNS=${RUNS:-$(runs 3)}
SCRATCH=$(mktemp -d /tmp/tools-bench.XXXXXX)
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    for p in /proc/[0-9]*; do
        case "$(readlink "$p/cwd" 2>/dev/null)" in
            "$SCRATCH"*) kill -9 "${p#/proc/}" 2>/dev/null || true ;;
        esac
    done
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

# timed CASE IMPL RUN [benchexec options] -- CMD...: one timed run, recorded.
timed() {
    cs=$1 impl=$2 run=$3
    shift 3
    "$BENCHEXEC" -r "$SCRATCH/res" "$@"
    [ "$(value "$SCRATCH/res" status)" = 0 ] || bench_fatal "tools: $cs $impl exited with status $(value "$SCRATCH/res" status)"
    ns=$(value "$SCRATCH/res" wall_ns)
    record tools "$cs" "$impl" "$run" wall_ns "$ns"
}

sv_wait() {
    N=${N:-$(scaled 20 3)}
    record tools - - - sv_runs "$N"
    svc=$SCRATCH/svc
    mkdir -p "$svc"
    printf '#!/bin/sh\nexec sleep 1000\n' >"$svc/run"
    chmod +x "$svc/run"
    (cd "$SCRATCH" && exec /usr/bin/runsv "$svc" </dev/null >/dev/null 2>&1) &
    PIDS="$PIDS $!"
    sleep 1
    for impl in ours runit; do
        if [ "$impl" = ours ]; then SV=$BIN/sv; else SV=/usr/bin/sv; fi
        i=0
        while [ "$i" -lt "$N" ]; do
            i=$((i + 1))
            for cmd in down up; do
                timed "sv-$cmd" "$impl" "$i" -o "$SCRATCH/out" -- "$SV" -w 10 "$cmd" "$svc"
                grep -q '^ok:' "$SCRATCH/out" || bench_fatal "tools: $SV -w 10 $cmd: $(cat "$SCRATCH/out")"
            done
            sleep 1.1 # past runsv's 1 s restart throttle
        done
        echo "  tools sv_wait $impl: $N runs of sv -w 10 down and up"
    done
}

filters() {
    LINES=${LINES:-$(scaled 1000000 20000)}
    record tools - - - filter_lines "$LINES"
    awk -v n="$LINES" 'BEGIN { for (i = 0; i < n; i++) printf "line %d of the benchmark input, some text\n", i }' >"$SCRATCH/plain"
    /usr/bin/tai64n <"$SCRATCH/plain" >"$SCRATCH/stamped"
    r=0
    while [ "$r" -lt "$RUNS" ]; do
        r=$((r + 1))
        for impl in ours daemontools; do
            if [ "$impl" = ours ]; then D=$BIN; else D=/usr/bin; fi
            for f in tai64n tai64nlocal; do
                if [ "$f" = tai64n ]; then in=$SCRATCH/plain; else in=$SCRATCH/stamped; fi
                TZ=Europe/Berlin timed "$f" "$impl" "$r" -i "$in" -o /dev/null -- "$D/$f"
                echo "  tools $f $impl run $r: $((ns / 1000000)) ms for $LINES lines"
            done
        done
    done
}

p_log() {
    PLOG_LINES=${PLOG_LINES:-$(scaled 400000 10000)}
    logs=$SCRATCH/logs
    mkdir -p "$logs/big"
    printf 's%s\nn1000\n' "$(scaled 1000000 4096)" >"$logs/big/config"
    awk -v n="$PLOG_LINES" 'BEGIN { for (i = 0; i < n; i++) printf "log line %d with some ordinary text in it\n", i }' |
        /usr/bin/svlogd -tt "$logs/big"
    files=$(ls "$logs/big" | grep -c '^@' || true)
    bytes=$(du -bc "$logs/big"/@* "$logs/big/current" 2>/dev/null | tail -n 1 | cut -f1)
    record tools - - - plog_lines "$PLOG_LINES"
    record tools - - - plog_archives "$files"
    record tools - - - plog_bytes "$bytes"
    r=0
    while [ "$r" -lt "$RUNS" ]; do
        r=$((r + 1))
        TZ=Europe/Berlin SVLOGDIR=$logs timed p_log ours "$r" -o /dev/null -- "$BIN/p_log" -P big
        echo "  tools p_log ours run $r: $((ns / 1000000)) ms for $bytes bytes in $files archives and current"
        set --
        for f in "$logs/big"/@*; do [ ! -e "$f" ] || set -- "$@" -c "$f"; done
        TZ=Europe/Berlin timed p_log reference "$r" "$@" -c "$logs/big/current" -o /dev/null -- /usr/bin/tai64nlocal
        echo "  tools p_log reference run $r: $((ns / 1000000)) ms"
    done
}

for b in ${1:-sv_wait filters p_log}; do
    "$b"
done
