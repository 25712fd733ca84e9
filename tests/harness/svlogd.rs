//! Running svlogd for a test: its log directory, the command (ours or runit's) and the file
//! its standard error goes to.

use crate::{Impl, Proc};
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where [`spawn_svlogd`] sends svlogd's stderr: `svlogd.stderr` in its working directory (a
/// file, so a chatty logger never blocks on a full pipe).
pub const SVLOGD_STDERR: &str = "svlogd.stderr";

/// Makes the log directory `cwd/rel` with `config` as its `config` file (none if empty), and
/// returns its path.
pub fn logdir(cwd: &Path, rel: &str, config: &str) -> PathBuf {
    let d = cwd.join(rel);
    fs::create_dir_all(&d).expect("mkdir log directory");
    if !config.is_empty() {
        fs::write(d.join("config"), config).expect("write config");
    }
    d
}

/// A command for `imp`'s svlogd run as `svlogd` (its `argv[0]`, which its messages start
/// with) in `cwd`, with a clean environment whose PATH has our binaries first for either
/// (a processor finds the same programs under both).
pub fn svlogd_cmd(imp: Impl, cwd: &Path) -> Command {
    let mut c = imp.cmd("svlogd");
    c.arg0("svlogd")
        .env("PATH", crate::test_path())
        .current_dir(cwd);
    c
}

/// Starts `cmd` (see [`svlogd_cmd`]) in a process group of its own with `stdin`, its stdout
/// on /dev/null and its stderr appended to [`SVLOGD_STDERR`] in `cwd` (one svlogd after
/// another adds to it).
pub fn spawn_svlogd(cmd: &mut Command, cwd: &Path, stdin: Stdio) -> Proc {
    let err = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(cwd.join(SVLOGD_STDERR))
        .expect("stderr file");
    cmd.stdin(stdin).stdout(Stdio::null()).stderr(err);
    Proc::spawn_group(cmd)
}

/// What the svlogds started with [`spawn_svlogd`] in `cwd` said on stderr so far.
pub fn svlogd_stderr(cwd: &Path) -> String {
    crate::read_text(cwd.join(SVLOGD_STDERR))
}
