//! runsvdir: start and watch one runsv per service directory (`spec/supervise.md` §4).
//!
//! One event loop polls a signalfd (CHLD, TERM, HUP, ALRM), an inotify instance and, with a
//! `log` argument, the pipe that became stderr. Services are known by (device, inode), so a
//! rename changes nothing; dot-entries are skipped; a removed directory's runsv gets TERM.
//!
//! Beyond runit: new services are seen through inotify and started once their directory has
//! been quiet for [`SETTLE`] and has an executable `run` (or after [`MAX_GRACE`], as runit
//! would), with a full rescan every [`RESCAN`] as a fallback; without inotify (no instance or
//! watch to be had) the directory is polled every [`POLL`], as runit does, and inotify is
//! tried again each time; a dead runsv is noticed at once (SIGCHLD) and restarted within
//! [`RESTART`]; a directory recreated while its old runsv is still exiting waits for that
//! runsv instead of fighting over `supervise/lock`; a `log/` added to a running service is
//! announced to its runsv, and so is its `supervise` being removed or replaced. The limit on
//! services ([`MAX_SERVICES`], `-c`) counts only the services a scan keeps, so a removal frees
//! its slot in the same scan. Container mode (process 1, or `RUNSVDIR_CONTAINER=1`) reaps
//! orphans and shuts everything down in order on SIGTERM, the orphans included.
//!
//! Warnings that a loop could repeat are said once per spell and then summarised
//! ([`crate::spell`]).

pub mod orphans;
pub mod proctitle;
pub mod watch;

use crate::spell::{self, Say, Spell};
use formats::control;
use formats::strerr::say;
use formats::tai64n::Tai64n;
use nix::libc;
use nix::sys::signal::Signal;
use proctitle::Proctitle;
use std::collections::HashSet;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use sys::child;
use sys::inotify::WatchDescriptor;
use sys::poll;
use sys::signal::{self as sig, Disposition, SignalFd};
use sys::spawn::{self, Action, Spawn, Step};
use watch::{DirStamp, Inotify};

/// The usage text after `usage: <argv0>` (runit's; `-c` and the `log` argument are not in it).
pub const USAGE: &str = " [-P] dir";
/// The synopsis `--help` shows: runit's and the options beyond it.
pub const SYNOPSIS: &str = " [-P] [-c max] dir [log]";
/// Exit code for a usage error.
pub const EXIT_USAGE: i32 = 1;
/// Exit code for a fatal error (and of a child that cannot exec runsv).
pub const EXIT_FATAL: i32 = 100;
/// Exit code after SIGHUP.
pub const EXIT_HUP: i32 = 111;
/// runit's limit on the number of services, the default of `-c`.
pub const MAX_SERVICES: usize = 1000;
/// A new service directory must be quiet this long before its runsv starts.
pub const SETTLE: Duration = Duration::from_millis(40);
/// A new directory without an executable `run` is started anyway after this long.
pub const MAX_GRACE: Duration = Duration::from_secs(5);
/// The fallback full rescan, in case inotify missed something (a network filesystem, a
/// symlink whose target appeared later).
pub const RESCAN: Duration = Duration::from_secs(60);
/// Without inotify: how often the directory is looked at (runit's pace), and inotify tried
/// again.
pub const POLL: Duration = Duration::from_secs(5);
/// Without a watch on a new service directory: how often it is looked at for an executable
/// `run`.
pub const POLL_NEW: Duration = Duration::from_millis(200);
/// A runsv that died is restarted at once if it ran this long, else this long after it
/// started.
pub const RESTART: Duration = Duration::from_secs(1);
/// How long after `supervise` was removed or replaced runsv is told to look (a directory
/// being deleted whole is gone by then).
pub const SUPERVISE_NUDGE: Duration = Duration::from_millis(200);
/// Container-mode shutdown: how often the children are listed for orphans to TERM.
pub const ORPHAN_TICK: Duration = Duration::from_millis(100);
/// A `.` is written to the log pipe this often, so old messages scroll away.
pub const LOG_DOT: Duration = Duration::from_secs(900);
/// Environment variable selecting container mode when runsvdir is not process 1.
pub const CONTAINER_ENV: &str = "RUNSVDIR_CONTAINER";
/// Environment variable: container-mode shutdown bound in milliseconds.
pub const SHUTDOWN_ENV: &str = "RUNSVDIR_SHUTDOWN_TIMEOUT";
/// The default container-mode shutdown bound (below docker's 10 s grace).
pub const SHUTDOWN_DEFAULT: Duration = Duration::from_secs(7);
/// Debian's force-rescan stamp file (SIGALRM).
pub const FORCED_RESCAN: &str = ".forced-rescan";

