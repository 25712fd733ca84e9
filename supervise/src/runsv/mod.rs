//! runsv: supervise one service directory and its `log/` service (`spec/supervise.md` §1-§3).
//!
//! One event loop polls a signalfd (CHLD, TERM), the two control FIFOs, the readiness pipes and
//! the pidfds of orphans left by a killed predecessor, with a timeout taken from the
//! [`machine::Svc`] deadlines (restart throttle, `timeout-kill`) and no timeout at all when
//! idle. The log pipe is created here once and both ends are held until runsv exits, so
//! neither side's restart loses a byte.
//!
//! Beyond runit: `notification-fd` readiness (`supervise/ready`), `timeout-kill`, a `log/`
//! directory added later is picked up (at the next start of `./run`, or at once when runsvdir
//! sends [`control::RECHECK_LOG`]), and a predecessor's orphaned processes, recorded in
//! `supervise/start`, are stopped before anything is started again, so no duplicate runs.
//! The service directory itself is locked too ([`guard`]), and `supervise/` removed or
//! replaced while runsv runs is made again at its next wake-up (at once under this runsvdir,
//! which watches for it and sends SIGCHLD), so a second runsv can neither start a duplicate
//! nor leave the service without a way to control it.
//!
//! Failures to write the status files are said once per spell ([`crate::spell`]).

pub mod guard;
pub mod machine;

use crate::procinfo::{self, Identity};
use crate::setup::{self, SetupError};
use crate::spell::{self, Say, Spell};
use formats::control::{self, Command};
use formats::status::{self, Ready, Snapshot, WriteError};
use formats::strerr::{errstr, say};
use formats::svdir;
use formats::tai64n::Tai64n;
use machine::{Host, Role, Start, Svc};
use nix::libc;
use nix::sys::signal::Signal;
use std::ffi::{CString, OsString};
use std::fs;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};
use sys::child;
use sys::poll;
use sys::signal::{self as sig, Disposition, SignalFd};
use sys::spawn::{self, Action, Spawn, Step};

/// The usage text after `usage: <argv0>` (runit's).
pub const USAGE: &str = " dir";
/// Exit code for a usage error.
pub const EXIT_USAGE: i32 = 1;
/// Exit code for a start-up failure.
pub const EXIT_FATAL: i32 = 111;
/// How long an orphan of a killed predecessor gets after TERM before KILL, when the service
/// has no `timeout-kill`.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(5);
/// How long an orphaned logger gets to drain and exit by itself once its service is gone.
pub const ORPHAN_LOG_GRACE: Duration = Duration::from_secs(3);
/// How long after finding `supervise/` removed or replaced runsv makes it again (and how
/// often it tries while that fails): a service directory being deleted whole is gone by then,
/// and must not get a new `supervise/` in its way.
pub const REPAIR_DELAY: Duration = Duration::from_secs(1);

fn sup(role: Role) -> &'static str {
    match role {
        Role::Main => "supervise",
        Role::Log => "log/supervise",
    }
}

fn b(o: &Option<OwnedFd>) -> Option<BorrowedFd<'_>> {
    o.as_ref().map(|f| f.as_fd())
}

fn idx(role: Role) -> usize {
    match role {
        Role::Main => 0,
        Role::Log => 1,
    }
}

/// The effects side: messages, status files, signals, control scripts. Owns the log pipe,
/// which control scripts and `./finish` also write to.
struct Io {
    /// The directory as given on the command line, for messages.
    dir: String,
    /// Both ends of the log pipe while there is a log and runsv is not exiting.
    logpipe: Option<(OwnedFd, OwnedFd)>,
    /// The files in `supervise/` cannot be written (a crash loop would say so every second).
    write_spell: Spell,
}

impl Io {
    fn msg(&self, kind: &str, text: &str, err: Option<i32>) {
        match err {
            Some(e) => say(&["runsv ", &self.dir, kind, text, ": ", errstr(e)]),
            None => say(&["runsv ", &self.dir, kind, text]),
        }
    }

    fn warn(&self, text: &str, err: Option<i32>) {
        self.msg(": warning: ", text, err);
    }

    fn warn_io(&self, text: &str, e: &io::Error) {
        self.warn(text, Some(e.raw_os_error().unwrap_or(libc::EIO)));
    }

    /// A failed write of a `supervise/` file: the first of a spell in full, then summaries.
    fn warn_write(&mut self, e: &WriteError) {
        let n = match self.write_spell.hit(Instant::now()) {
            Say::First => None,
            Say::Summary(n, d) => Some((n, d)),
            Say::Quiet => return,
        };
        self.say_write(e);
        if let Some((n, d)) = n {
            self.warn(
                &format!(
                    "status files: {n} failed writes in {} (one warning per minute or less)",
                    spell::span(d)
                ),
                None,
            );
        }
    }

