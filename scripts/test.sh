#!/bin/sh
# The whole test suite, on a fresh Debian machine that has only the Rust toolchain.
#
# 1. Installs the Debian packages the tests compare with or need (runit, daemontools, s6,
#    busybox, rsyslog, faketime, socat, ...), as root or through sudo. A test that needs one of
#    them fails loudly when it is missing; it never skips.
# 2. Builds every binary of the workspace (the end-to-end tests run them).
# 3. Runs every test: unit tests, end-to-end tests against the real binaries, and the replay of
#    every fuzz corpus.
set -eu
cd "$(dirname "$0")/.."

packages="runit daemontools s6 busybox rsyslog faketime socat strace procps psmisc iproute2 util-linux groff-base time rsyslog-gnutls openssl e2fsprogs mount"

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "scripts/test.sh: installing Debian packages:$missing"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi

cargo build --workspace --bins --locked
cargo test --workspace --locked -- --test-threads="${TEST_THREADS:-4}"
