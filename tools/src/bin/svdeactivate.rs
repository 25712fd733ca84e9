//! `svdeactivate`: see `tools::activate` and `svdeactivate(8)`.

fn main() -> std::process::ExitCode {
    tools::out::default_sigpipe();
    let code = tools::activate::svdeactivate(std::env::args_os().collect());
    std::process::ExitCode::from(code as u8)
}
