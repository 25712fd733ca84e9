//! `scripts/build-release.sh --target TRIPLE [--multicall]`: its usage and help, and what it
//! says, before building anything, when something a cross build needs is missing (issue 13
//! item 7). The builds themselves are not
//! run here (a release build takes minutes); the test command's musl leg builds and tests the
//! same workspace for musl.

use crate::*;

/// Runs the release build script with `args` in the test's own environment (cargo and rustc
/// on its PATH), without any C compiler variable of cc's but those in `env`, and without
/// libfaketime (see `harness::without_faketime`).
fn build_release(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new("/bin/sh");
    c.arg(harness::workspace("scripts/build-release.sh"))
        .args(args);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("CC_") || k == "TARGET_CC" || k.starts_with("CARGO_TARGET_") {
            c.env_remove(k);
        }
    }
    c.envs(env.iter().copied());
    harness::run(harness::without_faketime(&mut c), T)
}

/// `rustc`'s answer to `args`, trimmed.
fn rustc(args: &[&str]) -> String {
    let o = harness::run(
        harness::without_faketime(Command::new("rustc").args(args)),
        T,
    );
    assert!(o.status.success(), "rustc {args:?}: {}", transcript(&o));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn host() -> String {
    rustc(&["-vV"])
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("host line")
        .to_string()
}

const USAGE: &str =
    "usage: build-release.sh [--target TRIPLE] [--multicall] [--no-tls] [--small]\n";

#[test]
fn a_wrong_command_line_gets_the_usage() {
    for args in [
        &["--target"][..],
        &["-x"],
        &["--multicall", "--target"],
        &["--multicall=yes"],
        &["--multicall", "extra"],
        &["--target", "--multicall"],
    ] {
        let o = build_release(args, &[]);
        assert_eq!(
            transcript(&o),
            format!("--- stdout\n--- stderr\n{USAGE}--- exit 100\n"),
            "{args:?}"
        );
    }
}

#[test]
fn the_small_build_names_a_missing_nightly() {
    let o = build_release(&["--small"], &[("NIGHTLY", "no-such-toolchain")]);
    assert_eq!(
        transcript(&o),
        "--- stdout\n--- stderr\nbuild-release.sh: fatal: --small needs a nightly Rust toolchain: \
         rustup toolchain install no-such-toolchain (NIGHTLY names another)\n--- exit 111\n"
    );
}

#[test]
fn help_names_every_option() {
    for args in [&["--help"][..], &["-h"], &["--multicall", "--help"]] {
        let o = build_release(args, &[]);
        assert_eq!(
            transcript(&o),
            "--- stdout\nusage: build-release.sh [--target TRIPLE] [--multicall] [--no-tls] [--small]\n\
             Builds every binary for release, into target/release, or target/TRIPLE/release\n\
             for a Rust target (installed with rustup target add TRIPLE; C compiler from\n\
             CC_TRIPLE or TARGET_CC, else TRIPLE's usual cross compiler).\n\
             --multicall builds only runit-rs, every program in one binary (install it with\n\
             scripts/install.sh --multicall --from=DIR), and names it on the last line.\n\
             --no-tls: without svlogd's forwarding over TLS, into target/notls/.\n\
             --small: the multicall binary runit-rs alone, as small as it gets (nightly\n\
             toolchain with rust-src; TRIPLE defaults to this machine's musl target).\n\
             --- stderr\n--- exit 0\n",
            "{args:?}"
        );
    }
}

#[test]
fn an_unknown_triple_is_named() {
    // The same check, before anything is built, with --multicall on either side.
    for args in [
        &["--target", "no-such-triple"][..],
        &["--multicall", "--target", "no-such-triple"],
        &["--target=no-such-triple", "--multicall"],
    ] {
        let o = build_release(args, &[]);
        assert_eq!(
            transcript(&o),
            "--- stdout\n--- stderr\nbuild-release.sh: fatal: unknown Rust target no-such-triple \
             (rustc --print target-list lists them)\n--- exit 111\n",
            "{args:?}"
        );
    }
}

#[test]
fn a_target_not_installed_says_how_to_install_it() {
    let lib = std::path::PathBuf::from(rustc(&["--print", "sysroot"])).join("lib/rustlib");
    let list = rustc(&["--print", "target-list"]);
    let missing = list
        .lines()
        .find(|t| !lib.join(t).join("lib").is_dir())
        .expect("a Rust target not installed here");
    for multicall in [false, true] {
        let mut args = vec!["--target", missing];
        if multicall {
            args.push("--multicall");
        }
        let o = build_release(&args, &[]);
        assert_eq!(
            transcript(&o),
            format!(
                "--- stdout\n--- stderr\nbuild-release.sh: fatal: the Rust target {missing} is \
                 not installed: rustup target add {missing}\n--- exit 111\n"
            ),
            "{args:?}"
        );
    }
}

#[test]
fn a_c_compiler_that_is_not_there_is_named() {
    let host = host();
    let var = format!("CC_{}", host.replace('-', "_"));
    let o = build_release(&["--target", &host], &[(&var, "/nonexistent/cc -O2")]);
    assert_eq!(
        transcript(&o),
        format!(
            "--- stdout\n--- stderr\nbuild-release.sh: fatal: the C compiler for {host} is \
             missing: {var}=/nonexistent/cc -O2, but /nonexistent/cc is not found\n--- exit 111\n"
        )
    );
}