    /// The supervise files were written: ends a spell of failures.
    fn wrote(&mut self) {
        if let Some((d, n)) = self.write_spell.end(Instant::now()) {
            let more = match n {
                0 => String::new(),
                n => format!(" ({n} more failed writes not shown)"),
            };
            self.warn(
                &format!("status files written again after {}{more}", spell::span(d)),
                None,
            );
        }
    }

    fn say_write(&self, e: &WriteError) {
        match e {
            WriteError::Open(p, e) => self.warn_io(&format!("unable to open {}", p.display()), e),
            WriteError::Write(p, e) => self.warn_io(&format!("unable to write {}", p.display()), e),
            WriteError::Rename(p, e) => {
                let new = p.to_string_lossy();
                let target = new.strip_suffix(".new").unwrap_or(&new);
                let base = p
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default();
                self.warn_io(&format!("unable to rename {base} to {target}"), e)
            }
        }
    }

    fn log_w(&self) -> Option<i32> {
        self.logpipe.as_ref().map(|(_, w)| w.as_raw_fd())
    }
}

impl Host for Io {
    fn custom(&mut self, letter: u8, pid: u32) -> bool {
        let name = format!("control/{}", letter as char);
        match sys::fs::owner_executable(Path::new(&name)) {
            Ok(true) => {}
            Ok(false) => return false,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return false,
            Err(e) => {
                self.warn_io(&format!("unable to stat {name}"), &e);
                return false;
            }
        }
        let path = spawn::cstring(&name);
        let arg = CString::new(if pid != 0 {
            pid.to_string()
        } else {
            String::new()
        })
        .unwrap_or_default();
        let prefix = format!("runsv {}: fatal: unable to run {name}: ", self.dir);
        let out: Vec<Step<'_>> = self
            .log_w()
            .map(|fd| Step {
                action: Action::Dup { from: fd, to: 1 },
                what: b"",
            })
            .into_iter()
            .collect();
        let child = spawn::spawn(&Spawn {
            program: Some(&path),
            argv: &[&path, &arg],
            steps: &out,
            exec_what: b"",
            fail_prefix: prefix.as_bytes(),
            fail_code: EXIT_FATAL,
        });
        match child {
            Err(e) => {
                self.warn_io(&format!("unable to fork for {name}"), &e);
                false
            }
            Ok(child) => match child::wait_for(child) {
                // runit's test: the exit code is 0 (a signal also reads as 0).
                Ok(w) => (w >> 8) & 0xff == 0,
                Err(e) => {
                    self.warn_io(&format!("unable to wait for child {name}"), &e);
                    false
                }
            },
        }
    }

    fn signal(&mut self, pid: u32, sig: i32) {
        sig::send(pid, sig);
    }

    fn publish(&mut self, role: Role, snap: &Snapshot, pid_changed: bool) -> bool {
        match status::publish(Path::new(sup(role)), snap, pid_changed) {
            Ok(()) => {
                self.wrote();
                true
            }
            Err(e) => {
                self.warn_write(&e);
                // The pid file counts as written unless its own step failed.
                !matches!(&e, WriteError::Open(p, _) | WriteError::Write(p, _) | WriteError::Rename(p, _)
                    if p.file_name().is_some_and(|n| n == "pid.new"))
            }
        }
    }

    fn timeout_kill(&mut self, role: Role) -> Option<Duration> {
        let path = match role {
            Role::Main => svdir::TIMEOUT_KILL.to_string(),
            Role::Log => format!("log/{}", svdir::TIMEOUT_KILL),
        };
        match svdir::read_number(Path::new(&path)) {
            Ok(ms) => ms.map(Duration::from_millis),
            Err(e) => {
                self.warn_io(&format!("unable to read {path}"), &e);
                None
            }
        }
    }
}

/// A process a killed predecessor left running, which must be gone before this role starts.
struct Orphan {
    id: Identity,
    pidfd: OwnedFd,
    /// When to send TERM (the logger is first given time to drain and exit by itself).
    term_at: Option<Instant>,
    /// When to send KILL.
    kill_at: Option<Instant>,
}

/// The FIFOs and lock of one role's supervise directory, held for runsv's life.
#[derive(Default)]
struct Fifos {
    lock: Option<OwnedFd>,
    control: Option<OwnedFd>,
    control_w: Option<OwnedFd>,
    ok: Option<OwnedFd>,
}

/// Everything runsv holds for one of its two services.
struct Side {
    svc: Svc,
    fifos: Fifos,
    /// Read end of the readiness pipe of the running `./run`.
    notify: Option<OwnedFd>,
    /// `supervise/ready` as written for the running process.
    ready: Option<Ready>,
    /// What a killed predecessor left running in this role.
    orphan: Option<Orphan>,
}

impl Side {
    fn new(svc: Svc) -> Side {
        Side {
            svc,
            fifos: Fifos::default(),
            notify: None,
            ready: None,
            orphan: None,
        }
    }
}

