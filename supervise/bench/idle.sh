#!/bin/sh
# Idle cost: a tree of N services under runsvdir (1000 at full size); once everything runs,
# count the context switches (wake-ups) of runsvdir and of every runsv over a quiet window of
# WINDOW seconds (12 at full size), then, over a second window as long, the syscalls runsvdir
# makes (strace -c; apart, because attaching strace wakes the process), ours and runit's in
# turn. Records `idle window IMPL 1 runsvdir_wakeups|runsv_wakeups|runsvdir_syscalls
# VALUE` and `idle - - - services|window_s VALUE`.
. "$(dirname "$0")/common.sh"
need strace
N=${N:-$(scaled 1000 20)}
WINDOW=${WINDOW:-$(scaled 12 2)}
record idle - - - services "$N"
record idle - - - window_s "$WINDOW"
for impl in ours runit; do
    make_tree "$SCRATCH/$impl" "$N" 99992
    if [ "$impl" = ours ]; then P="$OURS:$PATH"; RSD="$OURS/runsvdir"; else P="/usr/bin:$PATH"; RSD=/usr/bin/runsvdir; fi
    (cd "$SCRATCH" && PATH=$P exec "$RSD" "$SCRATCH/$impl" </dev/null >/dev/null 2>&1) &
    rd=$!
    for _ in $(seq 1 600); do [ "$(count_procs sleep 99992)" -ge "$N" ] && break; sleep 0.1; done
    [ "$(count_procs sleep 99992)" -ge "$N" ] || bench_fatal "idle: not every service started"
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
time.sleep(window)
after = {p: ctx(p) for p in [rd] + runsvs}
st = subprocess.Popen(["strace", "-c", "-q", "-p", str(rd)], stderr=subprocess.PIPE, text=True)
time.sleep(window)
st.terminate()
err = st.communicate()[1]
rs = sum(after[p] - before[p] for p in runsvs)
calls = "0"
for line in err.splitlines():
    if line.strip().startswith("100.00") or line.split()[-1:] == ["total"]:
        calls = line.split()[3] if len(line.split()) > 4 else line.split()[2]
out = open(os.environ["BENCH_OUT"], "a")
out.write(f"idle\twindow\t{impl}\t1\trunsvdir_wakeups\t{after[rd] - before[rd]}\n")
out.write(f"idle\twindow\t{impl}\t1\trunsv_wakeups\t{rs}\n")
out.write(f"idle\twindow\t{impl}\t1\trunsvdir_syscalls\t{calls}\n")
out.write(f"idle\twindow\t{impl}\t1\trunsv_count\t{len(runsvs)}\n")
print(f"idle: {impl:5} {len(runsvs)} runsv over {window}s: runsvdir wake-ups {after[rd]-before[rd]} (syscalls traced: {calls}), all runsv together {rs}")
PY
    kill -HUP "$rd"; wait "$rd" 2>/dev/null || true
    for _ in $(seq 1 100); do [ "$(count_procs sleep 99992)" -eq 0 ] && break; sleep 0.1; done
done
