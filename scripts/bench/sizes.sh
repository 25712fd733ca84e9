#!/bin/sh
# Sizes of the release binaries, for each build in BUILDS, as scripts/install.sh installs
# them (stripped by the release profile; runsv and runsvdir static-PIE in the default build),
# beside the sizes of Debian's runit binaries.
#
#   scripts/bench/sizes.sh           (scripts/bench.sh runs it with the others)
#
# A build is a name in BUILDS and a function build_NAME DESTDIR that builds it (unless
# NO_BUILD=1) and installs its binaries into DESTDIR/usr/bin; every regular file there is
# measured (the symbolic links, chpst's daemontools names, are not). To add a build (a musl
# one, a multicall binary), add its name to BUILDS and write its function: its row appears in
# the table. Only builds that exist are listed.
#
# Records `sizes BUILD BINARY 1 bytes|stripped VALUE` (stripped: 1 when the file has no
# symbol table), `sizes BUILD - - description TEXT` (the table's row label, which
# build_NAME prints), and for runit's binaries `sizes runit -
# - description TEXT` and `sizes runit BINARY 1 bytes VALUE`.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/bench/lib.sh"

BUILDS="glibc"

build_glibc() {
    [ -n "${NO_BUILD:-}" ] || "$ROOT/scripts/build-release.sh"
    "$ROOT/scripts/install.sh" --no-build --prefix=/usr --destdir="$1"
    echo "ours, glibc $(uname -m) (runsv, runsvdir static-PIE; scripts/build-release.sh)"
}

need readelf
TMP=$(mktemp -d /tmp/bench-sizes.XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM

for b in $BUILDS; do
    mkdir -p "$TMP/$b"
    desc=$("build_$b" "$TMP/$b")
    record sizes "$b" - - description "$desc"
    total=0
    for f in "$TMP/$b/usr/bin"/*; do
        [ -f "$f" ] && [ ! -L "$f" ] || continue
        n=${f##*/}
        sz=$(wc -c <"$f")
        stripped=1
        readelf -S "$f" 2>/dev/null | grep -q '\.symtab' && stripped=0
        record sizes "$b" "$n" 1 bytes "$sz"
        record sizes "$b" "$n" 1 stripped "$stripped"
        total=$((total + sz))
    done
    echo "  sizes $b: $total bytes in all ($desc)"
done

# Debian's runit, for reference.
runit=$(dpkg-query -W -f='${Version}' runit 2>/dev/null) || bench_fatal "runit is not installed (Debian package runit)"
record sizes runit - - description "runit $runit (Debian, glibc, dynamic)"
for n in runsv runsvdir svlogd sv chpst; do
    need "/usr/bin/$n"
    record sizes runit "$n" 1 bytes "$(wc -c <"/usr/bin/$n")"
done