/// One runsv.
struct Runsv {
    io: Io,
    /// The main service and its logger, indexed by [`idx`].
    sides: [Side; 2],
    has_log: bool,
    sigfd: SignalFd,
    /// The lock on the service directory itself, if the file system has one ([`guard`]).
    dir_lock: Option<OwnedFd>,
    boot: String,
    /// The log was told to exit (runit closes its pipe ends once).
    log_exiting: bool,
    /// After a failed fork, no start before this.
    fork_retry: Option<Instant>,
    sigterm: bool,
    /// `supervise/` was found removed or replaced: when to make it again.
    repair_at: Option<Instant>,
    /// Making it again fails.
    repair_spell: Spell,
}

/// The `runsv` command: answers `--help`/`--version`, or runs runsv with `argv` (argv\[0\]
/// included); returns the exit code. Its own binary and the multicall binary start here,
/// without std's start-up code (see `sys::start`).
pub fn main(argv: Vec<OsString>) -> i32 {
    if formats::help::request(&argv).is_some() {
        return help(&argv);
    }
    match start(&argv) {
        Ok(mut r) => r.main_loop(),
        Err(code) => code,
    }
}

/// Answers `--help` or `--version`. Built only when asked for, in a frame of its own: every
/// runsv that does not answer keeps no trace of it, not even stack under its loop.
#[inline(never)]
fn help(argv: &[OsString]) -> i32 {
    let synopsis = ["runsv", USAGE].concat();
    let about = formats::help::About {
        name: "runsv",
        synopsis: &[&synopsis],
        text: "Starts ./run in the service directory dir and restarts it whenever it exits;\n\
               starts ./log/run too, with ./run's output piped into it.",
    };
    formats::help::answer(argv, &about).unwrap_or(0)
}

/// Starts runsv with `argv` (argv\[0\] included): the runsv, set up and ready for its loop,
/// or the exit code. Never inlined: its temporaries would otherwise stay in the frame under
/// the loop for runsv's whole life.
#[inline(never)]
fn start(argv: &[OsString]) -> Result<Runsv, i32> {
    sys::start::sanitize_stdio();
    if argv.len() != 2 {
        let prog = argv
            .first()
            .map(|a| a.to_string_lossy())
            .unwrap_or_default();
        say(&["usage: ", &prog, USAGE, "\n"]);
        return Err(EXIT_USAGE);
    }
    let dir = argv[1].to_string_lossy().into_owned();
    sig::set(Signal::SIGPIPE, Disposition::Ignore);
    let fatal = |what: &str, err: Option<i32>| {
        let io = Io {
            dir: dir.clone(),
            logpipe: None,
            write_spell: Spell::new(),
        };
        io.msg(": fatal: ", what, err);
        Err(EXIT_FATAL)
    };
    let sigfd = match SignalFd::new(&[Signal::SIGCHLD, Signal::SIGTERM]) {
        Ok(s) => s,
        Err(e) => return fatal("unable to create selfpipe", e.raw_os_error()),
    };
    if let Err(e) = std::env::set_current_dir(&argv[1]) {
        return fatal("unable to change to directory", e.raw_os_error());
    }
    let mut r = Runsv {
        io: Io {
            dir: dir.clone(),
            logpipe: None,
            write_spell: Spell::new(),
        },
        sides: [
            Side::new(Svc::new(
                Role::Main,
                sys::fs::exists(Path::new(svdir::DOWN)),
                Tai64n::now(),
            )),
            Side::new(Svc::new(Role::Log, false, Tai64n::now())),
        ],
        has_log: false,
        sigfd,
        dir_lock: None,
        boot: sys::proc::boot_id(),
        log_exiting: false,
        fork_retry: None,
        sigterm: false,
        repair_at: None,
        repair_spell: Spell::new(),
    };
    if let Err(e) = r.setup() {
        return fatal(&e.what, e.errno);
    }
    r.adopt_orphans();
    Ok(r)
}

/// Makes the FIFO `path` unless something has that name, and fails if what is there is not
/// a FIFO.
fn fifo(path: &str) -> Result<(), SetupError> {
    let p = Path::new(path);
    let _ = sys::fs::make_fifo(p);
    match sys::fs::is_fifo(p) {
        Err(e) => Err(SetupError {
            what: format!("unable to stat {path}"),
            errno: e.raw_os_error(),
        }),
        Ok(false) => Err(SetupError {
            what: format!("{path} exists but is not a fifo"),
            errno: None,
        }),
        Ok(true) => Ok(()),
    }
}

