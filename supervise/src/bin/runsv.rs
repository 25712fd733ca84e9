//! runsv: supervise one service directory and its log service (runit-compatible).
//!
//! `no_main`: std's start-up code would map an alternate signal stack for its stack-overflow
//! report, 8 KiB of private memory in every runsv (one runs per service). `run` restores what
//! else that code did that matters here (standard fds open, SIGPIPE ignored). The arguments
//! come from C's `main` itself: std captures them only in its own start-up on musl (glibc hands
//! them to std's initialiser as well), so `std::env::args_os()` would be empty there.
#![no_main]

use std::ffi::{CStr, OsString};
use std::os::raw::{c_char, c_int};
use std::os::unix::ffi::OsStringExt;
use supervise::help::{self, About};
use supervise::runsv::{self, USAGE};

#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    let argv = args(argc, argv);
    // Built only when asked for: every runsv that does not answer keeps no trace of it.
    if help::request(&argv).is_some() {
        let about = About {
            name: "runsv",
            synopsis: &[&["runsv", USAGE].concat()],
            text: "Starts ./run in the service directory dir and restarts it whenever it exits;\n\
                   starts ./log/run too, with ./run's output piped into it.",
        };
        return help::answer(&argv, &about).unwrap_or(0);
    }
    runsv::run(&argv)
}

/// Copies C's `argc`/`argv` into owned strings (every C library passes them to `main`).
fn args(argc: c_int, argv: *const *const c_char) -> Vec<OsString> {
    let n = usize::try_from(argc).unwrap_or(0);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        // SAFETY: the C start-up code passes `argc` pointers in `argv` (then a null one).
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
