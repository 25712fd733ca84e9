//! daemontools' `svok`: does a supervisor run for this directory? (`spec/supervise.md` §6)
//!
//! Exit 0 if `DIR/supervise/ok` has a reader, 100 if not (or if the directory is not
//! supervised yet), 111 on other errors. It opens the FIFO non-blocking, so it never hangs on
//! a dead supervisor (busybox's does). A bare DIR is looked up under `SVDIR` first.

use crate::enter::{enter_daemontools, svdir_from_env, Origin};
use formats::control::{self, ClientError};
use formats::strerr::{errstr, say};
use std::ffi::OsString;
use std::path::Path;

/// The synopsis in svok's usage message (daemontools').
pub const USAGE: &str = "svok dir";
/// Exit code for usage errors, and for "not running".
pub const EXIT_NOT_RUNNING: i32 = 100;
/// Exit code for system errors.
pub const EXIT_FATAL: i32 = 111;

/// Runs `svok` and returns the exit code.
pub fn main(argv: Vec<OsString>) -> i32 {
    let Some(dir) = argv.get(1) else {
        say(&["svok: usage: ", USAGE]);
        return EXIT_NOT_RUNNING;
    };
    let shown = dir.to_string_lossy();
    let origin = match Origin::open() {
        Ok(o) => o,
        Err(e) => {
            say(&[
                "svok: fatal: unable to open current directory: ",
                errstr(e as i32),
            ]);
            return EXIT_FATAL;
        }
    };
    if let Err(e) = enter_daemontools(dir, &svdir_from_env(), &origin) {
        say(&[
            "svok: fatal: unable to chdir to ",
            &shown,
            ": ",
            errstr(e as i32),
        ]);
        return EXIT_FATAL;
    }
    match control::probe(Path::new(".")) {
        Ok(()) => 0,
        Err(ClientError::NotRunning) | Err(ClientError::NotServiceDir(nix::libc::ENOENT)) => {
            EXIT_NOT_RUNNING
        }
        Err(e) => {
            say(&[
                "svok: fatal: unable to open ",
                &shown,
                "/supervise/ok: ",
                &e.text(),
            ]);
            EXIT_FATAL
        }
    }
}
