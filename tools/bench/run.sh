#!/bin/sh
# The tools' benchmarks, ours beside the reference binaries (release build):
#
#   tools/bench/run.sh            # all of them
#   tools/bench/run.sh sv_wait    # one: sv_wait, filters or p_log
#
# sv_wait:  how long `sv -w 10 down` and `sv -w 10 up` take to return on a service run by
#           runit's runsv (ours wakes on inotify; runit's sv polls every 420 ms).
# filters:  throughput of tai64n and tai64nlocal on 1,000,000 lines (daemontools' beside ours).
# p_log:    time to print a 20 MB svlogd log directory (21 files) with local-time stamps,
#           against `cat @* current | tai64nlocal` with daemontools' tai64nlocal.
# Every process runs inside a scratch directory and is stopped by pid at the end.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
[ -n "${NO_BUILD:-}" ] || (cd "$ROOT" && cargo build --release -p tools --bins >&2)
BIN=$CARGO_TARGET_DIR/release
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

now_ms() { python3 -c 'import time; print(int(time.monotonic()*1e6))'; }

sv_wait() {
    N=${N:-20}
    svc=$SCRATCH/svc
    mkdir -p "$svc"
    printf '#!/bin/sh\nexec sleep 1000\n' >"$svc/run"
    chmod +x "$svc/run"
    (cd "$SCRATCH" && exec /usr/bin/runsv "$svc" </dev/null >/dev/null 2>&1) &
    PIDS="$PIDS $!"
    sleep 1
    for impl in ours runit; do
        if [ "$impl" = ours ]; then SV=$BIN/sv; else SV=/usr/bin/sv; fi
        python3 - "$SV" "$svc" "$N" "$impl" <<'PY'
import subprocess, sys, time, statistics
sv, svc, n, impl = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
res = {"down": [], "up": []}
for _ in range(n):
    for cmd in ("down", "up"):
        t = time.monotonic()
        out = subprocess.run([sv, "-w", "10", cmd, svc], capture_output=True, text=True)
        res[cmd].append((time.monotonic() - t) * 1000)
        assert out.stdout.startswith("ok:"), out.stdout
    time.sleep(1.1)  # past runsv's 1 s restart throttle
for cmd, v in res.items():
    print(f"sv_wait {impl:5} sv -w 10 {cmd:4}: median {statistics.median(v):7.1f} ms, max {max(v):7.1f} ms ({n} runs)")
PY
    done
}

filters() {
    python3 -c 'import sys
for i in range(1000000): sys.stdout.write("line %d of the benchmark input, some text\n" % i)' >"$SCRATCH/plain"
    /usr/bin/tai64n <"$SCRATCH/plain" >"$SCRATCH/stamped"
    for impl in ours daemontools; do
        if [ "$impl" = ours ]; then D=$BIN; else D=/usr/bin; fi
        for f in tai64n tai64nlocal; do
            if [ "$f" = tai64n ]; then in=$SCRATCH/plain; else in=$SCRATCH/stamped; fi
            t0=$(now_ms)
            TZ=Europe/Berlin "$D/$f" <"$in" >/dev/null
            t1=$(now_ms)
            echo "filters $impl $f: $(( (t1 - t0) / 1000 )) ms for 1000000 lines"
        done
    done
}

p_log() {
    logs=$SCRATCH/logs
    mkdir -p "$logs/big"
    printf 's1000000\nn100\n' >"$logs/big/config"
    python3 -c 'import sys
for i in range(400000): sys.stdout.write("log line %d with some ordinary text in it\n" % i)' |
        /usr/bin/svlogd -tt "$logs/big"
    echo "p_log: $(ls "$logs/big" | grep -c '^@') archives, $(du -sm "$logs/big" | cut -f1) MB"
    t0=$(now_ms)
    TZ=Europe/Berlin SVLOGDIR=$logs "$BIN/p_log" -P big >/dev/null
    t1=$(now_ms)
    echo "p_log ours: $(( (t1 - t0) / 1000 )) ms"
    t0=$(now_ms)
    (cd "$logs/big" && cat @* current | TZ=Europe/Berlin /usr/bin/tai64nlocal >/dev/null)
    t1=$(now_ms)
    echo "p_log reference (cat | daemontools tai64nlocal, -tt stamps left as they are): $(( (t1 - t0) / 1000 )) ms"
}

for b in ${1:-sv_wait filters p_log}; do
    "$b"
done
