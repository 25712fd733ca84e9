//! `chpst`, and `envdir`, `envuidgid`, `pgrphack`, `setuidgid`, `setlock`, `softlimit` when
//! installed under those names: see `tools::chpst` and `chpst(8)`.

fn main() -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(code) = tools::chpst::help(&argv) {
        return std::process::ExitCode::from(code as u8);
    }
    tools::out::default_sigpipe();
    let code = tools::chpst::main(argv);
    std::process::ExitCode::from(code as u8)
}
