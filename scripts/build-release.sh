#!/bin/sh
# Builds every binary of the workspace for release, or only the multicall binary runit-rs.
#
#   scripts/build-release.sh                  -> target/release/* and target/static/release/runsv{,dir}
#   scripts/build-release.sh --target TRIPLE  -> target/TRIPLE/release/* (and, for a glibc
#                                                triple, target/static/TRIPLE/release/runsv{,dir})
#   scripts/build-release.sh --multicall      -> target/release/runit-rs
#   scripts/build-release.sh --target TRIPLE --multicall -> target/TRIPLE/release/runit-rs
#
# --multicall builds only runit-rs, every program in one executable (busybox style: it runs the
# program its link is named after); scripts/install.sh --multicall installs it with a link per
# program. For x86_64-unknown-linux-musl it is one static binary, the smallest install (a
# FROM scratch container: examples/container/). The last line of the output names the binary.
#
# runsv and runsvdir are also linked static-PIE (crt-static) into target/static/release: one
# runsv runs per supervised service, and a static binary maps no dynamic loader or shared
# libc, whose relocated and writable pages are private to every process (the dynamic build
# costs about 25 KiB more per runsv; README's Budgets table, from supervise/bench/memory.sh,
# has the figures of the last run). Only these
# two: the other tools look up users and groups through NSS (chpst -u, ...), which a static
# glibc binary cannot do safely (getpwnam of an unknown user crashes it on Debian 12).
# The install step takes runsv and runsvdir from target/static/release.
#
# --target TRIPLE builds for any Rust target installed here (rustup target add TRIPLE), such as
# x86_64-unknown-linux-musl, whose binaries are all static (musl reads /etc/passwd itself; no
# NSS), or an OpenWrt router's. ring, the crypto of svlogd's TLS forwarding, is partly C, so the
# target needs a C compiler: CC_TRIPLE (cc's variable, dashes or underscores), TARGET_CC, or
# else the usual cross-compiler name (x86_64-linux-musl-gcc, which Debian's musl-tools installs;
# TRIPLE-gcc; cc for this machine's own triple). For a target of another architecture that
# compiler also links, unless CARGO_TARGET_TRIPLE_LINKER says otherwise. What is missing is
# said before anything is built (exit 111); a wrong command line exits 100.
# scripts/install.sh --from=target/TRIPLE/release installs the result (with --multicall too).
#
# --multicall builds only runit-rs, every program in one binary, and names it on the last line.
#
# --no-tls builds without svlogd's forwarding over TLS (the cargo feature tls: rustls and
# ring, most of svlogd's size), into target/notls/ instead of target/.
#
# --small builds the smallest form: the multicall binary runit-rs alone, for TRIPLE (default:
# this machine's musl target), into target/small/TRIPLE/small/runit-rs (target/notls/small/...
# with --no-tls). It needs a nightly toolchain (NIGHTLY, default nightly) with rust-src and
# the target's standard library (rustup component add rust-src --toolchain nightly; rustup
# target add TRIPLE --toolchain nightly): std is rebuilt with the program (-Z build-std) and
# for size (the cargo profile small: opt-level z, svlogd at 2 and memchr at 3), a panic aborts
# at once, with no message and no unwind tables (-C panic=immediate-abort; the programs never
# panic on any input: that is fuzzed), and on musl it is linked static at a fixed address
# (no relocations to apply at start: fewer private pages per process). What is missing is
# named before anything is built.
set -eu
prog=build-release.sh
usage() {
    echo "usage: $prog [--target TRIPLE] [--multicall] [--no-tls] [--small]" >&2
    exit 100
}
fatal() {
    echo "$prog: fatal: $*" >&2
    exit 111
}

triple=""
cross=""
notls=""
small=""
multicall=""
while [ $# -gt 0 ]; do
    case $1 in
        --target) [ $# -ge 2 ] || usage; triple=$2; cross=1; shift ;;
        --target=*) triple=${1#*=}; cross=1 ;;
        --multicall) multicall=1 ;;
        --no-tls) notls=1 ;;
        --small) small=1 ;;
        -h | --help)
            echo "usage: $prog [--target TRIPLE] [--multicall] [--no-tls] [--small]"
            echo "Builds every binary for release, into target/release, or target/TRIPLE/release"
            echo "for a Rust target (installed with rustup target add TRIPLE; C compiler from"
            echo "CC_TRIPLE or TARGET_CC, else TRIPLE's usual cross compiler)."
            echo "--multicall builds only runit-rs, every program in one binary (install it with"
            echo "scripts/install.sh --multicall --from=DIR), and names it on the last line."
            echo "--no-tls: without svlogd's forwarding over TLS, into target/notls/."
            echo "--small: the multicall binary runit-rs alone, as small as it gets (nightly"
            echo "toolchain with rust-src; TRIPLE defaults to this machine's musl target)."
            exit 0
            ;;
        *) usage ;;
    esac
    shift
done
[ -z "$cross" ] || case $triple in -* | "") usage ;; esac

cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$PWD/$target ;; esac
features=""
if [ -n "$notls" ]; then
    features=--no-default-features
    target=$target/notls
