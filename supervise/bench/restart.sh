#!/bin/sh
# Restart latency: a long-running service (up more than a second) is killed; time until its
# runsv has started the next one (new pid in supervise/pid), ours and runit's, median of R runs.
. "$(dirname "$0")/common.sh"
R=${R:-10}
for impl in ours runit; do
    make_tree "$SCRATCH/$impl" 1 99994
    if [ "$impl" = ours ]; then RS="$OURS/runsv"; else RS=/usr/bin/runsv; fi
    (cd "$SCRATCH/$impl/s0" && exec "$RS" . </dev/null >/dev/null 2>&1) &
    python3 - "$SCRATCH/$impl/s0" "$R" "$impl" <<'PY'
import os, signal, sys, time
d, r, impl = sys.argv[1], int(sys.argv[2]), sys.argv[3]
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
for _ in range(r):
    time.sleep(1.2)
    old = pid()
    t = time.monotonic()
    os.kill(old, signal.SIGKILL)
    while pid() in (0, old) and time.monotonic() - t < 5:
        pass
    lat.append((time.monotonic() - t) * 1000)
lat.sort()
print(f"restart: {impl:5} kill to new pid: median {lat[len(lat)//2]:.2f} ms, min {lat[0]:.2f} ms, max {lat[-1]:.2f} ms over {r} kills")
PY
    printf x >"$SCRATCH/$impl/s0/supervise/control"
done
