//! Every program of the tools package by name, with what its `--help` says: the one way each
//! starts, for its own binary in `src/bin/` and for the multicall binary.
//!
//! A program answers `--help` and `--version` first ([`formats::help`]), then gets SIGPIPE's
//! default action back ([`out::default_sigpipe`]), then runs its module's `main`.

use crate::{activate, chpst, logs, out, sv, svc, svok, svstat, tai64n};
use formats::help::{self, About};
use std::ffi::OsString;
use std::process::ExitCode;

/// A program's entry point: the whole argv in, the exit code out.
pub type Main = fn(Vec<OsString>) -> i32;

/// Every program and every name `chpst` answers to, as installed.
pub const ALL: &[(&str, Main)] = &[
    ("sv", sv),
    ("svc", svc),
    ("svok", svok),
    ("svstat", svstat),
    ("chpst", chpst),
    ("envdir", chpst),
    ("envuidgid", chpst),
    ("pgrphack", chpst),
    ("setuidgid", chpst),
    ("setlock", chpst),
    ("softlimit", chpst),
    ("tai64n", tai64n),
    ("tai64nlocal", tai64nlocal),
    ("p_log", p_log),
    ("w_log", w_log),
    ("svactivate", svactivate),
    ("svdeactivate", svdeactivate),
];

/// A binary's `main`: runs `program` with the process's arguments and exits with its code.
pub fn exit(program: Main) -> ExitCode {
    ExitCode::from(program(std::env::args_os().collect()) as u8)
}

/// Answers `--help`/`--version` from `about`, or runs `main`.
fn start(argv: Vec<OsString>, about: &About, main: Main) -> i32 {
    if let Some(code) = help::answer(&argv, about) {
        return code;
    }
    out::default_sigpipe();
    main(argv)
}

/// `sv`: see [`crate::sv`] and `sv(8)`.
pub fn sv(argv: Vec<OsString>) -> i32 {
    let synopsis = [
        format!("sv{}", sv::USAGE),
        format!("/etc/init.d/NAME{}", sv::USAGE_LSB),
    ];
    let about = About {
        name: "sv",
        synopsis: &[&synopsis[0], &synopsis[1]],
        text:
            "Reports the status of services supervised by runsv and sends them commands: status,\n\
               up, down, once, pause, cont, hup, alarm, interrupt, quit, 1, 2, term, kill, exit;\n\
               start, stop, reload, restart, shutdown, force-stop, force-reload, force-restart,\n\
               force-shutdown, try-restart, check. A bare service name is looked up in $SVDIR.",
    };
    start(argv, &about, sv::main)
}

/// `svc`: see [`crate::svc`] and `svc(8)`.
pub fn svc(argv: Vec<OsString>) -> i32 {
    let about = About {
        name: "svc",
        synopsis: &["svc [-udopchaitkxq12] dir ..."],
        text: "Sends each option's control letter to the supervisor of each dir (runsv or\n\
               daemontools' supervise): up, down, once, pause, cont, hup, alarm, interrupt, term,\n\
               kill, exit, quit, 1, 2.",
    };
    start(argv, &about, svc::main)
}

/// `svok`: see [`crate::svok`] and `svok(8)`.
pub fn svok(argv: Vec<OsString>) -> i32 {
    let about = About {
        name: "svok",
        synopsis: &[svok::USAGE],
        text:
            "Exits 0 if a supervisor (runsv or daemontools' supervise) is running for dir, 100 if\n\
               not.",
    };
    start(argv, &about, svok::main)
}

/// `svstat`: see [`crate::svstat`] and `svstat(8)`.
pub fn svstat(argv: Vec<OsString>) -> i32 {
    let about = About {
        name: "svstat",
        synopsis: &["svstat [-j] dir ..."],
        text: "Prints the status of each supervised dir in daemontools' format (-j: JSON lines), for\n\
               runsv or daemontools' supervise.",
    };
    start(argv, &about, svstat::main)
}

