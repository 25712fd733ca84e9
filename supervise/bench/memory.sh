#!/bin/sh
# Memory per runsv in a fleet: N supervised services (200 at full size), each with a log
# service, under one runsv each, for each build of ours (scripts/bench/builds.sh) and for
# runit's, one fleet after another in the same run, all idle once every service and logger
# runs. From /proc/PID/smaps_rollup of every runsv: PSS (its share of every page it maps: what
# the fleet costs per runsv), Private_Dirty (pages only it has written: what one more idle
# runsv costs, whatever the fleet) and RSS.
#
# Builds (impl names): ours (runsv static-PIE, as installed), ours-dynamic (a plain cargo build
# --release), ours-multicall (runit-rs of that build, through a link named runsv), ours-musl
# (static musl), ours-small (the smallest multicall, build-release.sh --small), runit.
#
# Records `memory fleet IMPL I pss_kb|private_dirty_kb|rss_kb VALUE`, one I per runsv, and
# `memory - - - services N`. DETAIL=1 also prints private dirty by mapping of one runsv each.
. "$(dirname "$0")/common.sh"
. "$ROOT/scripts/bench/builds.sh"
[ -n "${NO_BUILD:-}" ] || build_all
N=${N:-$(scaled 200 10)}
record memory - - - services "$N"
applet_dir "$B_GLIBC/runit-rs" "$SCRATCH/bin-multicall"
applet_dir "$B_SMALL" "$SCRATCH/bin-small"
need "$OURS/runsv" "$B_GLIBC/runsv" "$B_MUSL/runsv"

# fleet IMPL RUNSV: N services under RUNSV, measured, then stopped.
fleet() {
    impl=$1 runsv=$2 tree=$SCRATCH/$1
    make_tree "$tree" "$N" 99991
    for d in "$tree"/s*; do
        mkdir -p "$d/log"; printf '#!/bin/sh\nexec cat >/dev/null\n' >"$d/log/run"; chmod +x "$d/log/run"
    done
    pids=""
    for d in "$tree"/s*; do (cd "$d" && exec "$runsv" . </dev/null >/dev/null 2>&1) & pids="$pids $!"; done
    # Wait until every service runs (its logger, cat, starts with it).
    for _ in $(seq 1 600); do
        [ "$(count_procs sleep 99991)" -ge "$N" ] && break; sleep 0.1
    done
    [ "$(count_procs sleep 99991)" -ge "$N" ] || bench_fatal "memory: not every service of $impl started"
    sleep 1
    python3 - "$impl" "$pids" <<'PY'
import os, sys
def rollup(pid):
    vals = {}
    for line in open(f"/proc/{pid}/smaps_rollup"):
        parts = line.split()
        if len(parts) >= 3 and parts[2] == "kB":
            vals[parts[0].rstrip(":")] = int(parts[1])
    return vals
out = open(os.environ["BENCH_OUT"], "a")
name, pids = sys.argv[1], sys.argv[2].split()
tot = {"Pss": 0, "Private_Dirty": 0, "Rss": 0}
for i, p in enumerate(pids, 1):
    v = rollup(p)
    for k, metric in (("Pss", "pss_kb"), ("Private_Dirty", "private_dirty_kb"), ("Rss", "rss_kb")):
        tot[k] += v.get(k, 0)
        out.write(f"memory\tfleet\t{name}\t{i}\t{metric}\t{v.get(k, 0)}\n")
k = len(pids)
print(f"memory: {name:14} runsv x{k}: PSS {tot['Pss']/k:.1f} KiB, Private_Dirty {tot['Private_Dirty']/k:.1f} KiB, RSS {tot['Rss']/k:.1f} KiB per runsv")
PY
    if [ -n "${DETAIL:-}" ]; then
        p=$(echo $pids | cut -d' ' -f1)
        echo "private dirty by mapping of $impl's runsv $p (KiB):"
        awk '/^[0-9a-f]+-/{name=$6" "$2} /^Private_Dirty/{if($2>0) print "  "$2, name}' /proc/$p/smaps
    fi
    stop_under "$tree"
}

fleet ours "$OURS/runsv"
fleet ours-dynamic "$B_GLIBC/runsv"
fleet ours-multicall "$SCRATCH/bin-multicall/runsv"
fleet ours-musl "$B_MUSL/runsv"
fleet ours-small "$SCRATCH/bin-small/runsv"
fleet runit /usr/bin/runsv
