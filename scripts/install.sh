#!/bin/sh
# Installs the whole toolkit: every binary, chpst's daemontools names as symlinks, and every
# man page (each into the section its file name ends in).
#
#   scripts/install.sh                          # build for release, install into /usr/local
#   scripts/install.sh --prefix=/usr --destdir=/tmp/pkg   # a package's staging tree
#   PREFIX=/usr DESTDIR=/tmp/pkg scripts/install.sh        # the same, as variables
#   scripts/install.sh --multicall              # one binary, runit-rs, and a link per program
#   scripts/install.sh --uninstall              # remove what an install put there
#
# Options (each also read from the environment variable in capitals; an option wins):
#   --prefix=DIR    PREFIX   where things go (default /usr/local)
#   --destdir=DIR   DESTDIR  staging root prepended to every path (default empty)
#   --bindir=DIR    BINDIR   binaries (default PREFIX/bin)
#   --mandir=DIR    MANDIR   man pages (default PREFIX/share/man)
#   --from=DIR      BINSRC   take every binary from DIR and build nothing (a packager's own
#                            build, or the debug build the tests use)
#   --no-build      NO_BUILD=1   do not build; install the release build that is there
#   --multicall     MULTICALL=1  install the multicall binary runit-rs and link every program's
#                            name to it (busybox style; the smallest install)
#   --uninstall              remove the binaries, links and pages from BINDIR and MANDIR
#
# Without --from, scripts/build-release.sh builds first (cargo does nothing if the build is
# up to date; with --multicall it builds only runit-rs). runsv and runsvdir are then taken
# from the static-PIE build (one runsv runs per service; see scripts/build-release.sh for
# why) and every other binary from the release build, both under $CARGO_TARGET_DIR (default
# target/). scripts/build-release.sh --target TRIPLE [--multicall] builds for another
# target; install that with --from=target/TRIPLE/release. When root has no cargo, build as
# yourself first: scripts/build-release.sh && sudo scripts/install.sh --no-build
#
# Silent on success (apart from the build's own output); a missing binary is fatal (exit 111) before anything is written.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
prog=scripts/install.sh

fatal() {
    echo "$prog: fatal: $*" >&2
    exit 111
}

uninstall=""
for arg in "$@"; do
    case $arg in
        --prefix=*) PREFIX=${arg#*=} ;;
        --destdir=*) DESTDIR=${arg#*=} ;;
        --bindir=*) BINDIR=${arg#*=} ;;
        --mandir=*) MANDIR=${arg#*=} ;;
        --from=*) BINSRC=${arg#*=} ;;
        --no-build) NO_BUILD=1 ;;
        --multicall) MULTICALL=1 ;;
        --uninstall) uninstall=1 ;;
        -h | --help)
            sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "usage: $prog [--prefix=DIR] [--destdir=DIR] [--bindir=DIR] [--mandir=DIR] [--from=DIR] [--no-build] [--multicall] [--uninstall]" >&2
            exit 100
            ;;
    esac
done

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
BINDIR=${BINDIR:-$PREFIX/bin}
MANDIR=${MANDIR:-$PREFIX/share/man}
bindir=$DESTDIR$BINDIR
mandir=$DESTDIR$MANDIR

# Every binary of the workspace (one src/bin/NAME.rs each), and chpst's other names.
crates="supervise svlogd tools"
binaries=""
for c in $crates; do
    for f in "$root/$c"/src/bin/*.rs; do
        [ -e "$f" ] || continue
        n=${f##*/}
        binaries="$binaries ${n%.rs}"
    done
done
aliases="envdir envuidgid pgrphack setuidgid setlock softlimit"

# The man pages: NAME.SECTION in each crate's man/ directory.
pages=""
for c in $crates; do
    for p in "$root/$c"/man/*.[1-8]; do
        [ -e "$p" ] && pages="$pages $p"
    done
done

if [ -n "$uninstall" ]; then
    for b in $binaries $aliases runit-rs; do
        rm -f "$bindir/$b"
    done
    for p in $pages; do
        n=${p##*/}
        rm -f "$mandir/man${n##*.}/$n"
    done
    exit 0
fi

# Where each binary comes from.
target=${CARGO_TARGET_DIR:-$root/target}
case $target in /*) ;; *) target=$root/$target ;; esac
if [ -n "${BINSRC:-}" ]; then
    release=$BINSRC
    static=$BINSRC
else
    if [ -z "${NO_BUILD:-}" ]; then
        command -v cargo >/dev/null 2>&1 ||
            fatal "cargo not found: build first (scripts/build-release.sh), then run $prog --no-build"
        CARGO_TARGET_DIR=$target "$root/scripts/build-release.sh" ${MULTICALL:+--multicall} ||
            fatal "the release build failed"
    fi
    release=$target/release
    static=$target/static/release
fi
source_of() {
    case $1 in
        runsv | runsvdir) echo "$static/$1" ;;
        *) echo "$release/$1" ;;
    esac
}

if [ -n "${MULTICALL:-}" ]; then
    src=$release/runit-rs
    [ -f "$src" ] && [ -x "$src" ] || fatal "$src is missing: build the workspace first"
    mkdir -p "$bindir"
    install -m 0755 "$src" "$bindir/.runit-rs.new"
    mv -f "$bindir/.runit-rs.new" "$bindir/runit-rs"
    # Every name, whatever an earlier install left there (a binary becomes a link).
    for b in $binaries $aliases; do
        ln -sf runit-rs "$bindir/.$b.new"
        mv -f "$bindir/.$b.new" "$bindir/$b"
    done
    binaries=""
    aliases=""
fi

for b in $binaries; do
    src=$(source_of "$b")
    [ -f "$src" ] && [ -x "$src" ] || fatal "$src is missing: build the workspace first"
done

mkdir -p "$bindir"
for b in $binaries; do
    # Install under a temporary name and rename, so a running binary is replaced, not
    # overwritten in place (ETXTBSY), and no one ever runs half a file.
    install -m 0755 "$(source_of "$b")" "$bindir/.$b.new"
    mv -f "$bindir/.$b.new" "$bindir/$b"
done
for a in $aliases; do
    ln -sf chpst "$bindir/.$a.new"
    mv -f "$bindir/.$a.new" "$bindir/$a"
done
for p in $pages; do
    n=${p##*/}
    dir=$mandir/man${n##*.}
    mkdir -p "$dir"
    install -m 0644 "$p" "$dir/$n"
done
