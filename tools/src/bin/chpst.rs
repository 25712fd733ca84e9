//! `chpst`, and `envdir`, `envuidgid`, `pgrphack`, `setuidgid`, `setlock`, `softlimit` when
//! installed under those names: see `tools::chpst` and `chpst(8)`.

fn main() -> std::process::ExitCode {
    tools::out::default_sigpipe();
    let code = tools::chpst::main(std::env::args_os().collect());
    std::process::ExitCode::from(code as u8)
}
