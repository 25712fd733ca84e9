//! runsvdir: start and watch a runsv for every service directory (runit-compatible); see
//! `supervise::runsvdir` and `runsvdir(8)`.

fn main() -> std::process::ExitCode {
    let code = supervise::runsvdir::main(std::env::args_os().collect());
    std::process::ExitCode::from(code as u8)
}
