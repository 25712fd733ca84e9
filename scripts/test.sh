#!/bin/sh
# The whole test suite, on a fresh Debian machine that has only the Rust toolchain.
#
# 1. Installs the Debian packages the tests compare with or need (runit, daemontools, s6,
#    busybox, rsyslog, faketime, socat, binutils's readelf, ...), as root or through sudo. A
#    test that needs one of them fails loudly when it is missing; it never skips. musl-tools
#    gives the musl leg its C compiler (ring is partly C); Rust's musl target for this
#    machine's architecture is added (rustup target add) when it is missing. What cannot be
#    had fails the command.
# 2. Builds every binary of the workspace (the end-to-end tests run them).
# 3. Runs every test: unit tests, end-to-end tests against the real binaries, and the replay of
#    every fuzz corpus.
# 4. The musl leg: builds every binary again for musl (static, with the same test-only
#    features) and runs the end-to-end tests a second time on those binaries (TEST_BIN_DIR).
#
# The suite passes on any date and in any zone; to check that, run it with the clock moved or in
# a zone far from UTC (the harness passes TZ and libfaketime's settings on to every process a
# test starts):
#
#    TEST_FAKETIME=+365d scripts/test.sh      # every test process under libfaketime, a year on
#    TZ=Pacific/Kiritimati scripts/test.sh
#
# (libfaketime is preloaded into the test executables through cargo's runner setting, not into
# cargo and rustc, which hang under it. The musl leg runs on the real clock: a static binary is
# out of LD_PRELOAD's reach, and its tests must see the clock its binaries see.)
set -eu
cd "$(dirname "$0")/.."

packages="runit daemontools s6 busybox rsyslog faketime socat strace procps psmisc iproute2 util-linux groff-base time rsyslog-gnutls openssl e2fsprogs mount musl-tools binutils"

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

musl=$(rustc -vV | sed -n 's/^host: //p')
musl=${musl%%-*}-unknown-linux-musl
if [ ! -d "$(rustc --print sysroot)/lib/rustlib/$musl/lib" ]; then
    echo "scripts/test.sh: adding the Rust target $musl"
    rustup target add "$musl" || {
        echo "scripts/test.sh: fatal: cannot add the Rust target $musl (rustup target add $musl)" >&2
        exit 1
    }
fi
command -v musl-gcc >/dev/null || {
    echo "scripts/test.sh: fatal: musl-gcc not found (Debian package musl-tools)" >&2
    exit 1
}

runner=""
if [ -n "${TEST_FAKETIME:-}" ]; then
    lib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1 2>/dev/null | head -n 1)
    if [ -z "$lib" ]; then
        echo "scripts/test.sh: TEST_FAKETIME: libfaketimeMT.so.1 not found (Debian package libfaketime)" >&2
        exit 1
    fi
    host=$(rustc -vV | sed -n 's/^host: //p' | tr 'a-z-' 'A-Z_')
    runner=CARGO_TARGET_${host}_RUNNER
    export "$runner=env LD_PRELOAD=$lib FAKETIME=$TEST_FAKETIME FAKETIME_DONT_FAKE_MONOTONIC=1"
fi

cargo build --workspace --bins --locked
cargo test --workspace --locked -- --test-threads="${TEST_THREADS:-4}"

# The musl leg. The tests crate is in the build, so svlogd gets the same test-only features
# (faults, fuzzing) as above.
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$PWD/$target ;; esac
env "CC_$(echo "$musl" | tr - _)=musl-gcc" cargo build --workspace --bins --locked --target "$musl"
# Every [[test]] of tests/ but the corpus replay, which runs no binary.
e2e=$(awk -F'"' '/^\[\[test\]\]/ { t = 1 } t && /^name =/ { if ($2 != "corpora") print "--test", $2; t = 0 }' \
    tests/Cargo.toml)
echo "scripts/test.sh: the end-to-end tests again, on the static $musl build"
[ -z "$runner" ] || unset "$runner"
# shellcheck disable=SC2086
TEST_BIN_DIR=$target/$musl/debug cargo test -p tests --locked $e2e -- --test-threads="${TEST_THREADS:-4}"
