//! daemontools' `svstat`: one line per service directory (`spec/supervise.md` §6).
//!
//! `DIR: up (pid N) S seconds[, normally down][, paused][, want down]`,
//! `DIR: down S seconds[, normally up][, want up]`, `DIR: supervise not running`, or one of
//! daemontools' error lines; always exit 0. It reads runit's 20-byte records and daemontools'
//! 18-byte ones alike. Additions: `, ready R seconds` at the end of an `up` line when the
//! supervisor recorded readiness for that run (`supervise/ready`), and `-j` (or `--json`) as
//! the first argument for one JSON object per directory, for monitoring.

use crate::enter::{enter_daemontools, svdir_from_env, Origin};
use crate::sv::line::age;
use formats::control::{self, ClientError};
use formats::status::{Ready, State, Status, STATUS};
use formats::strerr::{errno_of, errstr, say};
use formats::svdir::DOWN;
use formats::tai64n::Tai64n;
use std::ffi::OsString;
use std::path::Path;

/// Exit code when the current directory cannot be opened.
pub const EXIT_FATAL: i32 = 111;

/// What one directory looked like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// A failure, in daemontools' words (`unable to chdir: file does not exist`).
    Error(String),
    /// `supervise/ok` has no reader.
    NotRunning,
    /// The supervisor's record.
    Status {
        /// The decoded record.
        status: Status,
        /// Whether `./down` is absent.
        normally_up: bool,
        /// Readiness of the current run, if recorded.
        ready: Option<Ready>,
    },
}

/// Looks at the service directory the process is in (daemontools' order: `down`, then `ok`,
/// then `status`).
pub fn inspect() -> Report {
    let normally_up = match std::fs::metadata(DOWN) {
        Ok(_) => false,
        Err(e) if e.raw_os_error() == Some(nix::libc::ENOENT) => true,
        Err(e) => return Report::Error(format!("unable to stat down: {}", errstr(errno_of(&e)))),
    };
    match control::probe(Path::new(".")) {
        Ok(()) => {}
        Err(ClientError::NotRunning) => return Report::NotRunning,
        Err(e) => return Report::Error(format!("unable to open supervise/ok: {}", e.text())),
    }
    let status = formats::svdir::open_supervised(Path::new("."), STATUS, nix::libc::O_RDONLY);
    let mut f = match status {
        Ok(f) => f,
        Err(e) => return Report::Error(format!("unable to open supervise/status: {}", e.text())),
    };
    let (head, len) = match formats::status::read_head(&mut f) {
        Ok(h) => h,
        Err(e) => {
            return Report::Error(format!(
                "unable to read supervise/status: {}",
                errstr(errno_of(&e))
            ))
        }
    };
    let Ok(status) = formats::status::decode_any(&head, len) else {
        return Report::Error("unable to read supervise/status: bad format".into());
    };
    let ready = Ready::read_for(Path::new("supervise"), &status);
    Report::Status {
        status,
        normally_up,
        ready,
    }
}

/// The text after `DIR: ` for a report.
pub fn human(report: &Report, now: Tai64n) -> String {
    match report {
        Report::Error(e) => e.clone(),
        Report::NotRunning => "supervise not running".into(),
        Report::Status {
            status: st,
            normally_up,
            ready,
        } => {
            let pid = st.pid != 0;
            let mut s = if pid {
                format!("up (pid {}) ", st.pid)
            } else {
                "down ".to_string()
            };
            s.push_str(&format!("{} seconds", age(now, st.stamp)));
            s.push_str(&crate::sv::line::flags(st, *normally_up));
            if let Some(r) = ready {
                s.push_str(&format!(", ready {} seconds", age(now, r.stamp)));
            }
            s
        }
    }
}

/// Appends `s` as a JSON string literal.
pub fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// One JSON object (no newline) for a report.
pub fn json(dir: &str, report: &Report, now: Tai64n) -> String {
    let mut o = String::from("{\"service\":");
    json_string(&mut o, dir);
    match report {
        Report::Error(e) => {
            o.push_str(",\"error\":");
            json_string(&mut o, e);
        }
        Report::NotRunning => o.push_str(",\"supervised\":false"),
        Report::Status {
            status: st,
            normally_up,
            ready,
        } => {
            let state = match st.state {
                State::Down => "down",
                State::Run => "run",
                State::Finish => "finish",
                State::Other(_) => "unknown",
            };
            let want = match st.want {
                b'u' => "up",
                b'd' => "down",
                0 => "once",
                _ => "unknown",
            };
            o.push_str(&format!(
                ",\"supervised\":true,\"up\":{},\"state\":\"{state}\",\"pid\":{},\
                 \"seconds\":{},\"since\":{},\"normally_up\":{normally_up},\
                 \"want\":\"{want}\",\"paused\":{},\"got_term\":{}",
                st.pid != 0,
                st.pid,
                age(now, st.stamp),
                st.stamp.unix_secs(),
                st.paused,
                st.got_term,
            ));
            match ready {
                Some(r) => o.push_str(&format!(
                    ",\"ready\":true,\"ready_seconds\":{},\"ready_since\":{}",
                    age(now, r.stamp),
                    r.stamp.unix_secs()
                )),
                None => o.push_str(",\"ready\":false"),
            }
        }
    }
    o.push('}');
    o
}

