//! `svlogd [-tttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...`: runit's logger.

use formats::strerr::say_bytes;
use std::ffi::OsString;
use std::process::ExitCode;
use svlogd::logger::{Logger, EXIT_FATAL};
use svlogd::options::{usage_text, CliError, Options, USAGE, VERSION};

fn main() -> ExitCode {
    // A closed stderr ends svlogd as it ends runit's (SIGPIPE is not caught there).
    sys::signal::set(
        nix::sys::signal::Signal::SIGPIPE,
        sys::signal::Disposition::Default,
    );
    let argv: Vec<OsString> = std::env::args_os().collect();
    let about = formats::help::About {
        name: "svlogd",
        synopsis: &[
            &format!("svlogd{USAGE}"),
            "svlogd [-T format] [-L] ... dir ...",
            "svlogd -C dir ...",
        ],
        text: "Reads lines from standard input and appends them to the file current in each log\n\
               directory dir, rotating it by size or age into @<tai64n>.s files and keeping a\n\
               number of them; each dir's settings (sizes, retention, patterns, processor,\n\
               compression, forwarding, ...) are in dir/config. -t, -tt, -ttt: TAI64N, UTC or\n\
               ISO 8601 time stamps; -T format: local, rfc3339, ... instead; -L: drop lines\n\
               (counted) rather than block when a directory cannot keep up; -C: check each\n\
               dir's config and exit.",
    };
    if let Some(code) = formats::help::answer(&argv, &about) {
        return ExitCode::from(code as u8);
    }
    let code = match Options::parse(&argv) {
        Ok(opts) if opts.check => svlogd::check::run(&opts),
        Ok(opts) => match Logger::new(&opts) {
            Ok(mut logger) => logger.run(),
            Err(code) => code,
        },
        Err(e) => {
            use std::os::unix::ffi::OsStrExt;
            let argv0 = argv.first().map(|a| a.as_bytes()).unwrap_or(b"svlogd");
            match e {
                CliError::Version => say_bytes(&[VERSION.as_bytes()]),
                CliError::Usage(Some(m)) => say_bytes(&[m.as_bytes()]),
                CliError::Usage(None) => {}
            }
            let usage = usage_text("");
            say_bytes(&[
                b"usage: ",
                argv0,
                usage.trim_start_matches("usage: ").as_bytes(),
            ]);
            EXIT_FATAL
        }
    };
    ExitCode::from(code as u8)
}
