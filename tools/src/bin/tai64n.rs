//! `tai64n`: see `tools::tai64n` and `tai64n(8)`.

fn main() -> std::process::ExitCode {
    tools::out::default_sigpipe();
    let code = tools::tai64n::main_tai64n(std::env::args_os().collect());
    std::process::ExitCode::from(code as u8)
}
