//! The `svlogd` command from argv to exit code: `--help`/`--version`, the options, then the
//! logger or the config check. Its own binary and the multicall binary both start here.

use crate::logger::{Logger, EXIT_FATAL};
use crate::options::{usage_text, CliError, Options, USAGE, VERSION};
use formats::help::{self, About};
use formats::strerr::say_bytes;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

/// Runs svlogd with `argv` (argv\[0\] included) and returns its exit code. The help, the
/// options and the logger's start each have a frame of their own, gone before the loop runs:
/// the stack under the loop's idle wait stays shallow (see `sys::memory::release_stack`).
pub fn main(argv: Vec<OsString>) -> i32 {
    // A closed stderr ends svlogd as it ends runit's (SIGPIPE is not caught there).
    sys::signal::set(
        nix::sys::signal::Signal::SIGPIPE,
        sys::signal::Disposition::Default,
    );
    if help::request(&argv).is_some() {
        return answer_help(&argv);
    }
    match start(&argv) {
        Ok(mut logger) => logger.run(),
        Err(code) => code,
    }
}

/// Answers `--help` or `--version`.
#[inline(never)]
fn answer_help(argv: &[OsString]) -> i32 {
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
    help::answer(argv, &about).unwrap_or(0)
}

/// Parses the options and opens the logger: the logger, ready to run, or the exit code (of
/// `-C`'s check, or of a usage error).
#[inline(never)]
fn start(argv: &[OsString]) -> Result<Logger, i32> {
    match Options::parse(argv) {
        Ok(opts) if opts.check => Err(crate::check::run(&opts)),
        Ok(opts) => Logger::new(&opts),
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
            Err(EXIT_FATAL)
        }
    }
}
