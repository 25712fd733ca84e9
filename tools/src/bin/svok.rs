//! `svok`: see `tools::svok` and `svok(8)`.

fn main() -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let about = formats::help::About {
        name: "svok",
        synopsis: &[tools::svok::USAGE],
        text:
            "Exits 0 if a supervisor (runsv or daemontools' supervise) is running for dir, 100 if\n\
               not.",
    };
    if let Some(code) = formats::help::answer(&argv, &about) {
        return std::process::ExitCode::from(code as u8);
    }
    tools::out::default_sigpipe();
    let code = tools::svok::main(argv);
    std::process::ExitCode::from(code as u8)
}
