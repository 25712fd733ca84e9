//! `sv`: see `tools::sv` and `sv(8)`.

fn main() -> std::process::ExitCode {
    tools::out::default_sigpipe();
    let code = tools::sv::main(std::env::args_os().collect());
    std::process::ExitCode::from(code as u8)
}
