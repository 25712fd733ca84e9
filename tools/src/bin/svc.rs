//! `svc`: see `tools::svc` and `svc(8)`.

fn main() -> std::process::ExitCode {
    tools::out::default_sigpipe();
    let code = tools::svc::main(std::env::args_os().collect());
    std::process::ExitCode::from(code as u8)
}
