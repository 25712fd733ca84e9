//! runsv: supervise one service directory and its log service (runit-compatible).
use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    ExitCode::from(supervise::runsv::run(&argv) as u8)
}
