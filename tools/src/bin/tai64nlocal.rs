//! `tai64nlocal`: see `tools::tai64n` and `tai64nlocal(8)`.

fn main() -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let about = formats::help::About {
        name: "tai64nlocal",
        synopsis: &["tai64nlocal"],
        text: "Copies standard input to standard output, turning a TAI64N label or an svlogd -tt/-ttt\n\
               stamp at the start of each line into local time.",
    };
    if let Some(code) = formats::help::answer(&argv, &about) {
        return std::process::ExitCode::from(code as u8);
    }
    tools::out::default_sigpipe();
    let code = tools::tai64n::main_tai64nlocal(argv);
    std::process::ExitCode::from(code as u8)
}
