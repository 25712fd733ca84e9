//! `p_log` and `w_log`: read a service's log directory with local-time stamps.
//!
//! `p_log NAME...` shows everything a log holds (archives oldest first, compressed ones
//! included, then `current`) through `$PAGER` when standard output is a terminal. `w_log
//! NAME...` shows the last lines and then follows the log live across rotations. A NAME
//! without `/` is looked up under `$SVLOGDIR` (default `/var/log/service`, or `-d DIR`).
//! `-m` merges several logs into one time-ordered stream, each line tagged with its log's
//! name; `-s`/`--since` starts from a moment (see [`since`]). Exit codes follow s6: 100 for
//! usage, 111 when a log cannot be read.

pub mod dir;
pub mod follow;
pub mod history;
pub mod lines;
pub mod since;

use crate::localtime::{self, Moment, Renderer};
use crate::watch::Watch;
use formats::getopt::{Getopt, Opt};
use formats::strerr::{ioerr, say};
use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

/// The default base directory of service logs.
pub const DEFAULT_LOGDIR: &str = "/var/log/service";
/// The environment variable that overrides it.
pub const LOGDIR_ENV: &str = "SVLOGDIR";
/// Exit code for usage errors.
pub const EXIT_USAGE: i32 = 100;
/// Exit code when a log cannot be read.
pub const EXIT_FATAL: i32 = 111;
/// Lines of history `w_log` shows by default.
pub const DEFAULT_LINES: usize = 10;

/// p_log's usage message.
pub const P_USAGE: &str = "usage: p_log [-mP] [-d logdir] [-s since] name ...";
/// w_log's usage message.
pub const W_USAGE: &str = "usage: w_log [-m] [-d logdir] [-n lines] [-s since] name ...";

/// What the command line asks for.
struct Options {
    merge: bool,
    pager: bool,
    base: PathBuf,
    lines: usize,
    since: Option<Moment>,
    names: Vec<OsString>,
}

/// Rewrites the long options into their short forms.
fn shorten(argv: &[OsString]) -> Vec<OsString> {
    let mut out = vec![argv.first().cloned().unwrap_or_default()];
    let mut rest = argv.iter().skip(1);
    for a in rest.by_ref() {
        let b = a.as_bytes();
        if b == b"--" || b.first() != Some(&b'-') {
            out.push(a.clone());
            break;
        }
        let long: &[(&str, &str)] = &[
            ("--merge", "-m"),
            ("--no-pager", "-P"),
            ("--since", "-s"),
            ("--lines", "-n"),
            ("--logdir", "-d"),
        ];
        let mut replaced = false;
        for (l, s) in long {
            if b == l.as_bytes() {
                out.push(OsString::from(s));
                replaced = true;
            } else if let Some(v) = b.strip_prefix(format!("{l}=").as_bytes()) {
                out.push(OsString::from(s));
                out.push(OsStr::from_bytes(v).to_os_string());
                replaced = true;
            }
        }
        if !replaced {
            out.push(a.clone());
        }
    }
    out.extend(rest.cloned());
    out
}

