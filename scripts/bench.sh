#!/bin/sh
# Every benchmark of the project, in one run, into one results file, and README's benchmark
# tables generated from it.
#
#   scripts/bench.sh                 full size (run it as root on a quiet machine; about half
#                                    an hour on 2 vCPUs)
#   scripts/bench.sh --quick         a twentieth of the sizes, 3 runs each: checks that the
#                                    benchmarks work (the tables say so)
#   scripts/bench.sh --scale=F       any other scale (F times every size)
#   scripts/bench.sh --runs=N        N runs of every benchmark that repeats (default: each
#                                    benchmark's own, 3 to 5; --quick: 3)
#   scripts/bench.sh --out=FILE      write the results there instead (and leave README alone)
#   scripts/bench.sh [...] SUITE...  only these suites (sizes throughput perf rss forward
#                                    ceiling supervise tools); the results file then holds
#                                    only them, and their tables alone are filled in
#
# What it does: installs the Debian packages the comparisons need (runit, daemontools, s6,
# rsyslog, linux-perf, ...) when they are missing; builds the release binaries in every form
# the budgets measure (scripts/bench/builds.sh: glibc, musl, the smallest multicall binary,
# without TLS; the smallest needs a nightly toolchain with rust-src); runs each suite's script, which lives beside its crate:
#
#   sizes       scripts/bench/sizes.sh       release binaries' sizes, per build
#   throughput  svlogd/bench/throughput.sh   loggers on the same input, patterns, compression
#   perf        svlogd/bench/perf.sh         perf stat and perf record of svlogd -tt
#   rss         svlogd/bench/rss.sh          an idle svlogd's memory, from smaps
#   forward     svlogd/bench/forward.sh      UDP and TCP forwarding, counted at the receiver
#   ceiling     svlogd/bench/udp_ceiling.sh  the loopback's UDP ceiling (a C sendmmsg loop)
#   supervise   supervise/bench/run.sh       runsv memory, restart, start-up, idle wake-ups
#   tools       tools/bench/run.sh           sv -w, tai64n, tai64nlocal, p_log
#
# Each appends raw records (bench, case, impl, run, metric, value: tab-separated; see
# scripts/bench/lib.sh) to the results file, docs/benchmarks/results.tsv, after a header of
# `meta` records: commit, date, machine, versions, scale, and the load average before and
# after the whole run and each suite. Then scripts/bench-tables.sh renders README's tables
# (between <!-- bench:begin --> and <!-- bench:end -->) from that file alone: medians,
# ranges and ratios are computed from the raw values there, never typed.
#
# Timing assertions have no place here: nothing fails for being slow. A benchmark fails (and
# the run stops, leaving the previous results in place) when a tool is missing, a logger loses
# a line, or a program fails.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
prog=scripts/bench.sh

usage() {
    echo "usage: $prog [--quick | --scale=F] [--runs=N] [--out=FILE] [SUITE...]" >&2
    exit 100
}

ALL="sizes throughput perf rss forward ceiling supervise tools"
scale=1
runs=""
out=""
suites=""
for arg in "$@"; do
    case $arg in
        --quick) scale=0.05 runs=${runs:-3} ;;
        --scale=*) scale=${arg#*=} ;;
        --runs=*) runs=${arg#*=} ;;
        --out=*) out=${arg#*=} ;;
        -h | --help)
            sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
            exit 0
            ;;
        -*) usage ;;
        *)
            case " $ALL " in *" $arg "*) suites="$suites $arg" ;; *) echo "$prog: no suite $arg ($ALL)" >&2; exit 100 ;; esac
            ;;
    esac
done
suites=${suites:-$ALL}
awk -v s="$scale" 'BEGIN { exit !(s + 0 > 0) }' || usage
case $runs in "" | *[!0-9]*) [ -z "$runs" ] || usage ;; esac
readme=README.md
if [ -z "$out" ]; then
    out=docs/benchmarks/results.tsv
