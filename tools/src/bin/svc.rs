//! `svc`: see `tools::svc` and `svc(8)`.

fn main() -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let about = formats::help::About {
        name: "svc",
        synopsis: &["svc [-udopchaitkxq12] dir ..."],
        text: "Sends each option's control letter to the supervisor of each dir (runsv or\n\
               daemontools' supervise): up, down, once, pause, cont, hup, alarm, interrupt, term,\n\
               kill, exit, quit, 1, 2.",
    };
    if let Some(code) = formats::help::answer(&argv, &about) {
        return std::process::ExitCode::from(code as u8);
    }
    tools::out::default_sigpipe();
    let code = tools::svc::main(argv);
    std::process::ExitCode::from(code as u8)
}
