# Shared by the supervise benchmarks: build, scratch directory, service trees, cleanup, and
# the records and scale of scripts/bench/lib.sh (each benchmark appends its raw figures to
# $BENCH_OUT; BENCH_SCALE scales its sizes).
# Every process a benchmark starts runs inside $SCRATCH; cleanup kills exactly those (by pid,
# found through their working directory), never by name.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/bench/lib.sh"
need /usr/bin/runsv /usr/bin/runsvdir python3
# runsv and runsvdir as they are installed: release build, linked static-PIE (see
# scripts/build-release.sh for why only these two).
OURS=$CARGO_TARGET_DIR/static/release
[ -n "${NO_BUILD:-}" ] || (cd "$ROOT" && RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --locked -p supervise --bins --target-dir "$CARGO_TARGET_DIR/static" >&2)
SCRATCH=$(mktemp -d /tmp/supervise-bench.XXXXXX)

# stop_under DIR: kills every process whose working directory is in DIR (by pid), until none
# is left.
stop_under() {
    for _ in 1 2 3; do
        for p in /proc/[0-9]*; do
            case "$(readlink "$p/cwd" 2>/dev/null)" in
                "$1"*) kill -9 "${p#/proc/}" 2>/dev/null || true ;;
            esac
        done
        sleep 0.2
    done
}

cleanup() {
    stop_under "$SCRATCH"
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

# make_tree DIR N MARKER: N services whose run is `exec sleep MARKER`.
make_tree() {
    mkdir -p "$1"
    i=0
    while [ "$i" -lt "$2" ]; do
        mkdir -p "$1/s$i"
        printf '#!/bin/sh\nexec sleep %s\n' "$3" >"$1/s$i/run"
        chmod +x "$1/s$i/run"
        i=$((i + 1))
    done
}

# count_procs ARGV...: live processes whose argv is exactly ARGV.
count_procs() {
    python3 - "$@" <<'PY'
import os, sys
want = ("\0".join(sys.argv[1:]) + "\0").encode()
n = 0
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            if open(f"/proc/{p}/cmdline", "rb").read() == want:
                n += 1
        except OSError:
            pass
print(n)
PY
}
