#!/bin/sh
# Installs the tools of the toolkit: the binaries, chpst's daemontools names (envdir,
# envuidgid, pgrphack, setuidgid, setlock, softlimit) as symlinks to chpst, and the man pages.
#
#   cargo build --release --workspace --bins
#   tools/install.sh                      # into $DESTDIR$PREFIX/bin and .../share/man/man8
#   PREFIX=/usr DESTDIR=/tmp/pkg tools/install.sh
#
# BINSRC names the directory holding the built binaries (default: the release profile of
# $CARGO_TARGET_DIR, or target/release).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
BINSRC=${BINSRC:-${CARGO_TARGET_DIR:-$here/../target}/release}
bindir=$DESTDIR$PREFIX/bin
mandir=$DESTDIR$PREFIX/share/man/man8

tools="sv svc svok svstat chpst tai64n tai64nlocal p_log w_log svactivate svdeactivate"
aliases="envdir envuidgid pgrphack setuidgid setlock softlimit"

for t in $tools; do
    if [ ! -x "$BINSRC/$t" ]; then
        echo "tools/install.sh: fatal: $BINSRC/$t is missing: build the workspace first" >&2
        exit 111
    fi
done
mkdir -p "$bindir" "$mandir"
for t in $tools; do
    install -m 0755 "$BINSRC/$t" "$bindir/$t"
done
for a in $aliases; do
    ln -sf chpst "$bindir/$a"
done
for page in "$here"/man/*.8; do
    install -m 0644 "$page" "$mandir/$(basename "$page")"
done