/// One service directory.
struct Entry {
    dev: u64,
    ino: u64,
    /// The name it was last seen under.
    name: OsString,
    /// Its runsv, 0 for none.
    pid: u32,
    started: Option<Instant>,
    /// No (re)start before this: the settle period, the restart throttle, the grace end.
    start_at: Instant,
    first_seen: Instant,
    /// Still being populated: wait for an executable `run`.
    new: bool,
    wd: Option<WatchDescriptor>,
    /// When to tell runsv about a new `log/`.
    nudge_at: Option<Instant>,
    /// When to tell runsv that its `supervise` was removed or replaced.
    sup_nudge_at: Option<Instant>,
    seen: bool,
}

/// A service directory found by a scan and not known yet.
struct Fresh {
    name: OsString,
    dev: u64,
    ino: u64,
}

struct Runsvdir {
    dir: PathBuf,
    dir_text: String,
    pgrp: bool,
    /// `-c`: at most this many services, `None` for no limit.
    max_services: Option<usize>,
    container: bool,
    shutdown_bound: Duration,
    sigfd: SignalFd,
    inotify: Option<Inotify>,
    dir_wd: Option<WatchDescriptor>,
    entries: Vec<Entry>,
    /// runsv processes TERMed for removed directories, not yet exited: (name, pid).
    exiting: Vec<(OsString, u32)>,
    log: Option<(OwnedFd, Option<Proctitle>)>,
    log_dot_at: Option<Instant>,
    rescan_at: Instant,
    scan_now: bool,
    shutdown_at: Option<Instant>,
    /// Without inotify on the directory: when to look at it next.
    poll_at: Option<Instant>,
    /// The directory as the last scan saw it, and whether a change could hide in its stamp.
    stamp: Option<DirStamp>,
    stamp_recent: bool,
    /// Services turned away by the limit.
    too_many: Spell,
    /// The directory cannot be read.
    unreadable: Spell,
    /// No inotify instance, or no watch on the directory.
    no_inotify: Spell,
    /// runsv cannot be forked.
    no_fork: Spell,
    /// Names whose stat failed in the last scan (each is warned about once until it clears).
    stat_failed: HashSet<OsString>,
    /// Container-mode shutdown: when to look for orphans again, and those already TERMed.
    orphan_tick_at: Option<Instant>,
    orphans_termed: Vec<u32>,
}

/// The `runsvdir` command: answers `--help`/`--version`, or runs runsvdir with `argv`
/// (argv\[0\] included); returns the exit code. Its own binary and the multicall binary start
/// here.
pub fn main(argv: Vec<OsString>) -> i32 {
    let synopsis = format!("runsvdir{SYNOPSIS}");
    let about = formats::help::About {
        name: "runsvdir",
        synopsis: &[&synopsis],
        text: "Starts a runsv for every service directory in dir, as soon as it appears, and\n\
               keeps it running; a removed directory's runsv is stopped. At most max services\n\
               run (-c, default 1000; 0 for no limit). A log argument of seven characters or\n\
               more shows the latest error output in the process title.",
    };
    if let Some(code) = formats::help::answer(&argv, &about) {
        return code;
    }
    run(&argv)
}