else
    readme=""
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "$prog: run as root (the UDP receiver needs SO_RCVBUFFORCE; perf needs the counters)" >&2
    exit 100
fi

# The Debian packages the benchmarks compare with or use.
packages="runit daemontools s6 rsyslog busybox linux-perf strace procps psmisc gzip python3 gcc libc6-dev binutils"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "$prog: installing Debian packages:$missing"
    env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing ||
        echo "$prog: WARNING: apt-get could not install:$missing (each benchmark that needs one says so)" >&2
fi
if ! command -v perf >/dev/null 2>&1; then
    echo "$prog: ################################################################" >&2
    echo "$prog: WARNING: perf is not available (Debian package linux-perf);" >&2
    echo "$prog: the perf breakdown will be missing from the results." >&2
    echo "$prog: ################################################################" >&2
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# Every build the budgets measure (scripts/bench/builds.sh), once.
ROOT=$ROOT BENCH_OUT=/dev/null sh -c '. scripts/bench/lib.sh && . scripts/bench/builds.sh && build_all'
export NO_BUILD=1

mkdir -p "$(dirname "$out")"
BENCH_OUT=$(mktemp "$CARGO_TARGET_DIR/bench-results.XXXXXX")
export BENCH_OUT BENCH_SCALE=$scale
[ -z "$runs" ] || export BENCH_RUNS="$runs"

meta() {
    printf 'meta\t-\t-\t-\t%s\t%s\n' "$1" "$2" >>"$BENCH_OUT"
}
version() {
    dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"
}

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=no
git diff --quiet HEAD -- . ":(exclude)$out" ":(exclude)README.md" 2>/dev/null || dirty=yes
{
    echo "# runit-rs benchmark results: raw records written by scripts/bench.sh;"
    echo "# README's tables are generated from this file by scripts/bench-tables.sh."
    echo "# Columns (tab-separated): bench case impl run metric value. run is - for a setting."
} >"$BENCH_OUT"
meta commit "$commit"
meta uncommitted_changes "$dirty"
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
meta cpus "$(nproc)"
meta memory_gib "$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)"
meta kernel "$(uname -r)"
meta debian "$(cat /etc/debian_version 2>/dev/null || echo unknown)"
meta rustc "$(rustc --version 2>/dev/null | cut -d' ' -f2)"
for p in runit daemontools s6 rsyslog linux-perf; do
    meta "version_$p" "$(version "$p")"
done
meta scale "$scale"
meta runs "${runs:-default}"
meta suites "$(echo $suites)"
meta load_before "$(cut -d' ' -f1-3 /proc/loadavg)"

started=$(date +%s)
for s in $suites; do
    case $s in
        sizes) script=scripts/bench/sizes.sh ;;
        throughput) script=svlogd/bench/throughput.sh ;;
        perf) script=svlogd/bench/perf.sh ;;
        rss) script=svlogd/bench/rss.sh ;;
        forward) script=svlogd/bench/forward.sh ;;
        ceiling) script=svlogd/bench/udp_ceiling.sh ;;
        supervise) script=supervise/bench/run.sh ;;
        tools) script=tools/bench/run.sh ;;
    esac
    echo "== $s: $script (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    printf 'suite\t%s\t-\t-\tload_before\t%s\n' "$s" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$BENCH_OUT"
    t=$(date +%s)
    "$script"
    printf 'suite\t%s\t-\t-\tload_after\t%s\n' "$s" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$BENCH_OUT"
    printf 'suite\t%s\t-\t-\tseconds\t%s\n' "$s" $(($(date +%s) - t)) >>"$BENCH_OUT"
done
meta load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
meta seconds $(($(date +%s) - started))
mv "$BENCH_OUT" "$out"
echo "$prog: results in $out"

if [ -n "$readme" ]; then
    scripts/bench-tables.sh "$out"
    echo "$prog: README.md's tables regenerated from $out"
fi
