//! Where the programs under test come from: our binaries (built by the test command) and the
//! reference ones Debian installs, and the clean environment every process a test starts gets.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variable naming the directory of the binaries under test, so the same
/// tests run on another build of them (scripts/test.sh points it at the static musl build).
pub const BIN_DIR_ENV: &str = "TEST_BIN_DIR";

/// The directory holding the binaries under test: `TEST_BIN_DIR` when set, else the
/// workspace's own (`target/<profile>`), found from the test executable's own path
/// (`target/<profile>/deps/NAME-HASH`).
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(BIN_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("deps dir");
    deps.parent().expect("profile dir").to_path_buf()
}

/// A path in the workspace's source tree (`scripts/install.sh`, `examples`, `fuzz`, ...); its
/// root for `""`.
pub fn workspace(rel: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if rel.is_empty() {
        root
    } else {
        root.join(rel)
    }
}

/// Path of one of our binaries. Panics (loudly, never skips) if it was not built: the test
/// command builds the whole workspace before running the tests.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.is_file(),
        "our binary {} is missing: build the workspace first (`cargo build --workspace --bins`, \
         which scripts/test.sh runs)",
        p.display()
    );
    p
}

/// Path of a reference binary from Debian's packages. Panics if it is not installed: the test
/// command installs runit, daemontools, s6, busybox and the other tools the tests compare with.
pub fn reference(path: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(
        p.is_file(),
        "reference binary {path} is missing: install Debian's packages (scripts/test.sh does)"
    );
    p
}

/// Puts SIGHUP, SIGINT and SIGQUIT back to their default action in the test process, once,
/// so every process a test starts gets them as a service normally does: under `nohup`, or in
/// the background of a shell (which ignores SIGINT and SIGQUIT there), SIG_IGN would pass
/// through runsv to the services, and a service that ought to die of `sv hup` would not.
pub fn default_signals() {
    use nix::libc;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: setting a default disposition; the test process installs no handler for these.
        unsafe {
            for sig in [libc::SIGHUP, libc::SIGINT, libc::SIGQUIT] {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
    });
}

/// A `Command` for one of our binaries with a clean, fixed environment (PATH kept).
pub fn ours(name: &str) -> Command {
    cmd_clean(bin(name).as_os_str())
}

/// A `Command` for a program with only PATH (with our binaries first) in its environment,
/// and the test process's [`ambient`] variables (the zone, libfaketime's).
pub fn cmd_clean(program: &OsStr) -> Command {
    let mut c = Command::new(program);
    c.clean_env();
    c.env("PATH", test_path());
    c
}

/// Whether an environment variable of the test process is passed on to the processes tests
/// start with a clean environment: the zone (`TZ`) and libfaketime's settings (`LD_PRELOAD`,
/// `FAKETIME*`). So the whole suite can be run in another zone or with the clock moved, and
/// every process sees the zone and the clock the test itself sees:
/// `TZ=Pacific/Kiritimati scripts/test.sh`, `LD_PRELOAD=$(find /usr/lib -name
/// libfaketimeMT.so.1) FAKETIME=+365d FAKETIME_DONT_FAKE_MONOTONIC=1 scripts/test.sh`.
pub fn ambient(name: &OsStr) -> bool {
    let n = name.as_encoded_bytes();
    n == b"TZ" || n == b"LD_PRELOAD" || n.starts_with(b"FAKETIME")
}

/// Takes libfaketime's settings out of a command's environment: for the Rust toolchain
/// (rustc, cargo), which is not under test and hangs at start under libfaketime, so the
/// tests that run it pass with the clock moved too.
pub fn without_faketime(c: &mut Command) -> &mut Command {
    for (k, _) in std::env::vars_os() {
        let n = k.as_encoded_bytes();
        if n == b"LD_PRELOAD" || n.starts_with(b"FAKETIME") {
            c.env_remove(k);
        }
    }
    c
}

/// `Command::env_clear` that keeps the test process's [`ambient`] variables.
pub trait CleanEnv {
    /// Clears the environment but for the zone and libfaketime's settings.
    fn clean_env(&mut self) -> &mut Self;
}

impl CleanEnv for Command {
    fn clean_env(&mut self) -> &mut Command {
        self.env_clear();
        self.envs(std::env::vars_os().filter(|(k, _)| ambient(k)))
    }
}

/// PATH for spawned processes: our binaries first, then the system's.
pub fn test_path() -> String {
    format!(
        "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        bin_dir().display()
    )
}

/// The daemontools names chpst answers to (its behaviour follows its `argv[0]`), which the
/// install step links to it.
pub const CHPST_ALIASES: [&str; 6] = [
    "envdir",
    "envuidgid",
    "pgrphack",
    "setuidgid",
    "setlock",
    "softlimit",
];
