#!/bin/sh
# Sizes of the release binaries, for each build in BUILDS, as scripts/install.sh installs
# them (stripped by the release profile; runsv and runsvdir static-PIE in the default build),
# beside the sizes of Debian's runit binaries.
#
#   scripts/bench/sizes.sh           (scripts/bench.sh runs it with the others)
#
# A build is a name in BUILDS and a function build_NAME DESTDIR that installs its binaries
# into DESTDIR/usr/bin (scripts/bench/builds.sh makes them all first, unless NO_BUILD=1);
# every regular file there is measured (the symbolic links, chpst's daemontools names and a
# multicall binary's programs, are not). To add a build, add its name to BUILDS and write its
# function: its row appears in the table.
#
# Records `sizes BUILD BINARY 1 bytes|stripped VALUE` (stripped: 1 when the file has no
# symbol table), `sizes BUILD - - description TEXT` (the table's row label, which
# build_NAME prints), and for runit's binaries `sizes runit -
# - description TEXT` and `sizes runit BINARY 1 bytes VALUE`.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/bench/lib.sh"

. "$ROOT/scripts/bench/builds.sh"
BUILDS="glibc glibc_notls musl musl_multicall small small_notls"
[ -n "${NO_BUILD:-}" ] || build_all

build_glibc() {
    "$ROOT/scripts/install.sh" --no-build --prefix=/usr --destdir="$1"
    echo "ours, glibc $(uname -m) (runsv, runsvdir static-PIE; scripts/build-release.sh)"
}

build_glibc_notls() {
    mkdir -p "$1/usr/bin"
    cp "$B_GLIBC_NOTLS/svlogd" "$1/usr/bin/"
    echo "svlogd alone without TLS, glibc (scripts/build-release.sh --no-tls)"
}

build_musl() {
    "$ROOT/scripts/install.sh" --from="$B_MUSL" --prefix=/usr --destdir="$1"
    echo "ours, musl, static (scripts/build-release.sh --target $MUSL)"
}

build_musl_multicall() {
    "$ROOT/scripts/install.sh" --from="$B_MUSL" --multicall --prefix=/usr --destdir="$1"
    echo "runit-rs multicall, musl, static, opt-level 3 (the same build, install.sh --multicall)"
}

build_small() {
    mkdir -p "$1/usr/bin"
    cp "$B_SMALL" "$1/usr/bin/runit-rs"
    echo "runit-rs multicall, musl, static, smallest (scripts/build-release.sh --small)"
}

build_small_notls() {
    mkdir -p "$1/usr/bin"
    cp "$B_SMALL_NOTLS" "$1/usr/bin/runit-rs"
    echo "runit-rs multicall without TLS, musl, smallest (scripts/build-release.sh --small --no-tls)"
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
