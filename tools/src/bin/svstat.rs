//! `svstat`: see `tools::svstat` and `svstat(8)`.

fn main() -> std::process::ExitCode {
    tools::out::default_sigpipe();
    let code = tools::svstat::main(std::env::args_os().collect());
    std::process::ExitCode::from(code as u8)
}
