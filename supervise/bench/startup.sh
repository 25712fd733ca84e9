#!/bin/sh
# Start-up: time from starting runsvdir to all N services running (their `sleep` exec'd; 1000
# at full size), ours and runit's in turns, RUNS times each (default 2). Records
# `startup services IMPL RUN ms VALUE` and `startup - - - services N`.
. "$(dirname "$0")/common.sh"
N=${N:-$(scaled 1000 20)}
RUNS=${RUNS:-$(runs 2)}
record startup - - - services "$N"
r=0
while [ "$r" -lt "$RUNS" ]; do
    r=$((r + 1))
    for impl in ours runit; do
        rm -rf "${SCRATCH:?}/$impl"
        make_tree "$SCRATCH/$impl" "$N" 99993
        if [ "$impl" = ours ]; then P="$OURS:$PATH"; RSD="$OURS/runsvdir"; else P="/usr/bin:$PATH"; RSD=/usr/bin/runsvdir; fi
        python3 - "$SCRATCH" "$RSD" "$P" "$SCRATCH/$impl" "$N" "$impl" "$r" <<'PY'
import os, subprocess, sys, time
scratch, rsd, path, tree, n, impl, run = sys.argv[1:8]
n = int(n)
want = b"sleep\x0099993\x00"
def count():
    c = 0
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if open(f"/proc/{p}/cmdline", "rb").read() == want:
                    c += 1
            except OSError:
                pass
    return c
env = dict(os.environ, PATH=path)
t0 = time.monotonic()
p = subprocess.Popen([rsd, tree], cwd=scratch, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while count() < n and time.monotonic() - t0 < 120:
    time.sleep(0.01)
dt = time.monotonic() - t0
if count() < n:
    sys.exit(f"startup: {impl}: not every service started in 120 s")
open(os.environ["BENCH_OUT"], "a").write(f"startup\tservices\t{impl}\t{run}\tms\t{dt * 1000:.1f}\n")
print(f"startup: {impl:5} {n} services running after {dt*1000:.0f} ms")
p.send_signal(1)
p.wait()
t1 = time.monotonic()
while count() > 0 and time.monotonic() - t1 < 60:
    time.sleep(0.05)
PY
    done
done
