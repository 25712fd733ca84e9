//! The `svlogd` command from argv to exit code: `--help`/`--version`, the options, then the
//! logger or the config check. Its own binary and the multicall binary both start here.

use crate::logger::{Logger, EXIT_FATAL};
use crate::options::{usage_text, CliError, Options, USAGE, VERSION};
use formats::help::{self, About};
use formats::strerr::say_bytes;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

/// Runs svlogd with `argv` (argv\[0\] included) and returns its exit code.
pub fn main(argv: Vec<OsString>) -> i32 {
    // A closed stderr ends svlogd as it ends runit's (SIGPIPE is not caught there).
    sys::signal::set(
        nix::sys::signal::Signal::SIGPIPE,
        sys::signal::Disposition::Default,
    );
    let synopsis = format!("svlogd{USAGE}");
    let about = About {
        name: "svlogd",
        synopsis: &[
            &synopsis,
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
    if let Some(code) = help::answer(&argv, &about) {
        return code;
    }
    match Options::parse(&argv) {
        Ok(opts) if opts.check => crate::check::run(&opts),
        Ok(opts) => match Logger::new(&opts) {
            Ok(mut logger) => logger.run(),
            Err(code) => code,
        },
        Err(e) => {
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
    }
}
