//! `svactivate`: see `tools::activate` and `svactivate(8)`.

fn main() -> std::process::ExitCode {
    tools::out::default_sigpipe();
    let code = tools::activate::svactivate(std::env::args_os().collect());
    std::process::ExitCode::from(code as u8)
}
