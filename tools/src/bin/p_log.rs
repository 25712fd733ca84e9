//! `p_log`: see `tools::logs` and `p_log(8)`.

fn main() -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let about = formats::help::About {
        name: "p_log",
        synopsis: &[tools::logs::P_USAGE.trim_start_matches("usage: ")],
        text:
            "Shows everything an svlogd log directory holds, rotated files first, then current,\n\
               with the time stamps in local time; a bare name is a directory under $SVLOGDIR.",
    };
    if let Some(code) = formats::help::answer(&argv, &about) {
        return std::process::ExitCode::from(code as u8);
    }
    tools::out::default_sigpipe();
    let code = tools::logs::p_log(argv);
    std::process::ExitCode::from(code as u8)
}