/// Runs runsvdir with `argv` (argv\[0\] included); returns the exit code.
fn run(argv: &[OsString]) -> i32 {
    let prog = argv
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default();
    let usage = || {
        say(&["usage: ", &prog, USAGE, "\n"]);
        EXIT_USAGE
    };
    let Some((pgrp, max_services, i)) = parse_args(argv) else {
        return usage();
    };
    let dir = &argv[i];
    let log_arg = argv.get(i + 1).map(|l| (i + 1, l.clone()));
    sig::set(Signal::SIGPIPE, Disposition::Ignore);
    let container = std::process::id() == 1
        || std::env::var_os(CONTAINER_ENV).is_some_and(|v| !v.is_empty() && v != "0");
    let shutdown_bound = std::env::var(SHUTDOWN_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(SHUTDOWN_DEFAULT);
    // Neither runsv nor the services should see runsvdir's own settings.
    std::env::remove_var(CONTAINER_ENV);
    std::env::remove_var(SHUTDOWN_ENV);
    let dir_text = dir.to_string_lossy().into_owned();
    let fatal = |what: &str, e: &io::Error| {
        say(&[
            "runsvdir ",
            &dir_text,
            ": fatal: ",
            what,
            ": ",
            &formats::strerr::ioerr(e),
        ]);
        EXIT_FATAL
    };
    let mut signals = vec![
        Signal::SIGCHLD,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGALRM,
    ];
    if container {
        signals.push(Signal::SIGINT);
        if std::process::id() != 1 {
            let _ = child::become_subreaper();
        }
    }
    let sigfd = match SignalFd::new(&signals) {
        Ok(s) => s,
        Err(e) => return fatal("unable to create selfpipe", &e),
    };
    let now = Instant::now();
    let mut r = Runsvdir {
        dir: PathBuf::from(dir),
        dir_text: dir_text.clone(),
        pgrp,
        max_services,
        container,
        shutdown_bound,
        sigfd,
        inotify: None,
        dir_wd: None,
        entries: Vec::new(),
        exiting: Vec::new(),
        log: None,
        log_dot_at: None,
        rescan_at: now + RESCAN,
        scan_now: true,
        shutdown_at: None,
        poll_at: None,
        stamp: None,
        stamp_recent: false,
        too_many: Spell::new(),
        unreadable: Spell::new(),
        no_inotify: Spell::new(),
        no_fork: Spell::new(),
        stat_failed: HashSet::new(),
        orphan_tick_at: None,
        orphans_termed: Vec::new(),
    };
    if let Some((index, arg)) = log_arg {
        r.setup_log(index, arg.as_bytes());
    }
    match Inotify::new() {
        Ok(i) => r.inotify = Some(i),
        Err(e) => r.no_inotify(
            now,
            "unable to initialize inotify instance",
            &watch::init_error(&e),
        ),
    }
    r.main_loop()
}

/// Reads runit's command line, `[-P] dir [log]`, and `-c max` beside `-P`: returns
/// (`-P`, the limit, the index of dir). Only arguments before dir are looked at, each option
/// once, and `--` ends them; anything else starting with `-` is dir, as in runit.
fn parse_args(argv: &[OsString]) -> Option<(bool, Option<usize>, usize)> {
    let mut i = 1;
    let (mut pgrp, mut max) = (false, Some(MAX_SERVICES));
    let mut seen_c = false;
    while let Some(a) = argv.get(i) {
        let b = a.as_bytes();
        if b.first() != Some(&b'-') {
            break;
        }
        match b.get(1) {
            Some(b'P') if !pgrp => pgrp = true,
            Some(b'-') => {
                i += 1;
                break;
            }
            Some(b'c') if !seen_c => {
                seen_c = true;
                let value = if b.len() > 2 {
                    &b[2..]
                } else {
                    i += 1;
                    argv.get(i)?.as_bytes()
                };
                max = parse_max(value)?;
            }
            _ => break,
        }
        i += 1;
    }
    argv.get(i)?;
    Some((pgrp, max, i))
}

/// `-c`'s value: a decimal number of services, 0 for no limit.
fn parse_max(value: &[u8]) -> Option<Option<usize>> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: usize = std::str::from_utf8(value).ok()?.parse().ok()?;
    Some((n != 0).then_some(n))
}

impl Runsvdir {
    fn warn(&self, what: &str, e: Option<&io::Error>) {
        match e {
            Some(e) => say(&[
                "runsvdir ",
                &self.dir_text,
                ": warning: ",
                what,
                ": ",
                &formats::strerr::ioerr(e),
            ]),
            None => say(&["runsvdir ", &self.dir_text, ": warning: ", what]),
        }
    }

