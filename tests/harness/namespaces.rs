//! Running a program in namespaces of its own, so a test can change what it sees without
//! touching the machine: process 1 of a pid namespace (a container's init), no inotify.

use crate::{cmd_clean, reference, run, Impl, WAIT};
use std::process::Command;

/// A command that runs `imp`'s `prog` as process 1 of a pid namespace of its own (`unshare
/// --pid --fork --mount-proc`), with `imp`'s PATH: runsvdir as a container's init. `prog` is
/// the first child of the process started (see [`crate::child_pids`]).
pub fn as_pid1(imp: Impl, prog: &str) -> Command {
    let mut c = cmd_clean(reference("/usr/bin/unshare").as_os_str());
    c.env("PATH", imp.path_env())
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(imp.bin(prog));
    c
}

/// A command that runs `imp`'s `prog` in a user namespace of its own whose
/// `max_inotify_instances` is 0, so `inotify_init1` fails as when
/// `fs.inotify.max_user_instances` is used up; nothing else on the machine shares it.
pub fn without_inotify(imp: Impl, prog: &str) -> Command {
    let mut c = cmd_clean(reference("/usr/bin/unshare").as_os_str());
    c.env("PATH", imp.path_env())
        .args(["--user", "--map-root-user", "sh", "-c"])
        .arg("echo 0 >/proc/sys/user/max_inotify_instances && exec \"$0\" \"$@\"")
        .arg(imp.bin(prog));
    c
}

/// Raises the inotify limit of the process `pid` started by [`without_inotify`] to 16,
/// inside its namespace only: inotify is to be had again.
pub fn allow_inotify(pid: i32) {
    let mut raise = cmd_clean(reference("/usr/bin/nsenter").as_os_str());
    raise
        .args(["--user", "--target", &pid.to_string(), "sh", "-c"])
        .arg("echo 16 >/proc/sys/user/max_inotify_instances");
    let out = run(&mut raise, WAIT);
    assert!(out.status.success(), "raise the inotify limit: {out:?}");
}
