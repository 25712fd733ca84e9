//! What std's start-up code does before `main`, for the binaries that skip it (`no_main`:
//! runsv, and the multicall binary), so a program behaves the same however it was started.
//!
//! std's start-up reopens closed standard fds on `/dev/null`, sets SIGPIPE to "ignore", maps
//! an alternate signal stack for its stack-overflow report (8 KiB of private memory per process,
//! which runsv does without), and captures argv: on glibc from the C library's initialiser
//! call, on musl only in its own `main`, so a `no_main` binary on musl must take argv from
//! C's `main` ([`args`]).

use std::ffi::{CStr, OsString};
use std::os::raw::{c_char, c_int};
use std::os::unix::ffi::OsStringExt;

/// Copies C's `argc`/`argv` into owned strings.
///
/// # Safety
/// `argv` must be what the C start-up code passed to `main` with `argc`: `argc` pointers to
/// NUL-terminated strings (then a null one).
pub unsafe fn args(argc: c_int, argv: *const *const c_char) -> Vec<OsString> {
    let n = usize::try_from(argc).unwrap_or(0);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        // SAFETY: the caller passes C's argv, which holds argc pointers.
        let arg = unsafe { *argv.add(i) };
        if arg.is_null() {
            break;
        }
        // SAFETY: each is a NUL-terminated string that lives as long as the process.
        let bytes = unsafe { CStr::from_ptr(arg) }.to_bytes();
        out.push(OsString::from_vec(bytes.to_vec()));
    }
    out
}

/// Opens `/dev/null` on any of fds 0, 1, 2 that is closed, so no file the program opens later
/// lands there by accident.
pub fn sanitize_stdio() {
    use std::os::fd::AsFd;
    let (i, o, e) = (std::io::stdin(), std::io::stdout(), std::io::stderr());
    for fd in [i.as_fd(), o.as_fd(), e.as_fd()] {
        // F_GETFD only asks: EBADF says the number is free.
        let closed =
            nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFD) == Err(nix::errno::Errno::EBADF);
        if closed {
            // The lowest free number, which is this one; it stays open for the process's life.
            if let Ok(null) = nix::fcntl::open(
                "/dev/null",
                nix::fcntl::OFlag::O_RDWR,
                nix::sys::stat::Mode::empty(),
            ) {
                std::mem::forget(null);
            }
        }
    }
}

/// Standard fds open and SIGPIPE ignored, as std leaves a process before `main`.
pub fn as_std_does() {
    sanitize_stdio();
    crate::signal::set(
        nix::sys::signal::Signal::SIGPIPE,
        crate::signal::Disposition::Ignore,
    );
}