    fn setup_log(&mut self, index: usize, arg: &[u8]) {
        if arg.len() < 7 {
            self.warn("log must have at least seven characters.", None);
            self.warn("log service disabled.", None);
            return;
        }
        let (r, w) = match sys::fs::pipe(true) {
            Ok(p) => p,
            Err(_) => {
                self.warn("unable to create pipe for log.", None);
                self.warn("log service disabled.", None);
                return;
            }
        };
        sys::fs::set_nonblock(&w);
        // The pipe's own write end is closed right after.
        if nix::unistd::dup2_stderr(&w).is_err() {
            self.warn("unable to set filedescriptor for log.", None);
            self.warn("log service disabled.", None);
            return;
        }
        drop(w);
        self.log = Some((r, Proctitle::locate(index, arg)));
        self.log_dot_at = Some(Instant::now() + LOG_DOT);
    }

    /// Says a warning of the `spell` kind: the first of a spell in full, then summaries.
    fn warn_spell(&mut self, which: fn(&mut Self) -> &mut Spell, now: Instant, text: &str) {
        match which(self).hit(now) {
            Say::First => self.warn(text, None),
            Say::Summary(n, d) => self.warn(
                &format!("{text} (repeated {n} times in {})", spell::span(d)),
                None,
            ),
            Say::Quiet => {}
        }
    }

    /// Ends a spell; says `text` and how long it lasted if one was in progress.
    fn end_spell(&mut self, which: fn(&mut Self) -> &mut Spell, now: Instant, text: &str) {
        if let Some((d, n)) = which(self).end(now) {
            let more = match n {
                0 => String::new(),
                1 => "; 1 repeat not shown".to_string(),
                n => format!("; {n} repeats not shown"),
            };
            self.warn(&format!("{text} (after {}{more})", spell::span(d)), None);
        }
    }

    /// inotify cannot watch the directory: poll it as runit does, and say so once per spell.
    fn no_inotify(&mut self, now: Instant, what: &str, why: &str) {
        if self.poll_at.is_none() {
            self.poll_at = Some(now + POLL);
        }
        let text = format!("{what}: {why}; polling every {} seconds", POLL.as_secs());
        self.warn_spell(|r| &mut r.no_inotify, now, &text);
    }

    /// Puts the watch on the services directory; without it the directory is polled.
    fn watch_dir(&mut self, now: Instant) {
        let Some(ino) = &self.inotify else {
            return;
        };
        match ino.add(&self.dir, watch::DIR_MASK) {
            Ok(wd) => {
                self.dir_wd = Some(wd);
                self.poll_at = None;
                self.end_spell(
                    |r| &mut r.no_inotify,
                    now,
                    "inotify works again: polling stopped",
                );
            }
            Err(e) => {
                self.dir_wd = None;
                let why = watch::watch_error(&e);
                self.no_inotify(now, "unable to add watch to inotify instance", &why);
            }
        }
    }

    /// Without inotify on the directory: try to get it back, and rescan if the directory
    /// changed (runit's test: modification time, inode, device).
    fn poll(&mut self, now: Instant) {
        self.poll_at = Some(now + POLL);
        if self.inotify.is_none() {
            match Inotify::new() {
                Ok(i) => {
                    self.inotify = Some(i);
                    self.rewatch_entries();
                }
                Err(e) => {
                    let why = watch::init_error(&e);
                    self.no_inotify(now, "unable to initialize inotify instance", &why);
                }
            }
        }
        if self.inotify.is_some() && self.dir_wd.is_none() {
            self.watch_dir(now);
            if self.dir_wd.is_some() {
                // Whatever changed while nothing watched.
                self.scan_now = true;
            }
        }
        let stamp = DirStamp::of(&self.dir).ok();
        if stamp.is_none() || stamp != self.stamp || self.stamp_recent {
            self.scan_now = true;
        }
    }

    /// A new inotify instance: a watch on every known service directory again.
    fn rewatch_entries(&mut self) {
        let Some(ino) = &self.inotify else {
            return;
        };
        for e in &mut self.entries {
            let mask = if e.new {
                watch::NEW_SERVICE_MASK
            } else {
                watch::RUNNING_MASK
            };
            e.wd = ino.add(&self.dir.join(&e.name), mask).ok();
        }
    }

