//! runsvdir: start and watch a runsv for every service directory (runit-compatible).
use formats::help::{self, About};
use std::process::ExitCode;
use supervise::runsvdir::{self, SYNOPSIS};

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let about = About {
        name: "runsvdir",
        synopsis: &[&format!("runsvdir{SYNOPSIS}")],
        text: "Starts a runsv for every service directory in dir, as soon as it appears, and\n\
               keeps it running; a removed directory's runsv is stopped. At most max services\n\
               run (-c, default 1000; 0 for no limit). A log argument of seven characters or\n\
               more shows the latest error output in the process title.",
    };
    if let Some(code) = help::answer(&argv, &about) {
        return ExitCode::from(code as u8);
    }
    ExitCode::from(runsvdir::run(&argv) as u8)
}
