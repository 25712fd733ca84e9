//! `tai64n`: see `tools::tai64n` and `tai64n(8)`.

fn main() -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let about = formats::help::About {
        name: "tai64n",
        synopsis: &["tai64n"],
        text:
            "Copies standard input to standard output, putting a TAI64N time stamp (@ and 24 hex\n\
               digits, then a space) at the start of each line.",
    };
    if let Some(code) = formats::help::answer(&argv, &about) {
        return std::process::ExitCode::from(code as u8);
    }
    tools::out::default_sigpipe();
    let code = tools::tai64n::main_tai64n(argv);
    std::process::ExitCode::from(code as u8)
}
