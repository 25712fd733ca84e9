#!/bin/sh
# The main job, live: a small service tree supervised by our runsvdir/runsv, each service
# logging through our svlogd into rotated, timestamped log directories.
#
#   scripts/demo.sh            run for 30 seconds, then stop everything and show the result
#   DEMO_SECONDS=0 scripts/demo.sh   run until Ctrl-C
#
# Everything lives in a fresh directory under /tmp (printed at the start); nothing outside it
# is touched. If runsv/runsvdir have not been built yet, svlogd is fed by a generator instead.
set -eu
cd "$(dirname "$0")/.."

seconds=${DEMO_SECONDS:-30}
echo "demo: building release binaries..."
cargo build --release --bins --quiet
bin=$(pwd)/target/release
export PATH="$bin:$PATH"

demo=$(mktemp -d /tmp/runit-rs-demo.XXXXXX)
services=$demo/service
logs=$demo/log
mkdir -p "$services" "$logs"

# make_service NAME BODY: a service whose ./run executes BODY, logging through svlogd -tt into
# $logs/NAME (rotating at 8 KiB, keeping 5 archives).
make_service() {
    name=$1
    body=$2
    dir=$demo/sv/$name
    mkdir -p "$dir/log" "$logs/$name"
    printf '#!/bin/sh\nexec 2>&1\n%s\n' "$body" >"$dir/run"
    printf '#!/bin/sh\nexec svlogd -tt %s\n' "$logs/$name" >"$dir/log/run"
    chmod 755 "$dir/run" "$dir/log/run"
    printf 's8192\nn5\n' >"$logs/$name/config"
}

make_service clock 'while :; do echo "tick $(date +%T)"; sleep 0.2; done'
make_service counter 'i=0; while :; do i=$((i+1)); echo "line $i of a steady stream"; sleep 0.01; done'
make_service crasher 'echo "starting, will crash in 2 s"; sleep 2; echo "crashing now"; exit 3'
printf '#!/bin/sh\necho "finish: run exited with code $1, status $2"\n' >"$demo/sv/crasher/finish"
chmod 755 "$demo/sv/crasher/finish"
printf 's8192\nn5\n+*\ne*crash*\n' >"$logs/crasher/config"

cleanup() {
    if [ -n "${tree_pid:-}" ]; then
        kill -HUP "$tree_pid" 2>/dev/null || true # runsvdir: TERM every runsv, then exit
        wait "$tree_pid" 2>/dev/null || true
    fi
    for p in ${gen_pids:-}; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

if [ -x "$bin/runsvdir" ] && [ -x "$bin/runsv" ]; then
    for d in "$demo"/sv/*; do ln -s "$d" "$services/"; done
    echo "demo: runsvdir $services (services: clock, counter, crasher), logs in $logs"
    runsvdir -P "$services" "log: ..........................................................." &
    tree_pid=$!
    mode=supervised
else
    echo "demo: runsv/runsvdir not built yet; feeding svlogd from generators, logs in $logs"
    gen_pids=""
    for name in clock counter crasher; do
        (cd "$demo/sv/$name" && while :; do sh ./run; sleep 1; done) |
            svlogd -tt "$logs/$name" &
        gen_pids="$gen_pids $!"
    done
    mode=generator
fi

echo "demo: watch it live from another terminal:"
echo "        ls -l $logs/*/            # current, @<tai64n>.s archives, lock, state"
echo "        tail -f $logs/counter/current"
if [ "$mode" = supervised ]; then
    echo "        SVDIR=$services sv status clock counter crasher"
fi
if [ "$seconds" -eq 0 ]; then
    echo "demo: running until Ctrl-C"
    wait
else
    echo "demo: running for $seconds seconds"
    sleep "$seconds"
fi

if [ "$mode" = supervised ] && [ -x "$bin/sv" ]; then
    echo "demo: status:"
    SVDIR=$services sv status clock counter crasher || true
fi
cleanup
tree_pid=""
gen_pids=""
trap - EXIT INT TERM

echo "demo: log directories:"
for name in clock counter crasher; do
    echo "== $logs/$name"
    ls -l "$logs/$name"
    echo "-- last lines of current:"
    tail -n 3 "$logs/$name/current"
done
echo "demo: done; everything is in $demo (remove it with: rm -rf $demo)"
