//! `svstat`: see `tools::svstat` and `svstat(8)`.

fn main() -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let about = formats::help::About {
        name: "svstat",
        synopsis: &["svstat [-j] dir ..."],
        text: "Prints the status of each supervised dir in daemontools' format (-j: JSON lines), for\n\
               runsv or daemontools' supervise.",
    };
    if let Some(code) = formats::help::answer(&argv, &about) {
        return std::process::ExitCode::from(code as u8);
    }
    tools::out::default_sigpipe();
    let code = tools::svstat::main(argv);
    std::process::ExitCode::from(code as u8)
}
