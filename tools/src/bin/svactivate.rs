//! `svactivate`: see `tools::activate` and `svactivate(8)`.

fn main() -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let about = formats::help::About {
        name: "svactivate",
        synopsis: &[tools::activate::A_USAGE.trim_start_matches("usage: ")],
        text: "Makes installed services (default /etc/rc/NAME) live in the services directory\n\
               (default /var/service) atomically, with an svlogd logger when they have none.",
    };
    if let Some(code) = formats::help::answer(&argv, &about) {
        return std::process::ExitCode::from(code as u8);
    }
    tools::out::default_sigpipe();
    let code = tools::activate::svactivate(argv);
    std::process::ExitCode::from(code as u8)
}
