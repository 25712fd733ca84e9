#!/bin/sh
# The reliability suite at full size (project issue 7): every scenario of tests/reliability/
# run at the size the issue names, on our binaries and, where runit can run it, on runit's,
# with the figures written into docs/reliability.md and its summary into README.md.
#
#   scripts/reliability.sh               every scenario (several minutes), then the documents
#   scripts/reliability.sh FILTER...     only the tests whose names contain a FILTER (as
#                                        `cargo test` filters); the others keep their figures
#   scripts/reliability.sh --assemble    only rebuild the documents from docs/reliability/
#
# Each scenario leaves two fragments in docs/reliability/: ID.row (its summary row) and ID.md
# (its section); the documents are assembled from them in name order. Remove a fragment by
# hand when its scenario goes away. RELIABILITY_RUNIT=0 skips runit's side.
#
# Run it as root on a machine set up by scripts/test.sh (the scenarios mount tmpfs, chown
# files to other users, and compare with Debian's runit). The same scenarios run at a reduced
# size in the test command: `cargo test -p tests --test reliability`.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
frag=$root/docs/reliability
doc=$root/docs/reliability.md
readme=$root/README.md

assemble() {
    {
        cat <<'HEAD'
# Reliability: faults, load and bad input

What happens to the supervision tree and the logger when things go wrong: processes killed at
random moments, a full or slow disk, clock steps, bad input and bad configuration, a thousand
services, planted symbolic links. Every scenario runs twice:

- at full size, on our binaries and, where runit can run the same scenario, on Debian's runit
  2.1.2 beside them, by `scripts/reliability.sh` (root; several minutes), which writes this
  document from the figures (`docs/reliability/*.row` and `*.md`);
- at a reduced size in the test command (`cargo test -p tests --test reliability`), where it
  asserts the property of each row below on every change. No assertion there depends on how
  fast the machine is: waits end on events and are bounded only to catch a hang; the few
  properties with a time in them are a lower bound far below what the feature gives (the
  restart throttle's 1 s, asserted as 0.1 s) and CPU time (runsv and runsvdir under 5 % of
  one CPU, 25 times what they use). Every other time is a figure, recorded, not asserted.

A property marked FAILED failed on our binaries in the run that produced the figures. runit's
figures are recorded, never asserted.

## Summary

| scenario | ours | runit's | property |
|---|---|---|---|
HEAD
        for f in "$frag"/*.row; do
            [ -e "$f" ] && cat "$f"
        done
        printf '\n## Scenarios\n\n'
        for f in "$frag"/*.md; do
            [ -e "$f" ] && cat "$f"
        done
    } >"$doc.new"
    mv "$doc.new" "$doc"

    # README: the summary table between the markers, pointing here.
    if grep -q '^<!-- reliability:begin -->$' "$readme"; then
        {
            sed -n '1,/^<!-- reliability:begin -->$/p' "$readme"
            printf '| scenario | ours | runit'"'"'s | property |\n|---|---|---|---|\n'
            for f in "$frag"/*.row; do
                [ -e "$f" ] && sed 's|](#|](docs/reliability.md#|' "$f"
            done
            printf '\nHow each scenario runs, and every figure: [docs/reliability.md](docs/reliability.md) (`scripts/reliability.sh`).\n'
            sed -n '/^<!-- reliability:end -->$/,$p' "$readme"
        } >"$readme.new"
        mv "$readme.new" "$readme"
    fi
}

if [ "${1:-}" = "--assemble" ]; then
    assemble
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/reliability.sh: run as root (the scenarios mount tmpfs and change owners)" >&2
    exit 100
fi

mem=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
runit=$(dpkg-query -W -f='${Version}' runit 2>/dev/null || echo unknown)
debian=$(cat /etc/debian_version 2>/dev/null || echo unknown)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- 2>/dev/null || commit="$commit with uncommitted changes"
RELIABILITY_STAMP="on $(date -u +%F) at commit $commit by \`scripts/reliability.sh\` ($(nproc) vCPU $cpu, $mem, Linux $(uname -r), Debian $debian, runit $runit, release build)"
export RELIABILITY_STAMP
export RELIABILITY_FULL=1
export RELIABILITY_OUT="$frag"
mkdir -p "$frag"

cargo build --release --workspace --bins --locked
status=0
cargo test --release --locked -p tests --test reliability -- --test-threads=1 --nocapture "$@" || status=$?
assemble
if [ "$status" -ne 0 ]; then
    echo "scripts/reliability.sh: some scenarios failed (marked FAILED in docs/reliability.md)" >&2
fi
exit "$status"