    fn main_loop(&mut self) -> i32 {
        let mut events = Vec::new();
        let mut first = true;
        loop {
            let now = Instant::now();
            if self.poll_at.is_some_and(|t| now >= t) {
                self.poll(now);
            }
            if self.scan_now || now >= self.rescan_at {
                self.scan(now, first);
                first = false;
            }
            self.start_due(now);
            if self.orphan_tick_at.is_some_and(|t| now >= t) {
                self.term_orphans(now);
            }
            if let Some(code) = self.shutdown_check(now) {
                return code;
            }
            let deadline = self.deadline();
            let ready = poll::wait(
                [
                    Some(self.sigfd.as_fd()),
                    self.inotify.as_ref().map(|i| i.as_fd()),
                    self.log.as_ref().map(|(r, _)| r.as_fd()),
                ],
                deadline,
            );
            let ready = match ready {
                Ok(r) => r,
                Err(e) => {
                    self.warn("unable to poll", Some(&e));
                    std::thread::sleep(Duration::from_millis(100));
                    [false; 3]
                }
            };
            let now = Instant::now();
            if ready[0] {
                while let Some(s) = self.sigfd.next() {
                    if let Some(code) = self.on_signal(s, now) {
                        return code;
                    }
                }
            }
            self.reap(now);
            if ready[1] {
                if let Some(ino) = &self.inotify {
                    events.clear();
                    ino.read(&mut events);
                }
                for ev in events.drain(..) {
                    self.on_event(ev, now);
                }
            }
            if ready[2] {
                self.read_log();
            }
            if self.log_dot_at.is_some_and(|t| now >= t) {
                if let Some((_, Some(p))) = &mut self.log {
                    p.push(b".");
                }
                self.log_dot_at = Some(now + LOG_DOT);
            }
            self.nudge(now);
        }
    }

    fn on_signal(&mut self, s: i32, now: Instant) -> Option<i32> {
        match s {
            libc::SIGTERM | libc::SIGINT if self.container => {
                if self.shutdown_at.is_none() {
                    self.shutdown_at = Some(now + self.shutdown_bound);
                    for e in &self.entries {
                        sig::send(e.pid, libc::SIGTERM);
                    }
                    // Orphans have nobody else to stop them; one holding a log pipe would
                    // also keep that logger, and so its runsv, from ever exiting.
                    self.term_orphans(now);
                }
                None
            }
            libc::SIGTERM => Some(0),
            libc::SIGHUP => {
                for e in &self.entries {
                    sig::send(e.pid, libc::SIGTERM);
                }
                for (_, pid) in &self.exiting {
                    sig::send(*pid, libc::SIGTERM);
                }
                Some(EXIT_HUP)
            }
            libc::SIGALRM => {
                let stamp = format!("@{}", Tai64n::now().to_hex());
                if let Err(e) = fs::write(self.dir.join(FORCED_RESCAN), stamp) {
                    self.warn(&format!("unable to write {FORCED_RESCAN}"), Some(&e));
                }
                self.scan_now = true;
                None
            }
            _ => None,
        }
    }

    fn reap(&mut self, now: Instant) {
        while let Some(r) = child::reap() {
            if let Some(e) = self.entries.iter_mut().find(|e| e.pid == r.pid) {
                e.pid = 0;
                let at = e.started.map_or(now, |s| s + RESTART);
                e.start_at = at.max(now);
                // The directory may have gone: look before restarting.
                self.scan_now = true;
            } else if let Some(i) = self.exiting.iter().position(|(_, p)| *p == r.pid) {
                self.exiting.swap_remove(i);
            }
        }
    }

    fn on_event(&mut self, ev: watch::Event, now: Instant) {
        if ev.mask & libc::IN_Q_OVERFLOW != 0 {
            self.scan_now = true;
            return;
        }
        if Some(ev.wd) == self.dir_wd {
            if ev.mask & libc::IN_IGNORED != 0 {
                self.dir_wd = None;
            }
            self.scan_now = true;
            return;
        }
        let Some(e) = self.entries.iter_mut().find(|e| e.wd == Some(ev.wd)) else {
            return;
        };
        if ev.mask & libc::IN_IGNORED != 0 {
            e.wd = None;
            self.scan_now = true;
            return;
        }
        if e.new && e.pid == 0 {
            e.start_at = now + SETTLE;
        } else if watch::is_log_created(&ev) {
            e.nudge_at = Some(now + SETTLE * 5);
        } else if watch::is_supervise_changed(&ev) && e.pid != 0 {
            e.sup_nudge_at = Some(now + SUPERVISE_NUDGE);
        }
    }

