//! `svdeactivate`: see `tools::activate` and `svdeactivate(8)`.

fn main() -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let about = formats::help::About {
        name: "svdeactivate",
        synopsis: &[tools::activate::D_USAGE.trim_start_matches("usage: ")],
        text:
            "Takes live services out of the services directory: stops the service and its logger,\n\
               waits for the supervisor to exit and removes the directory; the logs are kept.",
    };
    if let Some(code) = formats::help::answer(&argv, &about) {
        return std::process::ExitCode::from(code as u8);
    }
    tools::out::default_sigpipe();
    let code = tools::activate::svdeactivate(argv);
    std::process::ExitCode::from(code as u8)
}
