//! svlogd's diagnostics, in runit's words (spec/svlogd.md §9).
//!
//! The prefix is always `svlogd: ` (not argv\[0\]); the error text is runit's own
//! (`formats::strerr::errstr`). Every message goes out in one `write(2)`.

use formats::strerr::{errstr, say_bytes};

/// `svlogd: fatal: ` (exit 111 follows).
pub const FATAL: &[u8] = b"svlogd: fatal: ";
/// `svlogd: warning: `.
pub const WARNING: &[u8] = b"svlogd: warning: ";
/// `svlogd: pausing: ` (a 3-second retry follows).
pub const PAUSE: &[u8] = b"svlogd: pausing: ";
/// `svlogd: info: ` (only with `-v`).
pub const INFO: &[u8] = b"svlogd: info: ";

/// `svlogd: warning: WHAT: ARG: ERR`.
pub fn warn(what: &str, arg: &[u8], errno: i32) {
    say_bytes(&[
        WARNING,
        what.as_bytes(),
        b": ",
        arg,
        b": ",
        errstr(errno).as_bytes(),
    ]);
}

/// `svlogd: warning: WHAT: ERR` (no argument).
pub fn warn1(what: &str, errno: i32) {
    say_bytes(&[WARNING, what.as_bytes(), b": ", errstr(errno).as_bytes()]);
}

/// `svlogd: warning: WHAT: ARG` (no error text).
pub fn warnx(what: &str, arg: &[u8]) {
    say_bytes(&[WARNING, what.as_bytes(), b": ", arg]);
}

/// `svlogd: pausing: WHAT: ARG: ERR`.
pub fn pause(what: &str, arg: &[u8], errno: i32) {
    say_bytes(&[
        PAUSE,
        what.as_bytes(),
        b": ",
        arg,
        b": ",
        errstr(errno).as_bytes(),
    ]);
}

/// `svlogd: info: PARTS...`.
pub fn info(parts: &[&[u8]]) {
    let mut all: Vec<&[u8]> = Vec::with_capacity(parts.len() + 1);
    all.push(INFO);
    all.extend_from_slice(parts);
    say_bytes(&all);
}

/// `svlogd: fatal: WHAT` (runit's messages end in a period here: `no functional log
/// directories.`).
pub fn fatalx(what: &str) {
    say_bytes(&[FATAL, what.as_bytes()]);
}

/// `svlogd: fatal: WHAT: ERR`.
pub fn fatal(what: &str, errno: i32) {
    say_bytes(&[FATAL, what.as_bytes(), b": ", errstr(errno).as_bytes()]);
}
