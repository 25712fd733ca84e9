//! runsv: supervise one service directory and its log service (runit-compatible).
//!
//! `no_main`: std's start-up code would map an alternate signal stack for its stack-overflow
//! report, 8 KiB of private memory in every runsv (one runs per service). `run` restores what
//! else that code did that matters here (standard fds open, SIGPIPE ignored).
#![no_main]

use formats::help::{self, About};
use std::os::raw::{c_char, c_int};
use supervise::runsv::{self, USAGE};

#[no_mangle]
extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
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
