//! `w_log`: see `tools::logs` and `w_log(8)`.

fn main() -> std::process::ExitCode {
    tools::out::default_sigpipe();
    let code = tools::logs::w_log(std::env::args_os().collect());
    std::process::ExitCode::from(code as u8)
}