fn parse(argv: &[OsString], prog: &str, usage: &str) -> Result<Options, i32> {
    let argv = shorten(argv);
    let fail = |m: Option<String>| crate::out::usage(m, usage);
    let mut o = Options {
        merge: false,
        pager: true,
        base: std::env::var_os(LOGDIR_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_LOGDIR)),
        lines: DEFAULT_LINES,
        since: None,
        names: Vec::new(),
    };
    let spec = if prog == "p_log" { "mPd:s:" } else { "md:n:s:" };
    let mut g = Getopt::new(&argv, spec).strict();
    for opt in g.by_ref() {
        match opt {
            Opt::Flag(b'm', _) => o.merge = true,
            Opt::Flag(b'P', _) => o.pager = false,
            Opt::Flag(b'd', Some(d)) => o.base = PathBuf::from(d),
            Opt::Flag(b'n', Some(n)) => match n.to_str().and_then(|s| s.parse().ok()) {
                Some(n) => o.lines = n,
                None => {
                    return Err(fail(Some(format!(
                        "{prog}: fatal: not a number of lines: {}",
                        n.to_string_lossy()
                    ))))
                }
            },
            Opt::Flag(b's', Some(s)) => {
                let now = now();
                match s.to_str().and_then(|t| since::parse(t, now)) {
                    Some(m) => o.since = Some(m),
                    None => {
                        return Err(fail(Some(format!(
                            "{prog}: fatal: unable to parse the time: {}",
                            s.to_string_lossy()
                        ))))
                    }
                }
            }
            other => return Err(fail(other.error_message(prog))),
        }
    }
    o.names = g.operands().to_vec();
    if o.names.is_empty() {
        return Err(fail(None));
    }
    Ok(o)
}

fn now() -> Moment {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Moment {
        secs: d.as_secs() as i64,
        nanos: d.subsec_nanos(),
    }
}

/// Appends a line for output: its stamp in local time, and the log's tag after the stamp
/// (or first, for a line without one).
pub fn render(r: &mut Renderer, tag: Option<&str>, line: &[u8], out: &mut Vec<u8>) {
    let Some(tag) = tag else {
        r.line(line, out);
        return;
    };
    if let Some((stamp, len)) = localtime::parse(line) {
        if r.render(&stamp, out) {
            out.push(b' ');
            out.extend_from_slice(tag.as_bytes());
            out.push(b':');
            out.extend_from_slice(&line[len..]);
            return;
        }
    }
    out.extend_from_slice(tag.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(line);
}

/// Where `p_log` writes: a pager, or standard output.
struct Sink {
    w: Box<dyn Write>,
    pager: Option<std::process::Child>,
    closed: bool,
}

impl Sink {
    fn open(page: bool) -> Sink {
        if page && nix::unistd::isatty(std::io::stdout()).unwrap_or(false) {
            let pager = std::env::var("PAGER")
                .ok()
                .filter(|p| !p.trim().is_empty())
                .unwrap_or_else(|| "less".to_string());
            let mut cmd = std::process::Command::new("/bin/sh");
            cmd.arg("-c")
                .arg(&pager)
                .stdin(std::process::Stdio::piped());
            if std::env::var_os("LESS").is_none() {
                cmd.env("LESS", "FRX");
            }
            if let Ok(mut child) = cmd.spawn() {
                if let Some(stdin) = child.stdin.take() {
                    // The reader may quit early: a broken pipe ends the output, not the program.
                    sys::signal::set(
                        nix::sys::signal::Signal::SIGPIPE,
                        sys::signal::Disposition::Ignore,
                    );
                    return Sink {
                        w: Box::new(io::BufWriter::with_capacity(64 * 1024, stdin)),
                        pager: Some(child),
                        closed: false,
                    };
                }
            }
        }
        Sink {
            w: Box::new(io::BufWriter::with_capacity(64 * 1024, io::stdout())),
            pager: None,
            closed: false,
        }
    }

    fn write(&mut self, b: &[u8]) {
        if !self.closed && self.w.write_all(b).is_err() {
            self.closed = true;
        }
    }

    fn flush(&mut self) {
        if !self.closed && self.w.flush().is_err() {
            self.closed = true;
        }
    }

    fn close(mut self) {
        self.flush();
        drop(self.w);
        if let Some(mut p) = self.pager.take() {
            let _ = p.wait();
        }
    }
}

/// Runs `p_log` and returns the exit code.
pub fn p_log(argv: Vec<OsString>) -> i32 {
    let o = match parse(&argv, "p_log", P_USAGE) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let mut logs = Vec::new();
    let mut rc = 0;
    for name in &o.names {
        let dir = dir::resolve(name, &o.base);
        match history::History::open(&dir, o.since, None) {
            Ok(h) => logs.push((name.to_string_lossy().into_owned(), h)),
            Err(e) => {
                say(&[
                    "p_log: fatal: unable to read log directory ",
                    &dir.to_string_lossy(),
                    ": ",
                    &ioerr(&e),
                ]);
                rc = EXIT_FATAL;
            }
        }
    }
    let mut sink = Sink::open(o.pager);
    let mut r = Renderer::new();
    let mut buf = Vec::with_capacity(64 * 1024);
    if o.merge && logs.len() > 1 {
        merge(&mut logs, &mut r, &mut sink, &mut buf);
    } else {
        let headers = logs.len() > 1;
        for (i, (name, h)) in logs.iter_mut().enumerate() {
            if headers {
                sink.write(format!("{}==> {name} <==\n", if i > 0 { "\n" } else { "" }).as_bytes());
            }
            for (_, line) in h.by_ref() {
                buf.clear();
                render(&mut r, None, &line, &mut buf);
                sink.write(&buf);
            }
        }
    }
    sink.close();
    for (_, h) in &logs {
        for w in &h.warnings {
            say(&["p_log: warning: ", w]);
        }
    }
    rc
}

/// Writes several logs as one stream ordered by moment (ties keep the command-line order).
fn merge(
    logs: &mut [(String, history::History)],
    r: &mut Renderer,
    sink: &mut Sink,
    buf: &mut Vec<u8>,
) {
    let mut heads: Vec<Option<(Moment, Vec<u8>)>> =
        logs.iter_mut().map(|(_, h)| h.next()).collect();
    loop {
        let Some(i) = heads
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.as_ref().map(|(m, _)| (*m, i)))
            .min()
            .map(|(_, i)| i)
        else {
            return;
        };
        let (_, line) = heads[i].take().expect("a head");
        buf.clear();
        render(r, Some(&logs[i].0), &line, buf);
        sink.write(buf);
        heads[i] = logs[i].1.next();
    }
}

