#!/bin/sh
# Memory per runsv in a fleet: N supervised services (200 at full size), each with a log
# service, under one runsv each; ours and runit's side by side in the same run, all idle once
# every service and logger runs. From /proc/PID/smaps_rollup of every runsv: PSS (its share of
# every page it maps: what the fleet costs per runsv), Private_Dirty (pages only it has written:
# what one more idle runsv costs, whatever the fleet) and RSS.
#
# Records `memory fleet IMPL I pss_kb|private_dirty_kb|rss_kb VALUE`, one I per runsv, and
# `memory - - - services N`. DETAIL=1 also prints private dirty by mapping of one runsv each.
. "$(dirname "$0")/common.sh"
N=${N:-$(scaled 200 10)}
record memory - - - services "$N"
for impl in ours runit; do
    make_tree "$SCRATCH/$impl" "$N" 99991
    for d in "$SCRATCH/$impl"/s*; do
        mkdir -p "$d/log"; printf '#!/bin/sh\nexec cat >/dev/null\n' >"$d/log/run"; chmod +x "$d/log/run"
    done
done
pids_ours=""; pids_runit=""
for d in "$SCRATCH/ours"/s*; do (cd "$d" && exec "$OURS/runsv" . </dev/null >/dev/null 2>&1) & pids_ours="$pids_ours $!"; done
for d in "$SCRATCH/runit"/s*; do (cd "$d" && exec /usr/bin/runsv . </dev/null >/dev/null 2>&1) & pids_runit="$pids_runit $!"; done
# Wait until every service and logger runs.
for _ in $(seq 1 600); do
    [ "$(count_procs sleep 99991)" -ge $((2 * N)) ] && break; sleep 0.1
done
[ "$(count_procs sleep 99991)" -ge $((2 * N)) ] || bench_fatal "memory: not every service started"
sleep 1
python3 - "$N" "$pids_ours" "$pids_runit" <<'PY'
import os, sys
def rollup(pid):
    vals = {}
    for line in open(f"/proc/{pid}/smaps_rollup"):
        parts = line.split()
        if len(parts) >= 3 and parts[2] == "kB":
            vals[parts[0].rstrip(":")] = int(parts[1])
    return vals
out = open(os.environ["BENCH_OUT"], "a")
for name, pids in (("ours", sys.argv[2].split()), ("runit", sys.argv[3].split())):
    tot = {"Pss": 0, "Private_Dirty": 0, "Rss": 0}
    for i, p in enumerate(pids, 1):
        v = rollup(p)
        for k, metric in (("Pss", "pss_kb"), ("Private_Dirty", "private_dirty_kb"), ("Rss", "rss_kb")):
            tot[k] += v.get(k, 0)
            out.write(f"memory\tfleet\t{name}\t{i}\t{metric}\t{v.get(k, 0)}\n")
    k = len(pids)
    print(f"memory: {name:5} runsv x{k}: PSS {tot['Pss']/k:.1f} KiB, Private_Dirty {tot['Private_Dirty']/k:.1f} KiB, RSS {tot['Rss']/k:.1f} KiB per runsv")
PY
if [ -n "${DETAIL:-}" ]; then
    for p in $(echo $pids_ours | cut -d' ' -f1) $(echo $pids_runit | cut -d' ' -f1); do
        echo "private dirty by mapping of $p (KiB):"
        awk '/^[0-9a-f]+-/{name=$6" "$2} /^Private_Dirty/{if($2>0) print "  "$2, name}' /proc/$p/smaps
    done
fi