/// `chpst` and its six daemontools names, told apart by argv\[0\]: see [`crate::chpst`] and
/// `chpst(8)`.
pub fn chpst(argv: Vec<OsString>) -> i32 {
    if let Some(code) = chpst::help(&argv) {
        return code;
    }
    out::default_sigpipe();
    chpst::main(argv)
}

/// `tai64n`: see [`crate::tai64n`] and `tai64n(8)`.
pub fn tai64n(argv: Vec<OsString>) -> i32 {
    let about = About {
        name: "tai64n",
        synopsis: &["tai64n"],
        text:
            "Copies standard input to standard output, putting a TAI64N time stamp (@ and 24 hex\n\
               digits, then a space) at the start of each line.",
    };
    start(argv, &about, tai64n::main_tai64n)
}

/// `tai64nlocal`: see [`crate::tai64n`] and `tai64nlocal(8)`.
pub fn tai64nlocal(argv: Vec<OsString>) -> i32 {
    let about = About {
        name: "tai64nlocal",
        synopsis: &["tai64nlocal"],
        text: "Copies standard input to standard output, turning a TAI64N label or an svlogd -tt/-ttt\n\
               stamp at the start of each line into local time.",
    };
    start(argv, &about, tai64n::main_tai64nlocal)
}

/// `p_log`: see [`crate::logs`] and `p_log(8)`.
pub fn p_log(argv: Vec<OsString>) -> i32 {
    let about = About {
        name: "p_log",
        synopsis: &[logs::P_USAGE.trim_start_matches("usage: ")],
        text:
            "Shows everything an svlogd log directory holds, rotated files first, then current,\n\
               with the time stamps in local time; a bare name is a directory under $SVLOGDIR.",
    };
    start(argv, &about, logs::p_log)
}

/// `w_log`: see [`crate::logs`] and `w_log(8)`.
pub fn w_log(argv: Vec<OsString>) -> i32 {
    let about = About {
        name: "w_log",
        synopsis: &[logs::W_USAGE.trim_start_matches("usage: ")],
        text: "Shows the last lines of an svlogd log directory in local time, then follows it across\n\
               rotations, like tail -F; a bare name is a directory under $SVLOGDIR.",
    };
    start(argv, &about, logs::w_log)
}

/// `svactivate`: see [`crate::activate`] and `svactivate(8)`.
pub fn svactivate(argv: Vec<OsString>) -> i32 {
    let about = About {
        name: "svactivate",
        synopsis: &[activate::A_USAGE.trim_start_matches("usage: ")],
        text: "Makes installed services (default /etc/rc/NAME) live in the services directory\n\
               (default /var/service) atomically, with an svlogd logger when they have none.",
    };
    start(argv, &about, activate::svactivate)
}

/// `svdeactivate`: see [`crate::activate`] and `svdeactivate(8)`.
pub fn svdeactivate(argv: Vec<OsString>) -> i32 {
    let about = About {
        name: "svdeactivate",
        synopsis: &[activate::D_USAGE.trim_start_matches("usage: ")],
        text:
            "Takes live services out of the services directory: stops the service and its logger,\n\
               waits for the supervisor to exit and removes the directory; the logs are kept.",
    };
    start(argv, &about, activate::svdeactivate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_binary_and_every_chpst_name_is_an_applet_once() {
        let names: Vec<&str> = ALL.iter().map(|a| a.0).collect();
        let bins = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/bin")).unwrap();
        for bin in bins {
            let file = bin.unwrap().file_name().into_string().unwrap();
            let name = file.strip_suffix(".rs").unwrap();
            assert!(names.contains(&name), "{name} has a binary but no applet");
        }
        for p in chpst::PERSONALITIES {
            assert!(names.contains(&p.0), "chpst's name {} is no applet", p.0);
        }
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "a name twice: {names:?}");
    }
}
