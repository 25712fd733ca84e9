#!/bin/sh
# The whole test suite, on a fresh Debian machine that has only the Rust toolchain.
#
# 1. Installs the Debian packages the tests compare with or need (runit, daemontools, s6,
#    busybox, rsyslog, faketime, socat, ...), as root or through sudo. A test that needs one of
#    them fails loudly when it is missing; it never skips.
# 2. Builds every binary of the workspace (the end-to-end tests run them).
# 3. Runs every test: unit tests, end-to-end tests against the real binaries, and the replay of
#    every fuzz corpus.
#
# The suite passes on any date and in any zone; to check that, run it with the clock moved or in
# a zone far from UTC (the harness passes TZ and libfaketime's settings on to every process a
# test starts):
#
#    TEST_FAKETIME=+365d scripts/test.sh      # every test process under libfaketime, a year on
#    TZ=Pacific/Kiritimati scripts/test.sh
#
# (libfaketime is preloaded into the test executables through cargo's runner setting, not into
# cargo and rustc, which hang under it.)
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

if [ -n "${TEST_FAKETIME:-}" ]; then
    lib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1 2>/dev/null | head -n 1)
    if [ -z "$lib" ]; then
        echo "scripts/test.sh: TEST_FAKETIME: libfaketimeMT.so.1 not found (Debian package libfaketime)" >&2
        exit 1
    fi
    host=$(rustc -vV | sed -n 's/^host: //p' | tr 'a-z-' 'A-Z_')
    export "CARGO_TARGET_${host}_RUNNER=env LD_PRELOAD=$lib FAKETIME=$TEST_FAKETIME FAKETIME_DONT_FAKE_MONOTONIC=1"
fi

cargo build --workspace --bins --locked
cargo test --workspace --locked -- --test-threads="${TEST_THREADS:-4}"
