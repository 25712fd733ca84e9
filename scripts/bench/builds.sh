# The builds the budgets of issue 13 measure (sourced after scripts/bench/lib.sh): where each
# one's binaries are, and how it is made (scripts/build-release.sh, once, by build_all).
#
#   glibc          cargo build --release: dynamic, runsv and runsvdir at a fixed address
#                  (supervise/build.rs), the build a plain `cargo install` or demo gives
#   glibc-static   runsv and runsvdir static-PIE, as scripts/install.sh installs them
#   glibc-notls    svlogd without TLS (build-release.sh --no-tls)
#   musl           every program, static (build-release.sh --target MUSL)
#   small          the multicall binary, smallest form (build-release.sh --small)
#   small-notls    the same without TLS (build-release.sh --small --no-tls)
#
# A multicall binary runs as a program through a link named for it: applet_dir makes them.
MUSL=$(rustc -vV | sed -n 's/^host: //p')
MUSL=${MUSL%%-*}-unknown-linux-musl
B_GLIBC=$CARGO_TARGET_DIR/release
B_GLIBC_STATIC=$CARGO_TARGET_DIR/static/release
B_GLIBC_NOTLS=$CARGO_TARGET_DIR/notls/release
B_MUSL=$CARGO_TARGET_DIR/$MUSL/release
B_SMALL=$CARGO_TARGET_DIR/small/$MUSL/small/runit-rs
B_SMALL_NOTLS=$CARGO_TARGET_DIR/notls/small/$MUSL/small/runit-rs

# build_all: every build above (cargo does nothing for one that is up to date).
build_all() {
    # One at a time: `set -e` does not reach into a list that is the left side of `||`.
    for args in "" --no-tls "--target $MUSL" --small "--small --no-tls"; do
        # shellcheck disable=SC2086
        (cd "$ROOT" && scripts/build-release.sh $args) >&2 ||
            bench_fatal "scripts/build-release.sh $args failed (it names what is missing)"
    done
    # Written back before anything is measured: the page cache's pages of a file just written
    # stay dirty until then, and /proc/PID/smaps counts those a process maps as its own
    # Private_Dirty (a runsv started on a fresh binary showed 8-70 KiB too many).
    sync
}

# applet_dir BINARY DIR: DIR holds a link named for every program of the multicall BINARY.
applet_dir() {
    mkdir -p "$2"
    for n in $("$1" --list); do
        ln -sf "$1" "$2/$n"
    done
}
