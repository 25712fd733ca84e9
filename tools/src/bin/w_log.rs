//! `w_log`: see `tools::logs` and `w_log(8)`.

fn main() -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let about = formats::help::About {
        name: "w_log",
        synopsis: &[tools::logs::W_USAGE.trim_start_matches("usage: ")],
        text: "Shows the last lines of an svlogd log directory in local time, then follows it across\n\
               rotations, like tail -F; a bare name is a directory under $SVLOGDIR.",
    };
    if let Some(code) = formats::help::answer(&argv, &about) {
        return std::process::ExitCode::from(code as u8);
    }
    tools::out::default_sigpipe();
    let code = tools::logs::w_log(argv);
    std::process::ExitCode::from(code as u8)
}
