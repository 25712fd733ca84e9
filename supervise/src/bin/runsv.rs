//! runsv: supervise one service directory and its log service (runit-compatible); see
//! `supervise::runsv` and `runsv(8)`.
//!
//! `no_main`: std's start-up code would map an alternate signal stack for its stack-overflow
//! report, 8 KiB of private memory in every runsv (one runs per service). runsv restores what
//! else that code did that matters here (standard fds open, SIGPIPE ignored), and takes its
//! arguments from C's `main`, since std would not have them on musl (`sys::start`).
#![no_main]

use std::os::raw::{c_char, c_int};

/// Small allocations from a static buffer: no heap page per idle runsv (see `sys::arena`).
#[global_allocator]
static ARENA: sys::arena::Arena = sys::arena::Arena;

#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: these are the C start-up code's argc and argv.
    let argv = unsafe { sys::start::args(argc, argv) };
    supervise::runsv::main(argv)
}
