#!/bin/sh
# The toolkit's install step is scripts/install.sh, which installs every binary of the
# workspace (these tools with chpst's daemontools names, runsv, runsvdir, svlogd) and every man
# page; this name is kept for scripts that call it. Same variables and options:
#
#   PREFIX=/usr DESTDIR=/tmp/pkg tools/install.sh
#   BINSRC=target/release tools/install.sh      # take the binaries from there, build nothing
exec "$(dirname "$0")/../scripts/install.sh" "$@"