/// The inotify events that mean a log directory changed.
const LOG_MASK: u32 = nix::libc::IN_MODIFY
    | nix::libc::IN_CREATE
    | nix::libc::IN_MOVED_FROM
    | nix::libc::IN_MOVED_TO
    | nix::libc::IN_DELETE
    | nix::libc::IN_CLOSE_WRITE
    | nix::libc::IN_DELETE_SELF
    | nix::libc::IN_MOVE_SELF;

/// Runs `w_log` and returns the exit code (it follows until killed or its output closes).
pub fn w_log(argv: Vec<OsString>) -> i32 {
    let o = match parse(&argv, "w_log", W_USAGE) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let tagged = o.names.len() > 1;
    let watch = Watch::new().ok();
    let mut followers = Vec::new();
    let mut wds = Vec::new();
    let mut history: Vec<(Moment, usize, Vec<u8>)> = Vec::new();
    for (idx, name) in o.names.iter().enumerate() {
        let dir: PathBuf = dir::resolve(name, &o.base);
        let wd = watch.as_ref().and_then(|w| w.add(&dir, LOG_MASK).ok());
        let started = start_following(&dir, o.since, o.lines);
        let (lines, follower) = match started {
            Ok(x) => x,
            Err(e) => {
                say(&[
                    "w_log: fatal: unable to read log directory ",
                    &dir.to_string_lossy(),
                    ": ",
                    &ioerr(&e),
                ]);
                return EXIT_FATAL;
            }
        };
        history.extend(lines.into_iter().map(|(m, l)| (m, idx, l)));
        followers.push(follower);
        wds.push(wd);
    }
    let tags: Vec<String> = o
        .names
        .iter()
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    let tag = |i: usize| tagged.then(|| tags[i].as_str());
    if tagged {
        history.sort_by_key(|(m, i, _)| (*m, *i));
    }
    let mut r = Renderer::new();
    let mut buf = Vec::with_capacity(64 * 1024);
    for (_, i, line) in &history {
        render(&mut r, tag(*i), line, &mut buf);
    }
    if crate::tai64n::write_out(&buf).is_err() {
        return EXIT_FATAL;
    }
    drop(history);
    let mut dirty: Vec<bool> = vec![true; followers.len()];
    loop {
        buf.clear();
        for (i, f) in followers.iter_mut().enumerate() {
            if !dirty[i] {
                continue;
            }
            dirty[i] = false;
            let t = tag(i);
            let mut emit = |_: Moment, line: &[u8]| render(&mut r, t, line, &mut buf);
            if let Err(e) = f.pump(&mut emit) {
                say(&[
                    "w_log: warning: unable to read ",
                    &f.dir.to_string_lossy(),
                    ": ",
                    &ioerr(&e),
                ]);
            }
        }
        if crate::tai64n::write_out(&buf).is_err() {
            return EXIT_FATAL;
        }
        wait_changes(watch.as_ref(), &wds, &mut dirty);
    }
}

