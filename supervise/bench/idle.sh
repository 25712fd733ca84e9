#!/bin/sh
# Idle cost: a tree of 1000 services under runsvdir; once everything runs, count the context
# switches (wake-ups) of runsvdir and of every runsv over a quiet window, and the syscalls
# runsvdir makes in it (strace), ours and runit's in turn.
. "$(dirname "$0")/common.sh"
N=${N:-1000}
WINDOW=${WINDOW:-12}
for impl in ours runit; do
    make_tree "$SCRATCH/$impl" "$N" 99992
    if [ "$impl" = ours ]; then P="$OURS:$PATH"; RSD="$OURS/runsvdir"; else P="/usr/bin:$PATH"; RSD=/usr/bin/runsvdir; fi
    (cd "$SCRATCH" && PATH=$P exec "$RSD" "$SCRATCH/$impl" </dev/null >/dev/null 2>&1) &
    rd=$!
    for _ in $(seq 1 600); do [ "$(count_procs sleep 99992)" -ge "$N" ] && break; sleep 0.1; done
    sleep 2
    python3 - "$rd" "$WINDOW" "$impl" <<'PY'
import os, subprocess, sys, time
rd, window, impl = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def kids(p):
    try:
        return [int(x) for x in open(f"/proc/{p}/task/{p}/children").read().split()]
    except OSError:
        return []
def ctx(p):
    n = 0
    try:
        for line in open(f"/proc/{p}/status"):
            if "ctxt_switches" in line:
                n += int(line.split()[1])
    except OSError:
        pass
    return n
runsvs = kids(rd)
before = {p: ctx(p) for p in [rd] + runsvs}
st = subprocess.Popen(["strace", "-c", "-q", "-p", str(rd)], stderr=subprocess.PIPE, text=True)
time.sleep(window)
st.terminate()
err = st.communicate()[1]
after = {p: ctx(p) for p in [rd] + runsvs}
rs = sum(after[p] - before[p] for p in runsvs)
calls = "0"
for line in err.splitlines():
    if line.strip().startswith("100.00") or line.split()[-1:] == ["total"]:
        calls = line.split()[3] if len(line.split()) > 4 else line.split()[2]
print(f"idle: {impl:5} {len(runsvs)} runsv over {window}s: runsvdir wake-ups {after[rd]-before[rd]} (syscalls traced: {calls}), all runsv together {rs}")
PY
    kill -HUP "$rd"; wait "$rd" 2>/dev/null || true
    for _ in $(seq 1 100); do [ "$(count_procs sleep 99992)" -eq 0 ] && break; sleep 0.1; done
done
