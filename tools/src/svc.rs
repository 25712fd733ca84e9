//! daemontools' `svc`: send control bytes to supervisors (`spec/supervise.md` §6).
//!
//! `svc -udopchaitkx DIR...`: the option letters, duplicates dropped and in the order first
//! given, are written in one write to each `DIR/supervise/control`. Warnings never change the
//! exit code (0), as in daemontools. Differences: a bare DIR is looked up under `SVDIR` first
//! (see [`crate::enter::enter_daemontools`]), and runsv's `-q`, `-1`, `-2` are accepted too.

use crate::enter::{enter_daemontools, svdir_from_env, Origin};
use formats::control::{self, ClientError};
use formats::getopt::{Getopt, Opt};
use formats::strerr::{errno_of, errstr, say};
use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

/// daemontools' usage text (printed alone, exit 100).
pub const USAGE: &str = "svc options: u up, d down, o once, x exit, p pause, c continue, h hup, a alarm, i interrupt, t term, k kill";
/// Exit code for usage errors.
pub const EXIT_USAGE: i32 = 100;
/// Exit code when the current directory cannot be used.
pub const EXIT_FATAL: i32 = 111;
/// The option letters: daemontools' eleven plus runsv's `q`, `1`, `2`.
pub const LETTERS: &str = "udopchaitkxq12";
/// At most this many distinct letters are sent (daemontools' buffer).
pub const MAX_LETTERS: usize = 20;

/// Runs `svc` and returns the exit code.
pub fn main(argv: Vec<OsString>) -> i32 {
    let mut data: Vec<u8> = Vec::new();
    let mut g = Getopt::new(&argv, LETTERS);
    for opt in g.by_ref() {
        match opt {
            Opt::Flag(c, _) => {
                if data.len() < MAX_LETTERS && !data.contains(&c) {
                    data.push(c);
                }
            }
            other => {
                if let Some(m) = other.error_message("svc") {
                    say(&[&m]);
                }
                say(&[USAGE]);
                return EXIT_USAGE;
            }
        }
    }
    let dirs = g.operands().to_vec();
    let origin = match Origin::open() {
        Ok(o) => o,
        Err(e) => {
            say(&[
                "svc: fatal: unable to open current directory: ",
                errstr(e as i32),
            ]);
            return EXIT_FATAL;
        }
    };
    let svdir = svdir_from_env();
    for dir in &dirs {
        let shown = dir.to_string_lossy();
        match enter_daemontools(dir, &svdir, &origin) {
            Err(e) => say(&[
                "svc: warning: unable to chdir to ",
                &shown,
                ": ",
                errstr(e as i32),
            ]),
            Ok(()) => match control::open_control(Path::new(".")) {
                Err(ClientError::NotRunning) => say(&[
                    "svc: warning: unable to control ",
                    &shown,
                    ": supervise not running",
                ]),
                Err(e) => say(&["svc: warning: unable to control ", &shown, ": ", &e.text()]),
                Ok(mut f) => {
                    // Blocking from here on, as daemontools' ndelay_off: a full FIFO waits.
                    let _ = nix::fcntl::fcntl(
                        &f,
                        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::empty()),
                    );
                    if let Err(e) = f.write_all(&data) {
                        say(&[
                            "svc: warning: error writing commands to ",
                            &shown,
                            ": ",
                            errstr(errno_of(&e)),
                        ]);
                    }
                }
            },
        }
        if let Err(e) = origin.back() {
            say(&["svc: fatal: unable to set directory: ", errstr(e as i32)]);
            return EXIT_FATAL;
        }
    }
    0
}