impl Runsv {
    /// runit's start-up order (§1.1 steps 4-11). Never inlined, nor [`Runsv::adopt_orphans`]
    /// nor [`Runsv::start_due`]: their locals would otherwise stay in the frames under the
    /// wait for runsv's whole life.
    #[inline(never)]
    fn setup(&mut self) -> Result<(), SetupError> {
        match fs::metadata(svdir::LOG) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                // runit says nothing; a link to nowhere is a mistake worth a word.
                if fs::symlink_metadata(svdir::LOG).is_ok_and(|m| m.file_type().is_symlink()) {
                    self.io
                        .warn("./log: dangling symbolic link: no log service.", None);
                }
            }
            Err(e) => self.io.warn_io("unable to stat() ./log: ", &e),
            Ok(m) if !m.is_dir() => self.io.warn("./log: not a directory.", None),
            Ok(_) => self.enable_log_pipe()?,
        }
        self.lock_service_dir()?;
        setup::make_supervise(Path::new("."), "./supervise")?;
        self.lock(Role::Main, false)?;
        if self.has_log {
            setup::make_supervise(Path::new(svdir::LOG), "./log/supervise")?;
            self.lock(Role::Log, true)?;
        }
        self.control_fifo(Role::Main)?;
        if self.has_log {
            self.control_fifo(Role::Log)?;
        }
        self.ok_fifo(Role::Main)?;
        if self.has_log {
            self.ok_fifo(Role::Log)?;
        }
        Ok(())
    }

    fn enable_log_pipe(&mut self) -> Result<(), SetupError> {
        let p = sys::fs::pipe(false).map_err(|e| SetupError {
            what: "unable to create log pipe".into(),
            errno: e.raw_os_error(),
        })?;
        self.io.logpipe = Some(p);
        self.has_log = true;
        self.sides[1].svc = Svc::new(
            Role::Log,
            sys::fs::exists(Path::new("log/down")),
            Tai64n::now(),
        );
        Ok(())
    }

    /// Locks the service directory itself, before anything in `supervise/` is touched. Held
    /// by another runsv, it fails as a held `supervise/lock` does (runit's message and exit),
    /// and the holder is woken to look at its `supervise/`, which was likely removed (else
    /// this runsv would have failed on `supervise/lock` already). Anyone who can read the
    /// directory can lock it, so a lock held by another user (not root) is not honoured, nor
    /// is a failure of a file system without flock on directories: `supervise/lock` alone
    /// guards then, as in runit.
    fn lock_service_dir(&mut self) -> Result<(), SetupError> {
        let dir = Path::new(".");
        match guard::lock_dir(dir) {
            Ok(fd) => {
                self.dir_lock = Some(fd);
                Ok(())
            }
            Err(e) if guard::is_held(&e) => match guard::holder(dir) {
                Some(pid) if guard::trusted(pid) => {
                    sig::send(pid, libc::SIGCHLD);
                    Err(SetupError {
                        what: format!("unable to lock {}/{}", sup(Role::Main), svdir::LOCK),
                        errno: Some(libc::EAGAIN),
                    })
                }
                _ => Ok(()),
            },
            Err(_) => Ok(()),
        }
    }

    fn lock(&mut self, role: Role, blocking: bool) -> Result<(), SetupError> {
        let path = format!("{}/{}", sup(role), svdir::LOCK);
        let fd = sys::lock::open(Path::new(&path), blocking).map_err(|e| {
            let step = if e.raw_os_error() == Some(libc::EAGAIN)
                || e.raw_os_error() == Some(libc::EWOULDBLOCK)
            {
                "lock"
            } else {
                "open"
            };
            SetupError {
                what: format!("unable to {step} {path}"),
                errno: e.raw_os_error(),
            }
        })?;
        self.sides[idx(role)].fifos.lock = Some(fd);
        Ok(())
    }

    fn control_fifo(&mut self, role: Role) -> Result<(), SetupError> {
        let path = format!("{}/{}", sup(role), svdir::CONTROL);
        let p = Path::new(&path);
        let err = |what: String, e: io::Error| SetupError {
            what,
            errno: e.raw_os_error(),
        };
        fifo(&path)?;
        let f = &mut self.sides[idx(role)].fifos;
        f.control = Some(
            sys::fs::open_fifo(p, false).map_err(|e| err(format!("unable to open {path}"), e))?,
        );
        f.control_w = Some(
            sys::fs::open_fifo(p, true).map_err(|e| err(format!("unable to open {path}"), e))?,
        );
        let _ = fs::remove_file(Path::new(sup(role)).join(status::READY));
        let i = idx(role);
        self.sides[i].svc.publish(&mut self.io);
        Ok(())
    }

    fn ok_fifo(&mut self, role: Role) -> Result<(), SetupError> {
        let path = format!("{}/{}", sup(role), svdir::OK);
        // runit opens whatever is there; a regular file would tell every client that runsv
        // runs, even after it has gone.
        fifo(&path)?;
        let fd = sys::fs::open_fifo(Path::new(&path), false).map_err(|e| SetupError {
            what: format!("unable to read {path}"),
            errno: e.raw_os_error(),
        })?;
        self.sides[idx(role)].fifos.ok = Some(fd);
        Ok(())
    }

    /// A `log/` directory that appeared after start-up: set it up as at start-up, with
    /// warnings instead of fatal errors and without waiting on a held lock.
    fn check_log(&mut self) {
        if self.has_log || self.log_exiting {
            return;
        }
        if !fs::metadata(svdir::LOG).is_ok_and(|m| m.is_dir()) {
            return;
        }
        let result = (|| {
            setup::make_supervise(Path::new(svdir::LOG), "./log/supervise")?;
            self.lock(Role::Log, false)?;
            self.enable_log_pipe()?;
            self.control_fifo(Role::Log)?;
            self.ok_fifo(Role::Log)
        })();
        if let Err(e) = result {
            self.io.warn(&e.what, e.errno);
            self.has_log = false;
            self.io.logpipe = None;
            self.sides[1].fifos = Fifos::default();
            return;
        }
        self.adopt_orphan(Role::Log, Instant::now());
    }

    #[inline(never)]
    fn adopt_orphans(&mut self) {
        let now = Instant::now();
        self.adopt_orphan(Role::Main, now);
        if self.has_log {
            self.adopt_orphan(Role::Log, now);
        }
    }

    /// Looks for a process a killed predecessor started (`supervise/start`) that still runs.
    /// The service is stopped as `d` would (TERM, CONT); the logger is left to drain.
    fn adopt_orphan(&mut self, role: Role, now: Instant) {
        let path = Path::new(sup(role)).join(procinfo::START);
        let Some(id) = fs::read_to_string(&path)
            .ok()
            .and_then(|t| Identity::parse(&t))
        else {
            return;
        };
        if !id.alive(&self.boot) {
            return;
        }
        let Ok(pidfd) = sys::proc::pidfd_open(id.pid) else {
            return;
        };
        if !id.alive(&self.boot) {
            return;
        }
        self.io.warn(
            &format!("stopping pid {} left running by a previous runsv", id.pid),
            None,
        );
        let orphan = match role {
            Role::Main => {
                sig::send(id.pid, libc::SIGTERM);
                sig::send(id.pid, libc::SIGCONT);
                let grace = self.io.timeout_kill(Role::Main).unwrap_or(ORPHAN_GRACE);
                Orphan {
                    id,
                    pidfd,
                    term_at: None,
                    kill_at: Some(now + grace),
                }
            }
            Role::Log => Orphan {
                id,
                pidfd,
                term_at: None,
                kill_at: None,
            },
        };
        self.sides[idx(role)].orphan = Some(orphan);
        self.schedule_log_orphan(now);
    }

    /// The orphaned logger gets its TERM only once the orphaned service is gone.
    fn schedule_log_orphan(&mut self, now: Instant) {
        if self.sides[0].orphan.is_none() {
            if let Some(o) = &mut self.sides[1].orphan {
                if o.term_at.is_none() && o.kill_at.is_none() {
                    o.term_at = Some(now + ORPHAN_LOG_GRACE);
                }
            }
        }
    }

    fn orphan_ticks(&mut self, now: Instant) {
        for o in self.sides.iter_mut().filter_map(|s| s.orphan.as_mut()) {
            if o.term_at.is_some_and(|t| now >= t) {
                o.term_at = None;
                if o.id.alive(&self.boot) {
                    sig::send(o.id.pid, libc::SIGTERM);
                    sig::send(o.id.pid, libc::SIGCONT);
                }
                o.kill_at = Some(now + ORPHAN_LOG_GRACE);
            }
            if o.kill_at.is_some_and(|t| now >= t) {
                o.kill_at = None;
                if o.id.alive(&self.boot) {
                    sig::send(o.id.pid, libc::SIGKILL);
                }
            }
        }
    }

    fn roles(&self) -> &'static [Role] {
        if self.has_log {
            &[Role::Log, Role::Main]
        } else {
            &[Role::Main]
        }
    }

    /// Starts whatever is due: the logger first, then the service (§1.2 step 1).
    #[inline(never)]
    fn start_due(&mut self) {
        let now = Instant::now();
        if let Some(t) = self.fork_retry {
            if now < t {
                return;
            }
            self.fork_retry = None;
        }
        for &role in self.roles() {
            let i = idx(role);
            if self.sides[i].orphan.is_some() {
                continue;
            }
            if let Some(what) = self.sides[i].svc.due(now) {
                if role == Role::Main && what == Start::Run {
                    self.check_log();
                    self.sides[0].svc.before_run(&mut self.io);
                }
                if !self.spawn(role, what) {
                    return;
                }
            }
        }
    }

    fn spawn(&mut self, role: Role, what: Start) -> bool {
        let i = idx(role);
        let run = spawn::cstring(svdir::RUN);
        let finish = spawn::cstring(svdir::FINISH);
        let (code, stat);
        let mut argv: Vec<&std::ffi::CStr> = Vec::with_capacity(3);
        let (program, fail) = match what {
            Start::Run => {
                argv.push(&run);
                let what = if role == Role::Log {
                    "log/./run"
                } else {
                    "./run"
                };
                (
                    &run,
                    format!("runsv {}: fatal: unable to start {what}: ", self.io.dir),
                )
            }
            Start::Finish(wstat) => {
                let (c, s) = finish_args(wstat);
                code = CString::new(c).unwrap_or_default();
                stat = CString::new(s).unwrap_or_default();
                argv.extend([finish.as_c_str(), &code, &stat]);
                (
                    &finish,
                    format!("runsv {}: fatal: unable to start ./finish: ", self.io.dir),
                )
            }
        };
        // Readiness: a fresh pipe for each start of ./run whose directory has notification-fd.
        let mut notify_w = None;
        self.sides[i].notify = None;
        if what == Start::Run {
            if let Some(n) = self.notification_fd(role) {
                if let Ok((r, w)) = sys::fs::pipe(true) {
                    self.sides[i].notify = Some(r);
                    notify_w = Some((w, n));
                }
            }
            if self.sides[i].ready.take().is_some() {
                let _ = fs::remove_file(Path::new(sup(role)).join(status::READY));
            }
        }
        let pipe = self.io.logpipe.as_ref();
        let (stdin, stdout) = match (role, pipe) {
            (Role::Log, Some((r, _))) => (Some(r.as_raw_fd()), None),
            (Role::Main, Some((_, w))) => (None, Some(w.as_raw_fd())),
            _ => (None, None),
        };
        let logdir = spawn::cstring("./log");
        let dup = |from: i32, to: i32| Step {
            action: Action::Dup { from, to },
            what: b"",
        };
        let mut steps: Vec<Step<'_>> = Vec::with_capacity(4);
        steps.extend(stdin.map(|fd| dup(fd, 0)));
        steps.extend(stdout.map(|fd| dup(fd, 1)));
        steps.extend(notify_w.as_ref().map(|(w, n)| dup(w.as_raw_fd(), *n)));
        if role == Role::Log {
            steps.push(Step {
                action: Action::Chdir(&logdir),
                what: b"",
            });
        }
        let result = spawn::spawn(&Spawn {
            program: Some(program),
            argv: &argv,
            steps: &steps,
            exec_what: b"",
            fail_prefix: fail.as_bytes(),
            fail_code: EXIT_FATAL,
        });
        drop(notify_w);
        match result {
            Ok(pid) => {
                // Before the status files: whoever sees the new pid can rely on a successor
                // runsv finding this process if this runsv is killed.
                self.record_start(role, pid);
                self.sides[i]
                    .svc
                    .started(what, pid, Instant::now(), Tai64n::now(), &mut self.io);
                true
            }
            Err(e) => {
                self.sides[i].notify = None;
                self.io.warn_io("unable to fork, sleeping", &e);
                self.fork_retry = Some(Instant::now() + Duration::from_secs(5));
                false
            }
        }
    }

    /// Writes `supervise/start` for the process `pid` of `role`.
    fn record_start(&mut self, role: Role, pid: u32) {
        if let Some(id) = Identity::of(pid, &self.boot) {
            if let Err(e) =
                status::write_file(Path::new(sup(role)), procinfo::START, id.text().as_bytes())
            {
                self.io.warn_write(&e);
            }
        }
    }

    /// Whether the lock and FIFOs runsv holds are still the files `supervise/` names.
    fn intact(&self) -> bool {
        self.roles().iter().all(|&role| {
            let f = &self.sides[idx(role)].fifos;
            let dir = Path::new(sup(role));
            [
                (svdir::LOCK, &f.lock),
                (svdir::CONTROL, &f.control),
                (svdir::OK, &f.ok),
            ]
            .iter()
            .all(|(name, fd)| {
                fd.as_ref()
                    .is_none_or(|fd| guard::same_file(&dir.join(name), fd))
            })
        })
    }

    /// Looks at `supervise/` on every wake-up (the files cost a few `stat`s): found removed
    /// or replaced, it is made again [`REPAIR_DELAY`] later.
    fn check_supervise(&mut self, now: Instant) {
        if self.repair_at.is_none() && !self.intact() {
            self.repair_at = Some(now + REPAIR_DELAY);
        }
        if self.repair_at.is_some_and(|t| now >= t) {
            self.repair(now);
        }
    }

    /// Makes `supervise/` (and `log/supervise/`) again as at start-up: the lock, the FIFOs,
    /// the status files, `start` and `ready` for what runs. Not in a directory that was
    /// removed meanwhile.
    fn repair(&mut self, now: Instant) {
        self.repair_at = None;
        if self.intact() || guard::cwd_removed() {
            self.repair_spell.end(now);
            return;
        }
        let mut result = Ok(());
        for &role in self.roles() {
            result = self.repair_role(role);
            if result.is_err() {
                break;
            }
        }
        match result {
            Ok(()) => {
                let lasted = self.repair_spell.end(now);
                let after = lasted
                    .map(|(d, _)| format!(" after {}", spell::span(d)))
                    .unwrap_or_default();
                self.io.warn(
                    &format!("supervise was removed or replaced: made again{after}"),
                    None,
                );
            }
            Err(e) => {
                self.repair_at = Some(now + REPAIR_DELAY);
                let text = format!("unable to make supervise again: {}", e.what);
                match self.repair_spell.hit(now) {
                    Say::First => self.io.warn(&text, e.errno),
                    Say::Summary(n, d) => self.io.warn(
                        &format!("{text} (tried {n} more times in {})", spell::span(d)),
                        e.errno,
                    ),
                    Say::Quiet => {}
                }
            }
        }
    }

    fn repair_role(&mut self, role: Role) -> Result<(), SetupError> {
        let i = idx(role);
        let (base, display) = match role {
            Role::Main => (".", "./supervise"),
            Role::Log => (svdir::LOG, "./log/supervise"),
        };
        setup::make_supervise(Path::new(base), display)?;
        let dir = Path::new(sup(role));
        let holds = |fd: &Option<OwnedFd>, name: &str| {
            fd.as_ref()
                .is_some_and(|fd| guard::same_file(&dir.join(name), fd))
        };
        if !holds(&self.sides[i].fifos.lock, svdir::LOCK) {
            self.lock(role, false)?;
        }
        if !holds(&self.sides[i].fifos.control, svdir::CONTROL) {
            // Publishes the status and removes a stale `ready`, as at start-up.
            self.control_fifo(role)?;
        }
        if !holds(&self.sides[i].fifos.ok, svdir::OK) {
            self.ok_fifo(role)?;
        }
        self.sides[i].svc.pid_changed = true;
        self.sides[i].svc.publish(&mut self.io);
        let pid = self.sides[i].svc.pid;
        if pid != 0 {
            self.record_start(role, pid);
        }
        if let Some(rec) = self.sides[i].ready {
            if let Err(e) = status::write_file(dir, status::READY, &rec.encode()) {
                self.io.warn_write(&e);
            }
        }
        Ok(())
    }

    fn notification_fd(&self, role: Role) -> Option<i32> {
        let path = match role {
            Role::Main => svdir::NOTIFICATION_FD.to_string(),
            Role::Log => format!("log/{}", svdir::NOTIFICATION_FD),
        };
        match svdir::read_number(Path::new(&path)) {
            Ok(None) => None,
            Ok(Some(n)) if (3..=1023).contains(&n) => Some(n as i32),
            Ok(Some(_)) => {
                self.io
                    .warn(&format!("{path}: must be a number from 3 to 1023"), None);
                None
            }
            Err(e) => {
                self.io.warn_io(&format!("unable to read {path}"), &e);
                None
            }
        }
    }

    /// The earliest scheduled event: a start waiting on the throttle, a kill timer, an orphan
    /// deadline, a fork retry. `None` when idle.
    fn deadline(&self) -> Option<Instant> {
        let mut d = poll::earliest(self.fork_retry, self.repair_at);
        for &role in self.roles() {
            let i = idx(role);
            let s = &self.sides[i].svc;
            d = poll::earliest(d, s.kill_at);
            if self.sides[i].orphan.is_none() && self.fork_retry.is_none() {
                d = poll::earliest(d, s.deadline());
            }
            if let Some(o) = &self.sides[i].orphan {
                d = poll::earliest(d, poll::earliest(o.term_at, o.kill_at));
            }
        }
        d
    }

    /// The loop: start what is due, wait, handle what woke it. The wait is where runsv
    /// spends its life, so the stack under it is kept shallow: the turn's work is in
    /// functions never inlined here (their frames are gone while it waits), and the pages
    /// below the wait are given back first.
    fn main_loop(&mut self) -> i32 {
        loop {
            self.start_due();
            // Whatever this turn did, the wait that follows may last for months: the stack
            // pages below it (start-up, a spawn, a status write) are given back, and the
            // code it mapped is unmapped.
            sys::memory::release_code();
            sys::memory::release_stack();
            let ready = self.wait();
            if let Some(code) = self.handle(ready) {
                return code;
            }
        }
    }

    /// Waits for a signal, a control byte, readiness, an orphan's exit or the next deadline:
    /// which of [`Runsv::handle`]'s fds are ready.
    #[inline(never)]
    fn wait(&mut self) -> [bool; 7] {
        let fds: [Option<BorrowedFd<'_>>; 7] = [
            Some(self.sigfd.as_fd()),
            b(&self.sides[0].fifos.control),
            b(&self.sides[1].fifos.control),
            b(&self.sides[0].notify),
            b(&self.sides[1].notify),
            self.sides[0].orphan.as_ref().map(|o| o.pidfd.as_fd()),
            self.sides[1].orphan.as_ref().map(|o| o.pidfd.as_fd()),
        ];
        match poll::wait(fds, self.deadline()) {
            Ok(r) => r,
            Err(e) => {
                self.io.warn_io("unable to poll", &e);
                std::thread::sleep(Duration::from_millis(100));
                [false; 7]
            }
        }
    }

    /// One turn's work after a wait: signals, children, readiness, orphans, commands, the
    /// state machines' deadlines; `Some(exit code)` when runsv is done.
    #[inline(never)]
    fn handle(&mut self, ready: [bool; 7]) -> Option<i32> {
        if ready[0] {
            while let Some(s) = self.sigfd.next() {
                if s == libc::SIGTERM {
                    self.sigterm = true;
                }
            }
        }
        self.reap();
        for role in [Role::Main, Role::Log] {
            if ready[3 + idx(role)] {
                self.read_notify(role);
            }
            if ready[5 + idx(role)] {
                self.sides[idx(role)].orphan = None;
                self.schedule_log_orphan(Instant::now());
            }
        }
        if ready[1] {
            self.read_control(Role::Main);
        }
        if ready[2] {
            self.read_control(Role::Log);
        }
        if self.sigterm {
            self.sigterm = false;
            self.sides[0]
                .svc
                .command(Command::Exit, Instant::now(), &mut self.io);
        }
        let now = Instant::now();
        self.sides[0].svc.tick(now, &mut self.io);
        self.sides[1].svc.tick(now, &mut self.io);
        self.orphan_ticks(now);
        self.check_supervise(now);
        self.exit_check()
    }

    fn reap(&mut self) {
        while let Some(r) = child::reap() {
            for role in [Role::Main, Role::Log] {
                let i = idx(role);
                if self.sides[i].svc.pid == 0 || self.sides[i].svc.pid != r.pid {
                    continue;
                }
                self.sides[i].notify = None;
                if self.sides[i].ready.take().is_some() {
                    let _ = fs::remove_file(Path::new(sup(role)).join(status::READY));
                }
                let finish = role == Role::Main && fs::File::open("finish").is_ok();
                self.sides[i].svc.reaped(
                    r.wstat,
                    finish,
                    Instant::now(),
                    Tai64n::now(),
                    &mut self.io,
                );
            }
        }
    }

    fn read_notify(&mut self, role: Role) {
        let i = idx(role);
        let Some(fd) = &self.sides[i].notify else {
            return;
        };
        let mut buf = [0u8; 64];
        let n = nix::unistd::read(fd, &mut buf);
        match n {
            Ok(0) => self.sides[i].notify = None,
            Ok(n) => {
                if buf[..n].contains(&b'\n') {
                    self.sides[i].notify = None;
                    let rec = Ready {
                        stamp: Tai64n::now(),
                        pid: self.sides[i].svc.pid,
                    };
                    match status::write_file(Path::new(sup(role)), status::READY, &rec.encode()) {
                        Ok(()) => self.sides[i].ready = Some(rec),
                        Err(e) => self.io.warn_write(&e),
                    }
                }
            }
            Err(nix::errno::Errno::EAGAIN) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => self.sides[i].notify = None,
        }
    }

    /// Reads and acts on one byte, as runit does per loop iteration (§1.2 step 4).
    fn read_control(&mut self, role: Role) {
        let i = idx(role);
        let Some(fd) = &self.sides[i].fifos.control else {
            return;
        };
        let mut b = [0u8; 1];
        if let Ok(1) = nix::unistd::read(fd, &mut b) {
            if role == Role::Main && b[0] == control::RECHECK_LOG {
                self.check_log();
                return;
            }
            if let Some(cmd) = Command::from_byte(b[0]) {
                self.sides[i].svc.command(cmd, Instant::now(), &mut self.io);
            }
        }
    }

    /// §1.2 step 6: once the service is down for good, let the logger drain, then exit 0.
    fn exit_check(&mut self) -> Option<i32> {
        let main = &self.sides[0].svc;
        if main.want != status::Want::Exit || main.state != status::State::Down || main.pid != 0 {
            return None;
        }
        if !self.has_log || self.sides[1].svc.pid == 0 {
            return Some(0);
        }
        if !self.log_exiting {
            self.log_exiting = true;
            self.sides[1].svc.want = status::Want::Exit;
            self.sides[1].svc.publish(&mut self.io);
            self.io.logpipe = None;
        }
        None
    }
}

/// `./finish`'s arguments for a wait status: the exit code (or `-1` if the process was killed
/// by a signal) and `wstat & 0xff` (the signal, +128 with a core dump).
pub fn finish_args(wstat: i32) -> (String, String) {
    let code = if libc::WIFSIGNALED(wstat) {
        "-1".to_string()
    } else {
        libc::WEXITSTATUS(wstat).to_string()
    };
    (code, (wstat & 0xff).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_arguments_as_runit() {
        // spec/supervise.md §1.4: exit 3 → "3 0"; SIGTERM → "-1 15"; SIGKILL → "-1 9".
        assert_eq!(finish_args(3 << 8), ("3".into(), "0".into()));
        assert_eq!(finish_args(15), ("-1".into(), "15".into()));
        assert_eq!(finish_args(9), ("-1".into(), "9".into()));
        assert_eq!(finish_args(11 | 0x80), ("-1".into(), "139".into()));
        assert_eq!(finish_args(111 << 8), ("111".into(), "0".into()));
    }
}
