//! What the tools' tests share beyond the harness: which supervisor runs a service directory
//! (runit's runsv, ours, or daemontools' supervise), running our tool and the reference side
//! by side, and service directories whose supervisor died.

use harness::{
    bin, exec, mask_pids, read_status_any, reference, start_in, transcript, Impl, Scratch,
};
use std::fs;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A logger that reads and discards its input, for services whose log is not what a test
/// looks at (but whose `log/` the tools report on).
pub const DISCARD_LOG: &str = "#!/bin/sh\nexec cat >/dev/null\n";

/// Which supervisor runs a service directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sup {
    /// Debian's runit `/usr/bin/runsv`.
    Runit,
    /// The workspace's `runsv`.
    Ours,
    /// daemontools' `/usr/bin/supervise`.
    Daemontools,
}

impl Sup {
    /// The supervisor's program.
    pub fn program(self) -> PathBuf {
        match self {
            Sup::Runit => Impl::Runit.bin("runsv"),
            Sup::Ours => Impl::Ours.bin("runsv"),
            Sup::Daemontools => reference("/usr/bin/supervise"),
        }
    }
}

/// Starts `sup` on `dir` (from the scratch directory, with its own process group) and waits
/// until it answers on `supervise/ok` and has written a status record (daemontools' too, see
/// [`read_status_any`]).
pub fn supervise(s: &Scratch, sup: Sup, dir: &Path) -> harness::Proc {
    let mut cmd = harness::cmd_clean(sup.program().as_os_str());
    cmd.arg(dir);
    let p = start_in(s, &mut cmd, None);
    harness::wait_until_or(
        harness::WAIT,
        &format!("{sup:?} to supervise {}", dir.display()),
        &mut || harness::supervised(dir) && read_status_any(dir).is_some(),
        || s.listing(),
    );
    p
}

/// Runs our tool `name`.
pub fn ours(name: &str, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    exec(&bin(name), cwd, args, env)
}

/// Runs the reference tool at `path`.
pub fn theirs(path: &str, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    exec(&reference(path), cwd, args, env)
}

/// Asserts that two runs printed the same (masked) transcript.
#[track_caller]
pub fn assert_same(what: &str, ours: &Output, theirs: &Output) {
    harness::assert_text_eq(
        what,
        &mask_pids(&transcript(theirs)),
        &mask_pids(&transcript(ours)),
    );
}

/// Makes `dir/supervise` with an `ok` FIFO nobody reads (a supervisor that died) and a
/// `control` FIFO.
pub fn dead_service(s: &Scratch, name: &str) -> PathBuf {
    let dir = s.mkdir(format!("{name}/supervise"));
    for f in ["ok", "control"] {
        nix::unistd::mkfifo(
            &dir.join(f),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .expect("mkfifo");
    }
    s.join(name)
}

/// Holds the read end of `dir/supervise/ok` open, so the directory looks supervised.
pub fn hold_ok(dir: &Path) -> fs::File {
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(dir.join("supervise/ok"))
        .expect("open ok fifo")
}