/// The history `w_log` shows for one log (from `since`, or its last `lines`), and the
/// follower that continues from where it ended.
fn start_following(
    dir: &std::path::Path,
    since: Option<Moment>,
    lines: usize,
) -> io::Result<(Vec<history::Line>, follow::Follower)> {
    let (shown, h) = match since {
        Some(s) => {
            let mut h = history::History::open(dir, Some(s), None)?;
            let mut v = Vec::new();
            while let Some(l) = h.next_line(true) {
                v.push(l);
            }
            (v, h)
        }
        None => history::tail(dir, lines, None)?,
    };
    for w in &h.warnings {
        say(&["w_log: warning: ", w]);
    }
    let (current, splitter) = h.into_parts();
    Ok((shown, follow::Follower::new(dir, current, splitter)?))
}

/// Blocks until a watched directory changes and marks which; without inotify (or for a
/// directory it could not watch) everything is re-read once a second.
fn wait_changes(
    watch: Option<&Watch>,
    wds: &[Option<nix::sys::inotify::WatchDescriptor>],
    dirty: &mut [bool],
) {
    let all_watched = watch.is_some() && wds.iter().all(Option::is_some);
    let timeout = (!all_watched).then_some(Duration::from_secs(1));
    match watch {
        Some(w) => match w.wait(timeout) {
            Ok(evs) if !evs.is_empty() => {
                for ev in evs {
                    if ev.mask & nix::libc::IN_Q_OVERFLOW != 0 {
                        dirty.iter_mut().for_each(|d| *d = true);
                    }
                    for (i, wd) in wds.iter().enumerate() {
                        if *wd == Some(ev.wd) {
                            dirty[i] = true;
                        }
                    }
                }
            }
            _ => {
                for (i, wd) in wds.iter().enumerate() {
                    if wd.is_none() {
                        dirty[i] = true;
                    }
                }
            }
        },
        None => {
            std::thread::sleep(Duration::from_secs(1));
            dirty.iter_mut().for_each(|d| *d = true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_options_become_short_ones() {
        let v: Vec<OsString> = [
            "p_log",
            "--merge",
            "--since=1h",
            "--no-pager",
            "a",
            "--since",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let s: Vec<String> = shorten(&v)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(s, ["p_log", "-m", "-s", "1h", "-P", "a", "--since"]);
    }

    #[test]
    fn tags_go_after_the_stamp() {
        std::env::set_var("TZ", "UTC");
        let mut r = Renderer::new();
        let mut out = Vec::new();
        render(
            &mut r,
            Some("web"),
            b"@400000006b0337972f6e0954 hello\n",
            &mut out,
        );
        render(&mut r, Some("web"), b"plain\n", &mut out);
        render(&mut r, None, b"2026-11-22_18:42:17.03672 x\n", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-11-22 18:42:21.795740500 web: hello\nweb: plain\n2026-11-22 18:42:17.03672 x\n"
        );
    }
}
