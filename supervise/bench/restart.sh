#!/bin/sh
# Restart latency: a long-running service (up more than a second) is killed; time until its
# runsv has started the next one (new pid in supervise/pid), ours and runit's, R kills each
# (10 at full size). Records `restart kill IMPL I latency_ms VALUE`, one I per kill.
. "$(dirname "$0")/common.sh"
R=${R:-$(scaled 10 3)}
record restart - - - kills "$R"
for impl in ours runit; do
    make_tree "$SCRATCH/$impl" 1 99994
    if [ "$impl" = ours ]; then RS="$OURS/runsv"; else RS=/usr/bin/runsv; fi
    (cd "$SCRATCH/$impl/s0" && exec "$RS" . </dev/null >/dev/null 2>&1) &
    python3 - "$SCRATCH/$impl/s0" "$R" "$impl" <<'PY'
import os, signal, sys, time
d, r, impl = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = open(os.environ["BENCH_OUT"], "a")
def pid():
    try:
        t = open(f"{d}/supervise/pid").read().strip()
        return int(t) if t else 0
    except OSError:
        return 0
t0 = time.monotonic()
while pid() == 0 and time.monotonic() - t0 < 10:
    time.sleep(0.01)
lat = []
for i in range(r):
    time.sleep(1.2)
    old = pid()
    t = time.monotonic()
    os.kill(old, signal.SIGKILL)
    while pid() in (0, old) and time.monotonic() - t < 5:
        pass
    ms = (time.monotonic() - t) * 1000
    lat.append(ms)
    out.write(f"restart\tkill\t{impl}\t{i + 1}\tlatency_ms\t{ms:.3f}\n")
lat.sort()
print(f"restart: {impl:5} kill to new pid: median {lat[len(lat)//2]:.2f} ms, min {lat[0]:.2f} ms, max {lat[-1]:.2f} ms over {r} kills")
PY
    printf x >"$SCRATCH/$impl/s0/supervise/control"
done
