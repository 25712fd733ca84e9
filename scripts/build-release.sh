#!/bin/sh
# Builds every binary of the workspace for release.
#
#   scripts/build-release.sh        -> target/release/* and target/static/release/runsv{,dir}
#
# runsv and runsvdir are also linked static-PIE (crt-static) into target/static/release: one
# runsv runs per supervised service, and a static binary maps no dynamic loader, shared libc or
# libgcc_s, whose relocated and writable pages are private to every process (82 KiB PSS per
# runsv static against 115 KiB dynamic; runit's is 95: supervise/bench/memory.sh). Only these
# two: the other tools look up users and groups through NSS (chpst -u, ...), which a static
# glibc binary cannot do safely (getpwnam of an unknown user crashes it on Debian 12).
# The install step takes runsv and runsvdir from target/static/release.
set -eu
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
cargo build --release --bins --locked
RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release -p supervise --bins --locked --target-dir "$target/static"
