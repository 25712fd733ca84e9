//! runsvdir: start and watch a runsv for every service directory (runit-compatible).
use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    ExitCode::from(supervise::runsvdir::run(&argv) as u8)
}
