//! Symbolic links planted in a log directory where svlogd creates and writes files (`lock`,
//! `current`, the processor's `state`): removed with a warning, never followed, so nothing is
//! written elsewhere through them.

use crate::msg;
use std::os::fd::OwnedFd;
use sys::dirfd::{is_link, unlinkat};

/// Removes a symbolic link planted as `name` in the log directory `dirname`, with a warning.
pub fn remove_link(dir: &OwnedFd, dirname: &[u8], name: &[u8]) {
    if is_link(dir, name) {
        let what = [dirname, b"/", name].concat();
        match unlinkat(dir, name) {
            Ok(()) => msg::warnx("symbolic link removed", &what),
            Err(e) => msg::warn("unable to remove symbolic link", &what, e),
        }
    }
}
