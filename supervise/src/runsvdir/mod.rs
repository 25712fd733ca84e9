//! runsvdir: start and watch one runsv per service directory (`spec/supervise.md` §4).
//!
//! One event loop polls a signalfd (CHLD, TERM, HUP, ALRM), an inotify instance and, with a
//! `log` argument, the pipe that became stderr. Services are known by (device, inode), so a
//! rename changes nothing; dot-entries are skipped; a removed directory's runsv gets TERM.
//!
//! Beyond runit: new services are seen through inotify and started once their directory has
//! been quiet for [`SETTLE`] and has an executable `run` (or after [`MAX_GRACE`], as runit
//! would), with a full rescan every [`RESCAN`] as a fallback; a dead runsv is noticed at once
//! (SIGCHLD) and restarted within [`RESTART`]; a directory recreated while its old runsv is
//! still exiting waits for that runsv instead of fighting over `supervise/lock`; a `log/`
//! added to a running service is announced to its runsv. Container mode (process 1, or
//! `RUNSVDIR_CONTAINER=1`) reaps orphans and shuts everything down in order on SIGTERM.

pub mod proctitle;
pub mod watch;

use crate::control;
use crate::event;
use crate::sig::{self, SignalFd};
use crate::spawn::{self, Spawn};
use crate::strerr::say;
use crate::tai64n::Tai64n;
use nix::libc;
use proctitle::Proctitle;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use watch::Inotify;

/// The usage text after `usage: <argv0>` (runit's; the `log` argument is not in it).
pub const USAGE: &str = " [-P] dir";
/// Exit code for a usage error.
pub const EXIT_USAGE: i32 = 1;
/// Exit code for a fatal error (and of a child that cannot exec runsv).
pub const EXIT_FATAL: i32 = 100;
/// Exit code after SIGHUP.
pub const EXIT_HUP: i32 = 111;
/// runit's limit on the number of services.
pub const MAX_SERVICES: usize = 1000;
/// A new service directory must be quiet this long before its runsv starts.
pub const SETTLE: Duration = Duration::from_millis(40);
/// A new directory without an executable `run` is started anyway after this long.
pub const MAX_GRACE: Duration = Duration::from_secs(5);
/// The fallback full rescan, in case inotify missed something (a network filesystem, a
/// symlink whose target appeared later).
pub const RESCAN: Duration = Duration::from_secs(60);
/// A runsv that died is restarted at once if it ran this long, else this long after it
/// started.
pub const RESTART: Duration = Duration::from_secs(1);
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
    wd: Option<i32>,
    /// When to tell runsv about a new `log/`.
    nudge_at: Option<Instant>,
    seen: bool,
}

struct Runsvdir {
    dir: PathBuf,
    dir_text: String,
    pgrp: bool,
    container: bool,
    shutdown_bound: Duration,
    sigfd: SignalFd,
    inotify: Option<Inotify>,
    dir_wd: Option<i32>,
    entries: Vec<Entry>,
    /// runsv processes TERMed for removed directories, not yet exited: (name, pid).
    exiting: Vec<(OsString, u32)>,
    log: Option<(OwnedFd, Option<Proctitle>)>,
    log_dot_at: Option<Instant>,
    rescan_at: Instant,
    scan_now: bool,
    shutdown_at: Option<Instant>,
}