    fn nudge(&mut self, now: Instant) {
        for e in &mut self.entries {
            if e.nudge_at.is_some_and(|t| now >= t) {
                e.nudge_at = None;
                let _ = control::send(&self.dir.join(&e.name), &[control::RECHECK_LOG]);
            }
            if e.sup_nudge_at.is_some_and(|t| now >= t) {
                e.sup_nudge_at = None;
                // Its control FIFO may be what is gone: SIGCHLD, which runsv (runit's too)
                // catches, wakes it up to look. Not if the directory itself went meanwhile.
                let still = fs::metadata(self.dir.join(&e.name))
                    .is_ok_and(|m| m.dev() == e.dev && m.ino() == e.ino);
                if still {
                    sig::send(e.pid, libc::SIGCHLD);
                }
            }
        }
    }

    fn read_log(&mut self) {
        let Some((fd, title)) = &mut self.log else {
            return;
        };
        let mut buf = [0u8; 256];
        while let Ok(n) = nix::unistd::read(&*fd, &mut buf) {
            if n == 0 {
                break;
            }
            if let Some(t) = title {
                t.push(&buf[..n]);
            }
        }
    }

    /// Reads the directory: entries not seen get their runsv TERMed and are dropped first,
    /// then new ones are added up to the limit, so a slot freed by a removal is taken in the
    /// same scan (§4.1); renamed entries keep their runsv.
    fn scan(&mut self, now: Instant, initial: bool) {
        self.scan_now = false;
        self.rescan_at = now + RESCAN;
        self.stamp = DirStamp::of(&self.dir).ok();
        self.stamp_recent = self.stamp.is_some_and(|s| s.recent());
        let rd = match fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) => {
                let text = format!(
                    "unable to open directory {}: {}",
                    self.dir_text,
                    formats::strerr::ioerr(&e)
                );
                self.warn_spell(|r| &mut r.unreadable, now, &text);
                self.rescan_at = now + RESTART;
                return;
            }
        };
        // Watched only once it can be read: a missing directory gets one warning per spell.
        self.watch_dir(now);
        for e in &mut self.entries {
            e.seen = false;
        }
        let mut fresh = Vec::new();
        let mut stat_failed = HashSet::new();
        let mut failed = false;
        for d in rd {
            let d = match d {
                Ok(d) => d,
                Err(e) => {
                    let text = format!(
                        "unable to read directory {}: {}",
                        self.dir_text,
                        formats::strerr::ioerr(&e)
                    );
                    self.warn_spell(|r| &mut r.unreadable, now, &text);
                    failed = true;
                    break;
                }
            };
            let name = d.file_name();
            if name.as_bytes().first() == Some(&b'.') {
                continue;
            }
            let path = self.dir.join(&name);
            let md = match fs::metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    // Gone since the directory was read (being removed): nothing to say.
                    if e.kind() == io::ErrorKind::NotFound && fs::symlink_metadata(&path).is_err() {
                        continue;
                    }
                    // Once per name until it can be read again (a dangling link would
                    // otherwise be reported by every scan).
                    if !self.stat_failed.contains(&name) {
                        self.warn(
                            &format!("unable to stat {}", name.to_string_lossy()),
                            Some(&e),
                        );
                    }
                    stat_failed.insert(name);
                    continue;
                }
            };
            if !md.is_dir() {
                continue;
            }
            if let Some(e) = self
                .entries
                .iter_mut()
                .find(|e| e.dev == md.dev() && e.ino == md.ino())
            {
                e.seen = true;
                e.name = name;
                continue;
            }
            fresh.push(Fresh {
                name,
                dev: md.dev(),
                ino: md.ino(),
            });
        }
        self.stat_failed = stat_failed;
        if failed {
            self.rescan_at = now + RESTART;
            return;
        }
        self.end_spell(
            |r| &mut r.unreadable,
            now,
            &format!("directory {} can be read again", self.dir_text),
        );
        self.drop_unseen();
        self.add_fresh(fresh, now, initial);
    }

    /// Entries a complete scan did not see: their runsv gets TERM, their slot is free.
    fn drop_unseen(&mut self) {
        let mut i = 0;
        while i < self.entries.len() {
            if self.entries[i].seen {
                i += 1;
                continue;
            }
            let e = self.entries.swap_remove(i);
            if let (Some(ino), Some(wd)) = (&self.inotify, e.wd) {
                if !self.entries.iter().any(|o| o.wd == Some(wd)) {
                    ino.remove(wd);
                }
            }
            if e.pid != 0 {
                sig::send(e.pid, libc::SIGTERM);
                self.exiting.push((e.name, e.pid));
            }
        }
    }

    /// New service directories, up to the limit; the rest wait for a later scan, and the
    /// warning about them is said once per spell.
    fn add_fresh(&mut self, fresh: Vec<Fresh>, now: Instant, initial: bool) {
        let mut turned_away: Option<OsString> = None;
        let mut waiting = 0usize;
        for f in fresh {
            if self.max_services.is_some_and(|m| self.entries.len() >= m) {
                waiting += 1;
                turned_away.get_or_insert(f.name);
                continue;
            }
            let mask = if initial {
                watch::RUNNING_MASK
            } else {
                watch::NEW_SERVICE_MASK
            };
            let path = self.dir.join(&f.name);
            let wd = self.inotify.as_ref().and_then(|i| i.add(&path, mask).ok());
            self.entries.push(Entry {
                dev: f.dev,
                ino: f.ino,
                name: f.name,
                pid: 0,
                started: None,
                start_at: if initial { now } else { now + SETTLE },
                first_seen: now,
                new: !initial,
                wd,
                nudge_at: None,
                sup_nudge_at: None,
                seen: true,
            });
        }
        let Some(first) = turned_away else {
            self.end_spell(
                |r| &mut r.too_many,
                now,
                "too many services: none waiting any more",
            );
            return;
        };
        let max = self.max_services.unwrap_or(0);
        match self.too_many.hit(now) {
            Say::First => {
                // runit's words for the first one, then how many more.
                self.warn(
                    &format!(
                        "unable to start runsv {}: too many services.",
                        first.to_string_lossy()
                    ),
                    None,
                );
                if waiting > 1 {
                    self.warn(
                        &format!(
                            "too many services: {} more waiting for a free slot \
                             (at most {max}; see -c)",
                            waiting - 1
                        ),
                        None,
                    );
                }
            }
            Say::Summary(n, d) => self.warn(
                &format!(
                    "too many services: {waiting} still waiting for a free slot \
                     (at most {max}; turned away by {n} scans in {})",
                    spell::span(d)
                ),
                None,
            ),
            Say::Quiet => {}
        }
    }

    fn blocked(&self, e: &Entry) -> bool {
        self.exiting.iter().any(|(n, _)| *n == e.name)
    }

    fn start_due(&mut self, now: Instant) {
        if self.shutdown_at.is_some() {
            return;
        }
        for i in 0..self.entries.len() {
            let e = &self.entries[i];
            if e.pid != 0 || e.start_at > now || self.blocked(e) {
                continue;
            }
            if e.new {
                let ready = has_run(&self.dir.join(&e.name));
                let grace_end = e.first_seen + MAX_GRACE;
                if !ready && now < grace_end {
                    // Events say when to look again; without a watch, look now and then.
                    self.entries[i].start_at = match e.wd {
                        Some(_) => grace_end,
                        None => (now + POLL_NEW).min(grace_end),
                    };
                    continue;
                }
            }
            self.start(i, now);
        }
    }

    fn start(&mut self, i: usize, now: Instant) {
        let name = self.entries[i].name.clone();
        let runsv = spawn::which("runsv").map(spawn::cstring);
        let cname = spawn::cstring(&name);
        let cdir = spawn::cstring(&self.dir);
        let prefix = format!(
            "runsvdir {}: fatal: unable to start runsv {}: ",
            self.dir_text,
            name.to_string_lossy()
        );
        let mut steps = vec![Step {
            action: Action::Chdir(&cdir),
            what: b"",
        }];
        if self.pgrp {
            steps.push(Step {
                action: Action::Setsid,
                what: b"",
            });
        }
        let result = spawn::spawn(&Spawn {
            program: runsv.as_deref(),
            argv: &[c"runsv", &cname],
            steps: &steps,
            exec_what: b"",
            fail_prefix: prefix.as_bytes(),
            fail_code: EXIT_FATAL,
        });
        if result.is_ok() {
            self.end_spell(|r| &mut r.no_fork, now, "runsv can be forked again");
        }
        let e = &mut self.entries[i];
        match result {
            Ok(pid) => {
                e.pid = pid;
                e.started = Some(now);
                if e.new {
                    e.new = false;
                    if let (Some(ino), Some(_)) = (&self.inotify, e.wd) {
                        e.wd = ino.add(&self.dir.join(&e.name), watch::RUNNING_MASK).ok();
                    }
                }
            }
            Err(err) => {
                e.start_at = now + RESTART;
                let what = format!(
                    "unable to fork for {}: {}",
                    name.to_string_lossy(),
                    formats::strerr::ioerr(&err)
                );
                self.warn_spell(|r| &mut r.no_fork, now, &what);
            }
        }
    }

    fn deadline(&self) -> Option<Instant> {
        let mut d = Some(self.rescan_at);
        d = poll::earliest(d, self.log_dot_at);
        d = poll::earliest(d, self.shutdown_at);
        d = poll::earliest(d, self.poll_at);
        d = poll::earliest(d, self.orphan_tick_at);
        if self.shutdown_at.is_none() {
            for e in &self.entries {
                if e.pid == 0 && !self.blocked(e) {
                    d = poll::earliest(d, Some(e.start_at));
                }
                d = poll::earliest(d, e.nudge_at);
                d = poll::earliest(d, e.sup_nudge_at);
            }
        }
        d
    }

    /// The runsv processes runsvdir started and has not reaped yet.
    fn runsv_pids(&self) -> Vec<u32> {
        self.entries
            .iter()
            .map(|e| e.pid)
            .chain(self.exiting.iter().map(|(_, p)| *p))
            .filter(|&p| p != 0)
            .collect()
    }

    /// Container-mode shutdown: TERM (and CONT) every adopted orphan not TERMed yet, and look
    /// again soon, for the ones still being re-parented to us.
    fn term_orphans(&mut self, now: Instant) {
        let mut new = orphans::adopted(&self.runsv_pids());
        new.retain(|p| !self.orphans_termed.contains(p));
        orphans::terminate(&new);
        self.orphans_termed.extend(new);
        self.orphan_tick_at = Some(now + ORPHAN_TICK);
    }

    /// Container mode: once every runsv has exited (each stopped its service, then let its
    /// logger drain) and every adopted orphan too, or the bound has passed (then everything
    /// left is killed), reap and exit 0. Outside process 1 nothing may be left behind: the
    /// host's init would inherit it.
    fn shutdown_check(&mut self, now: Instant) -> Option<i32> {
        let deadline = self.shutdown_at?;
        let runsv = self.runsv_pids();
        let left = !runsv.is_empty() || !orphans::adopted(&runsv).is_empty();
        if left && now < deadline {
            return None;
        }
        if left {
            self.warn("shutdown timed out: killing what is left", None);
            // The services of those runsv, from their pid files, before the runsv go.
            let mut services = Vec::new();
            for e in self.entries.iter().filter(|e| e.pid != 0) {
                for f in ["supervise/pid", "log/supervise/pid"] {
                    let text =
                        fs::read_to_string(self.dir.join(&e.name).join(f)).unwrap_or_default();
                    if let Ok(p) = text.trim().parse::<u32>() {
                        services.push(p);
                    }
                }
            }
            for p in runsv.iter().chain(services.iter()) {
                sig::send(*p, libc::SIGKILL);
            }
            if std::process::id() == 1 {
                // As process 1, kill(-1) reaches every other process of the namespace.
                sig::send_all(Signal::SIGKILL);
            }
        }
        // Reap everything that is left, KILLing what is still re-parented to us (the
        // children of killed orphans), briefly bounded.
        let until = Instant::now() + Duration::from_secs(1);
        loop {
            while child::reap().is_some() {}
            for p in orphans::children() {
                sig::send(p, libc::SIGKILL);
            }
            if !child::any_left() || Instant::now() >= until {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Some(0)
    }
}

/// Whether `path` looks like a complete service directory (an executable `run`).
pub fn has_run(path: &Path) -> bool {
    fs::metadata(path.join("run")).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