fi
host=$(rustc -vV | sed -n 's/^host: //p')
if [ -n "$small" ] && [ -z "$cross" ]; then
    triple=${host%%-*}-unknown-linux-musl
    cross=1
fi

if [ -z "$cross" ]; then
    if [ -n "$multicall" ]; then
        cargo build --release -p runit-rs --locked $features --target-dir "$target"
        echo "$prog: built $target/release/runit-rs"
        exit 0
    fi
    cargo build --release --bins --locked $features --target-dir "$target"
    RUSTFLAGS="-C target-feature=+crt-static" \
        cargo build --release -p supervise --bins --locked --target-dir "$target/static"
    exit 0
fi

# The Rust side: a triple rustc knows, with its standard library installed.
command -v rustc >/dev/null || fatal "rustc not found"
rustc --print target-list | grep -qx -- "$triple" ||
    fatal "unknown Rust target $triple (rustc --print target-list lists them)"
nightly=${NIGHTLY:-nightly}
if [ -n "$small" ]; then
    rustup run "$nightly" rustc -V >/dev/null 2>&1 ||
        fatal "--small needs a nightly Rust toolchain: rustup toolchain install $nightly (NIGHTLY names another)"
    sysroot=$(rustup run "$nightly" rustc --print sysroot)
    [ -d "$sysroot/lib/rustlib/src/rust/library" ] ||
        fatal "--small needs the standard library's source: rustup component add rust-src --toolchain $nightly"
    # A target rustup ships (tier 2) must be installed: its musl start files come with it. A
    # tier 3 target (mipsel-unknown-linux-musl) has none to install: std is built here anyway,
    # and the C cross compiler links it with its own.
    if [ ! -d "$sysroot/lib/rustlib/$triple/lib" ] &&
        rustup target list --toolchain "$nightly" 2>/dev/null | grep -q "^$triple\( \|$\)"; then
        fatal "the Rust target $triple is not installed for $nightly: rustup target add $triple --toolchain $nightly"
    fi
else
    [ -d "$(rustc --print sysroot)/lib/rustlib/$triple/lib" ] ||
        fatal "the Rust target $triple is not installed: rustup target add $triple"
fi

# The C side: the compiler cc (ring's build) would take, found before anything is built.
var=$(echo "$triple" | tr - _)
arch=${triple%%-*}
cc=""
for v in "CC_$triple" "CC_$var" TARGET_CC; do
    # Read through env: CC_x86_64-unknown-linux-musl is no shell name (and dash drops it).
    val=$(env | sed -n "s/^$v=//p" | head -n 1)
    if [ -n "$val" ]; then
        # shellcheck disable=SC2086
        set -- $val
        command -v "$1" >/dev/null ||
            fatal "the C compiler for $triple is missing: $v=$val, but $1 is not found"
        cc=$val
        break
    fi
done
if [ -z "$cc" ]; then
    # x86_64-unknown-linux-musl -> x86_64-linux-musl-gcc (the vendor left out), then the
    # whole triple, then this machine's own compiler for its own triple.
    rest=${triple#*-}
    candidates="$arch-${rest#*-}-gcc $triple-gcc"
    [ "$triple" != "$host" ] || candidates="$candidates cc"
    for c in $candidates; do
        if command -v "$c" >/dev/null; then
            cc=$c
            break
        fi
    done
    # Without TLS nothing is C (ring is svlogd's TLS): rustc's own linker choice then stands.
    [ -n "$cc" ] || [ -n "$notls" ] || fatal "no C compiler for $triple (ring, svlogd's TLS crypto, is partly C): \
looked for $candidates; set CC_$var to one (for x86_64-unknown-linux-musl, Debian's \
musl-tools gives x86_64-linux-musl-gcc; for OpenWrt, its SDK's toolchain-*/bin/*-gcc)"
    [ -z "$cc" ] || export "CC_$var=$cc"
fi
linker_var=CARGO_TARGET_$(echo "$var" | tr '[:lower:]' '[:upper:]')_LINKER
if [ -n "$cc" ] && [ "$arch" != "${host%%-*}" ] && [ -z "$(env | sed -n "s/^$linker_var=//p")" ]; then
    export "$linker_var=${cc%% *}"
fi

if [ -n "$small" ]; then
    flags="-Zunstable-options -Cpanic=immediate-abort -Cforce-unwind-tables=no"
    case $triple in
        *-musl*) flags="$flags -Crelocation-model=static -Ctarget-feature=+crt-static" ;;
    esac
    RUSTFLAGS="$flags" rustup run "$nightly" cargo build -Zbuild-std=std,panic_abort \
        --profile small -p runit-rs --locked $features --target "$triple" --target-dir "$target/small"
    echo "$prog: built $target/small/$triple/small/runit-rs"
    exit 0
fi

if [ -n "$multicall" ]; then
    cargo build --release -p runit-rs --locked $features --target "$triple" --target-dir "$target"
    echo "$prog: built $target/$triple/release/runit-rs"
    exit 0
fi
cargo build --release --bins --locked $features --target "$triple" --target-dir "$target"
case $triple in
    *-gnu*)
        RUSTFLAGS="-C target-feature=+crt-static" \
            cargo build --release -p supervise --bins --locked --target "$triple" \
            --target-dir "$target/static"
        ;;
esac
