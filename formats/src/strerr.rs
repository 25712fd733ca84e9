//! runit's diagnostics: djb-style error texts and the `PROG: fatal: ...` message shapes.
//!
//! runit and daemontools print their own error strings, not `strerror()`: `file does not exist`
//! for ENOENT, `temporary failure` for EAGAIN, `device not configured` for ENXIO. Scripts and
//! humans grep for these, so every binary of the workspace takes its error text from [`errstr`].

use std::io::{self, Write};

/// runit's text for an errno value (djb's `error_str`).
pub fn errstr(errno: i32) -> &'static str {
    use nix::libc::*;
    match errno {
        EINTR => "interrupted system call",
        ENOMEM => "out of memory",
        ENOENT => "file does not exist",
        ETXTBSY => "text busy",
        EIO => "input/output error",
        EEXIST => "file already exists",
        ETIMEDOUT => "timed out",
        EINPROGRESS => "operation in progress",
        EAGAIN => "temporary failure",
        EPIPE => "broken pipe",
        EPERM => "permission denied",
        EACCES => "access denied",
        ENXIO => "device not configured",
        EPROTO => "protocol error",
        EISDIR => "is a directory",
        ECONNREFUSED => "connection refused",
        ENOTDIR => "not a directory",
        ESRCH => "no such process",
        E2BIG => "argument list too long",
        ENOEXEC => "exec format error",
        EBADF => "file descriptor not open",
        ECHILD => "no child processes",
        EDEADLK => "operation would cause deadlock",
        EFAULT => "bad address",
        ENOTBLK => "not a block device",
        EBUSY => "device busy",
        EXDEV => "cross-device link",
        ENODEV => "device does not support operation",
        EINVAL => "invalid argument",
        ENFILE => "system cannot open more files",
        EMFILE => "process cannot open more files",
        ENOTTY => "not a tty",
        EFBIG => "file too big",
        ENOSPC => "out of disk space",
        ESPIPE => "unseekable descriptor",
        EROFS => "read-only file system",
        EMLINK => "too many links",
        EDOM => "input out of range",
        ERANGE => "output out of range",
        EALREADY => "operation already in progress",
        ENOTSOCK => "not a socket",
        EDESTADDRREQ => "destination address required",
        EMSGSIZE => "message too long",
        EPROTOTYPE => "incorrect protocol type",
        ENOPROTOOPT => "protocol not available",
        EPROTONOSUPPORT => "protocol not supported",
        ESOCKTNOSUPPORT => "socket type not supported",
        EOPNOTSUPP => "operation not supported",
        EPFNOSUPPORT => "protocol family not supported",
        EAFNOSUPPORT => "address family not supported",
        EADDRINUSE => "address already used",
        EADDRNOTAVAIL => "address not available",
        ENETDOWN => "network down",
        ENETUNREACH => "network unreachable",
        ENETRESET => "network reset",
        ECONNABORTED => "connection aborted",
        ECONNRESET => "connection reset",
        ENOBUFS => "out of buffer space",
        EISCONN => "already connected",
        ENOTCONN => "not connected",
        ESHUTDOWN => "socket shut down",
        ETOOMANYREFS => "too many references",
        ELOOP => "symbolic link loop",
        ENAMETOOLONG => "file name too long",
        ENOTEMPTY => "directory not empty",
        EUSERS => "too many users",
        EDQUOT => "disk quota exceeded",
        ESTALE => "stale NFS file handle",
        EREMOTE => "too many levels of remote in path",
        EHOSTDOWN => "host down",
        EHOSTUNREACH => "host unreachable",
        ENOLCK => "no locks available",
        ENOSYS => "system call not available",
        _ => "unknown error",
    }
}

/// runit's text for an `io::Error` (its errno if it has one, else the error's own text).
pub fn ioerr(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => errstr(n).to_string(),
        None => e.to_string(),
    }
}

/// The errno of an `io::Error`, or EIO when it carries none.
pub fn errno_of(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(nix::libc::EIO)
}

/// Writes the concatenation of `parts` and a newline to stderr in one `write`, as runit's
/// strerr does, so messages from concurrent processes do not interleave mid-line.
pub fn say(parts: &[&str]) {
    let mut line = String::with_capacity(128);
    for p in parts {
        line.push_str(p);
    }
    line.push('\n');
    let _ = io::stderr().lock().write_all(line.as_bytes());
}

/// [`say`] for parts that are not always UTF-8 (directory names, config text): written as
/// they are, in one `write`, with a newline.
pub fn say_bytes(parts: &[&[u8]]) {
    let mut line = Vec::with_capacity(128);
    for p in parts {
        line.extend_from_slice(p);
    }
    line.push(b'\n');
    let _ = io::stderr().lock().write_all(&line);
}

/// A system call failure carried up to `main`: what was being done, on what, and the errno.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fatal {
    /// What failed, in runit's words (`unable to change to directory`).
    pub what: String,
    /// The errno, or `None` for failures that have no system error behind them.
    pub errno: Option<i32>,
}

impl Fatal {
    /// A failure with an errno.
    pub fn sys(what: impl Into<String>, errno: i32) -> Fatal {
        Fatal {
            what: what.into(),
            errno: Some(errno),
        }
    }

    /// A failure from an `io::Error`.
    pub fn io(what: impl Into<String>, e: &io::Error) -> Fatal {
        Fatal::sys(what, errno_of(e))
    }

    /// A failure from a nix error.
    pub fn nix(what: impl Into<String>, e: nix::Error) -> Fatal {
        Fatal::sys(what, e as i32)
    }

    /// The message without prefix: `what: errtext`, or just `what`.
    pub fn text(&self) -> String {
        match self.errno {
            Some(n) => format!("{}: {}", self.what, errstr(n)),
            None => self.what.clone(),
        }
    }
}

impl std::fmt::Display for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runit_texts() {
        // spec/svlogd.md §9 and spec/supervise.md §0.
        assert_eq!(errstr(nix::libc::ENOENT), "file does not exist");
        assert_eq!(errstr(nix::libc::EAGAIN), "temporary failure");
        assert_eq!(errstr(nix::libc::EWOULDBLOCK), "temporary failure");
        assert_eq!(errstr(nix::libc::ENXIO), "device not configured");
        assert_eq!(errstr(nix::libc::ENOSPC), "out of disk space");
        assert_eq!(errstr(nix::libc::EBADF), "file descriptor not open");
        assert_eq!(errstr(99999), "unknown error");
    }

    #[test]
    fn fatal_text() {
        let f = Fatal::sys("unable to open current", nix::libc::EACCES);
        assert_eq!(f.text(), "unable to open current: access denied");
    }
}