/// Runs runsvdir with `argv` (argv\[0\] included); returns the exit code.
pub fn run(argv: &[OsString]) -> i32 {
    let prog = argv
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default();
    let usage = || {
        say(&["usage: ", &prog, USAGE, "\n"]);
        EXIT_USAGE
    };
    let mut i = 1;
    let mut pgrp = false;
    let Some(first) = argv.get(1) else {
        return usage();
    };
    let b = first.as_bytes();
    if b.first() == Some(&b'-') {
        match b.get(1) {
            Some(b'P') => {
                pgrp = true;
                i += 1;
            }
            Some(b'-') => i += 1,
            _ => {}
        }
    }
    let Some(dir) = argv.get(i) else {
        return usage();
    };
    let log_arg = argv.get(i + 1).map(|l| (i + 1, l.clone()));
    sig::ignore_sigpipe();
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
            &crate::strerr::ioerr(e),
        ]);
        EXIT_FATAL
    };
    let mut signals = vec![libc::SIGCHLD, libc::SIGTERM, libc::SIGHUP, libc::SIGALRM];
    if container {
        signals.push(libc::SIGINT);
        if std::process::id() != 1 {
            // SAFETY: prctl with integer arguments.
            unsafe {
                libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
            }
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
    };
    if let Some((index, arg)) = log_arg {
        r.setup_log(index, arg.as_bytes());
    }
    match Inotify::new() {
        Ok(i) => r.inotify = Some(i),
        Err(e) => r.warn("unable to initialize inotify instance", Some(&e)),
    }
    r.main_loop()
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
                &crate::strerr::ioerr(e),
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
        let (r, w) = match crate::svdir::pipe(true) {
            Ok(p) => p,
            Err(_) => {
                self.warn("unable to create pipe for log.", None);
                self.warn("log service disabled.", None);
                return;
            }
        };
        crate::svdir::set_nonblock(&w);
        // SAFETY: dup2 onto fd 2; the pipe's own write end is then closed.
        if unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&w), 2) } != 2 {
            self.warn("unable to set filedescriptor for log.", None);
            self.warn("log service disabled.", None);
            return;
        }
        drop(w);
        self.log = Some((r, Proctitle::locate(index, arg)));
        self.log_dot_at = Some(Instant::now() + LOG_DOT);
    }

    fn main_loop(&mut self) -> i32 {
        let mut events = Vec::new();
        let mut first = true;
        loop {
            let now = Instant::now();
            if self.scan_now || now >= self.rescan_at {
                self.scan(now, first);
                first = false;
            }
            self.start_due(now);
            if let Some(code) = self.shutdown_check(now) {
                return code;
            }
            let deadline = self.deadline();
            let ready = event::wait(
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
        while let Some(r) = sig::reap() {
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
        if ev.wd < 0 || ev.mask & libc::IN_Q_OVERFLOW != 0 {
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
        }
    }

    fn nudge(&mut self, now: Instant) {
        for e in &mut self.entries {
            if e.nudge_at.is_some_and(|t| now >= t) {
                e.nudge_at = None;
                let _ = control::send(&self.dir.join(&e.name), &[control::RECHECK_LOG]);
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

    /// Reads the directory: new entries are added, renamed ones keep their runsv, entries
    /// not seen get their runsv TERMed (§4.1).
    fn scan(&mut self, now: Instant, initial: bool) {
        self.scan_now = false;
        self.rescan_at = now + RESCAN;
        let rd = match fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) => {
                self.warn(
                    &format!("unable to open directory {}", self.dir_text),
                    Some(&e),
                );
                self.rescan_at = now + RESTART;
                return;
            }
        };
        // Watched only once it can be read: a missing directory gets one warning per try.
        if let Some(ino) = &self.inotify {
            match ino.add(&self.dir, watch::DIR_MASK) {
                Ok(wd) => self.dir_wd = Some(wd),
                Err(e) => self.warn("unable to add watch to inotify instance", Some(&e)),
            }
        }
        for e in &mut self.entries {
            e.seen = false;
        }
        let mut failed = false;
        for d in rd {
            let d = match d {
                Ok(d) => d,
                Err(e) => {
                    self.warn(
                        &format!("unable to read directory {}", self.dir_text),
                        Some(&e),
                    );
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
                    self.warn(
                        &format!("unable to stat {}", name.to_string_lossy()),
                        Some(&e),
                    );
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
            if self.entries.len() >= MAX_SERVICES {
                self.warn(
                    &format!(
                        "unable to start runsv {}: too many services.",
                        name.to_string_lossy()
                    ),
                    None,
                );
                continue;
            }
            let mask = if initial {
                watch::RUNNING_MASK
            } else {
                watch::NEW_SERVICE_MASK
            };
            let wd = self.inotify.as_ref().and_then(|i| i.add(&path, mask).ok());
            self.entries.push(Entry {
                dev: md.dev(),
                ino: md.ino(),
                name,
                pid: 0,
                started: None,
                start_at: if initial { now } else { now + SETTLE },
                first_seen: now,
                new: !initial,
                wd,
                nudge_at: None,
                seen: true,
            });
        }
        if failed {
            self.rescan_at = now + RESTART;
            return;
        }
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
                    self.entries[i].start_at = grace_end;
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
        let result = spawn::spawn(&Spawn {
            program: runsv.as_deref(),
            argv: &[c"runsv", &cname],
            stdin: None,
            stdout: None,
            extra: None,
            chdir: Some(&cdir),
            setsid: self.pgrp,
            fail_prefix: prefix.as_bytes(),
            fail_code: EXIT_FATAL,
        });
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
                let what = format!("unable to fork for {}", name.to_string_lossy());
                self.warn(&what, Some(&err));
            }
        }
    }

    fn deadline(&self) -> Option<Instant> {
        let mut d = Some(self.rescan_at);
        d = event::earliest(d, self.log_dot_at);
        d = event::earliest(d, self.shutdown_at);
        if self.shutdown_at.is_none() {
            for e in &self.entries {
                if e.pid == 0 && !self.blocked(e) {
                    d = event::earliest(d, Some(e.start_at));
                }
                d = event::earliest(d, e.nudge_at);
            }
        }
        d
    }

    /// Container mode: once every runsv has exited (each stopped its service, then let its
    /// logger drain), or the bound has passed (then everything left is killed), reap and exit 0.
    fn shutdown_check(&mut self, now: Instant) -> Option<i32> {
        let deadline = self.shutdown_at?;
        let left = self.entries.iter().any(|e| e.pid != 0) || !self.exiting.is_empty();
        if left && now < deadline {
            return None;
        }
        if left {
            self.warn("shutdown timed out: killing what is left", None);
            let pids: Vec<u32> = self
                .entries
                .iter()
                .map(|e| e.pid)
                .chain(self.exiting.iter().map(|(_, p)| *p))
                .filter(|&p| p != 0)
                .collect();
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
            for p in pids.iter().chain(services.iter()) {
                sig::send(*p, libc::SIGKILL);
            }
            if std::process::id() == 1 {
                // SAFETY: kill(-1) as process 1 reaches every other process of the namespace.
                unsafe {
                    libc::kill(-1, libc::SIGKILL);
                }
            }
        }
        // Reap everything that is left (orphans re-parented to us included), briefly bounded.
        let until = Instant::now() + Duration::from_secs(1);
        loop {
            while sig::reap().is_some() {}
            let mut st = 0;
            // SAFETY: waitpid with WNOHANG on any child; ECHILD means none are left.
            let r = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
            if r < 0 || Instant::now() >= until {
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
