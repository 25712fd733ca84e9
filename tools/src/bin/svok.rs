//! `svok`: see `tools::svok` and `svok(8)`.

fn main() -> std::process::ExitCode {
    tools::out::default_sigpipe();
    let code = tools::svok::main(std::env::args_os().collect());
    std::process::ExitCode::from(code as u8)
}