/// Runs `svstat` and returns the exit code.
pub fn main(argv: Vec<OsString>) -> i32 {
    let mut dirs = &argv[argv.len().min(1)..];
    let as_json = matches!(dirs.first().and_then(|a| a.to_str()), Some("-j" | "--json"));
    if as_json {
        dirs = &dirs[1..];
    }
    let origin = match Origin::open() {
        Ok(o) => o,
        Err(e) => {
            say(&[
                "svstat: fatal: unable to open current directory: ",
                errstr(e as i32),
            ]);
            return EXIT_FATAL;
        }
    };
    let svdir = svdir_from_env();
    let mut out = crate::out::Out::new();
    for dir in dirs {
        let shown = dir.to_string_lossy();
        let report = match enter_daemontools(dir, &svdir, &origin) {
            Err(e) => Report::Error(format!("unable to chdir: {}", errstr(e as i32))),
            Ok(()) => inspect(),
        };
        let now = Tai64n::now();
        if as_json {
            out.put(&json(&shown, &report, now));
        } else {
            out.put(&shown);
            out.put(": ");
            out.put(&human(&report, now));
        }
        out.put("\n");
        out.flush();
        if let Err(e) = origin.back() {
            say(&["svstat: fatal: unable to set directory: ", errstr(e as i32)]);
            return EXIT_FATAL;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(pid: u32, want: u8, paused: bool) -> Status {
        Status {
            stamp: Tai64n::from_unix(1000, 0),
            pid,
            paused,
            want,
            got_term: false,
            state: if pid != 0 { State::Run } else { State::Down },
        }
    }

    #[test]
    fn daemontools_lines_of_spec_6() {
        let now = Tai64n::from_unix(1607, 0);
        let rep = |s, n| Report::Status {
            status: s,
            normally_up: n,
            ready: None,
        };
        assert_eq!(
            human(&rep(st(14995, b'u', true), true), now),
            "up (pid 14995) 607 seconds, paused"
        );
        assert_eq!(
            human(&rep(st(0, b'u', false), true), now),
            "down 607 seconds, normally up, want up"
        );
        assert_eq!(
            human(&rep(st(13840, b'u', false), false), now),
            "up (pid 13840) 607 seconds, normally down"
        );
        assert_eq!(
            human(&rep(st(0, b'd', true), false), now),
            "down 607 seconds"
        );
        assert_eq!(human(&Report::NotRunning, now), "supervise not running");
        let ready = Report::Status {
            status: st(5, b'd', false),
            normally_up: true,
            ready: Some(Ready {
                stamp: Tai64n::from_unix(1600, 0),
                pid: 5,
            }),
        };
        assert_eq!(
            human(&ready, now),
            "up (pid 5) 607 seconds, want down, ready 7 seconds"
        );
    }

    #[test]
    fn json_lines() {
        let now = Tai64n::from_unix(1010, 0);
        let r = Report::Status {
            status: st(42, 0, false),
            normally_up: false,
            ready: None,
        };
        assert_eq!(
            json("a\"b", &r, now),
            "{\"service\":\"a\\\"b\",\"supervised\":true,\"up\":true,\"state\":\"run\",\"pid\":42,\
             \"seconds\":10,\"since\":1000,\"normally_up\":false,\"want\":\"once\",\"paused\":false,\
             \"got_term\":false,\"ready\":false}"
        );
        assert_eq!(
            json(
                "x",
                &Report::Error("unable to chdir: file does not exist".into()),
                now
            ),
            "{\"service\":\"x\",\"error\":\"unable to chdir: file does not exist\"}"
        );
        let mut s = String::new();
        json_string(&mut s, "\u{1}\n");
        assert_eq!(s, "\"\\u0001\\n\"");
    }
}
