//! What std's start-up code does before `main`, for the binaries that skip it (`no_main`:
//! runsv, and the multicall binary), so a program behaves the same however it was started.
//!
//! std's start-up reopens closed standard fds on `/dev/null`, sets SIGPIPE to "ignore", maps
//! an alternate signal stack for its stack-overflow report (8 KiB of private memory per process,
//! which runsv does without), and captures argv: on glibc from the C library's initialiser
//! call, on musl only in its own `main`, so a `no_main` binary on musl must take argv from
//! C's `main` ([`args`]).

use std::ffi::{CStr, OsString};
use std::os::fd::BorrowedFd;
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

/// Standard fd `n` (0, 1 or 2) by number. `std::io::stdin()` and `stdout()` would do, but
/// their first use allocates std's buffers (8 KiB for stdin, 1 KiB for stdout), heap pages
/// that then stay dirty in every runsv.
pub fn std_fd(n: u8) -> BorrowedFd<'static> {
    debug_assert!(n <= 2);
    // SAFETY: 0, 1 and 2 are never closed by these programs once start-up has run
    // (`sanitize_stdio` keeps them open on /dev/null); before that, a closed one only makes
    // the system call given it fail with EBADF.
    unsafe { BorrowedFd::borrow_raw(i32::from(n)) }
}

/// Opens `/dev/null` on any of fds 0, 1, 2 that is closed, so no file the program opens later
/// lands there by accident.
pub fn sanitize_stdio() {
    for n in 0..=2 {
        // F_GETFD only asks: EBADF says the number is free.
        let closed = nix::fcntl::fcntl(std_fd(n), nix::fcntl::FcntlArg::F_GETFD)
            == Err(nix::errno::Errno::EBADF);
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
