//! `sv`: see `tools::sv` and `sv(8)`.

fn main() -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let about = formats::help::About {
        name: "sv",
        synopsis: &[
            &format!("sv{}", tools::sv::USAGE),
            &format!("/etc/init.d/NAME{}", tools::sv::USAGE_LSB),
        ],
        text:
            "Reports the status of services supervised by runsv and sends them commands: status,\n\
               up, down, once, pause, cont, hup, alarm, interrupt, quit, 1, 2, term, kill, exit;\n\
               start, stop, reload, restart, shutdown, force-stop, force-reload, force-restart,\n\
               force-shutdown, try-restart, check. A bare service name is looked up in $SVDIR.",
    };
    if let Some(code) = formats::help::answer(&argv, &about) {
        return std::process::ExitCode::from(code as u8);
    }
    tools::out::default_sigpipe();
    let code = tools::sv::main(argv);
    std::process::ExitCode::from(code as u8)
}
