//! runit's `sv`: control and report services supervised by runsv (`spec/supervise.md` §5).
//!
//! Behaviour, output lines and exit codes are runit 2.1.2's, with these deliberate changes
//! (each documented in `sv.8`):
//! - waiting (`-v`, `-w`, `start`, `stop`, ...) blocks on inotify events from the supervise
//!   directory and returns as soon as the state is reached, instead of polling every 420 ms;
//!   stamps are compared with their full precision, so a restart in the same second as `sv`
//!   started is still told apart from the previous run;
//! - a service whose directory has a `notification-fd` file is "up" only once the supervisor
//!   recorded its readiness (`supervise/ready`);
//! - `up` is always sent, and a repeated `down` is skipped only when nothing is queued in the
//!   control FIFO (the stale-want shortcut of void-linux/runit#33);
//! - `DIR/sv-timeout` gives a service its own default wait;
//! - `check` waits for the want-down state when the service wants down (runit 2.3.0), the
//!   LSB `status` exit code is the service's, not its log's (runit 2.3.0), a `./check` killed by
//!   a signal is not ready, and the wait loop finds `NAME/` the same way as the first pass.

pub mod action;
pub mod line;

use crate::enter::{enter_sv, svdir_from_env, Origin};
use crate::out::Out;
use crate::watch::{supervise_event_matters, Watch, SUPERVISE_MASK};
use action::{Act, Action};
use formats::control::{self, ClientError};
use formats::getopt::{progname, Getopt, Opt};
use formats::scan::scan_ulong;
use formats::status::{Ready, State, Status, STATUS};
use formats::strerr::{errno_of, errstr};
use formats::svdir::{open_supervised, NOTIFICATION_FD};
use formats::tai64n::Tai64n;
use nix::errno::Errno;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Usage text after the program name.
pub const USAGE: &str = " [-v] [-w sec] command service ...";
/// Usage text in the init-script mode.
pub const USAGE_LSB: &str = " [-w sec] command";
/// Exit code for usage errors.
pub const EXIT_USAGE: i32 = 100;
/// Exit code for usage errors in the init-script mode.
pub const EXIT_USAGE_LSB: i32 = 2;
/// Exit code for fatal errors.
pub const EXIT_FATAL: i32 = 100;
/// Exit code for fatal errors in the init-script mode.
pub const EXIT_FATAL_LSB: i32 = 151;
/// The wait when neither `-w`, `sv-timeout` nor `SVWAIT` says otherwise.
pub const DEFAULT_WAIT: u64 = 7;
/// The file in a service directory holding that service's default wait, in seconds.
pub const TIMEOUT_FILE: &str = "sv-timeout";
/// How often a `./check` script is re-run while waiting, at most (runit's fixed poll period).
pub const CHECK_PERIOD: Duration = Duration::from_millis(420);

/// What reading a service's status found.
enum Get {
    /// The record.
    Status(Status),
    /// The supervisor is not running (already reported).
    NotRunning,
    /// Something failed (already reported).
    Failed,
}

/// One service named on the command line.
struct Service {
    /// The name as typed (runit prints it back unchanged).
    name: OsString,
    /// Still being worked on.
    live: bool,
    /// When waiting for it gives up.
    deadline: Instant,
    /// Whether its deadline was set from the command line or the environment already.
    timeout_known: bool,
    /// Whether inotify watches its supervise directory.
    watched: bool,
}

/// The state of one `sv` run.
struct Sv {
    lsb: bool,
    out: Out,
    rc: u32,
    svdir: OsString,
    action: Action,
    tstart: Tai64n,
    tnow: Tai64n,
    origin: Option<Origin>,
    /// The service being worked on, as printed.
    current: String,
    /// Whether messages name `NAME/log`.
    islog: bool,
    /// Whether a `./check` script ran during the last pass (so the wait must poll it).
    ran_check: bool,
}

/// Outcome of [`Sv::status`] in the init-script mode: exit at once with this code.
struct Exit(i32);

/// Runs `sv` with `argv` (including argv\[0\]) and returns the exit code.
pub fn main(argv: Vec<OsString>) -> i32 {
    let prog = progname(
        argv.first()
            .map(|s| s.as_os_str())
            .unwrap_or(OsStr::new("sv")),
    );
    let lsb = prog != "sv";
    let usage = |prog: &str| -> i32 {
        if lsb {
            formats::strerr::say(&["usage: ", prog, USAGE_LSB, "\n"]);
            EXIT_USAGE_LSB
        } else {
            formats::strerr::say(&["usage: ", prog, USAGE, "\n"]);
            EXIT_USAGE
        }
    };
    let mut wait_opt: Option<u64> = None;
    let env_wait = std::env::var_os("SVWAIT").map(|v| scan_ulong(v.as_bytes()).0);
    let mut verbose = false;
    let mut g = Getopt::new(&argv, "w:vV");
    for opt in g.by_ref() {
        match opt {
            Opt::Flag(b'w', Some(a)) => {
                wait_opt = Some(scan_ulong(a.as_bytes()).0);
                verbose = true;
            }
            Opt::Flag(b'v', _) => verbose = true,
            Opt::Flag(b'V', _) => {
                formats::strerr::say(&["$Id: sv ", env!("CARGO_PKG_VERSION"), " (runit-rs) $"]);
                return usage(&prog);
            }
            other => {
                if let Some(m) = other.error_message(&prog) {
                    formats::strerr::say(&[&m]);
                }
                return usage(&prog);
            }
        }
    }
    let rest = g.operands();
    let Some(word) = rest.first() else {
        return usage(&prog);
    };
    let services: Vec<OsString> = if lsb {
        vec![OsString::from(&prog)]
    } else {
        rest[1..].to_vec()
    };
    if services.is_empty() {
        return usage(&prog);
    }
    let Some(action) = Action::parse(word.as_bytes(), verbose, lsb) else {
        return usage(&prog);
    };
    let now = Tai64n::now();
    let mut sv = Sv {
        lsb,
        out: Out::new(),
        rc: 0,
        svdir: svdir_from_env(),
        action,
        tstart: now,
        tnow: now,
        origin: None,
        current: String::new(),
        islog: false,
        ran_check: false,
    };
    match Origin::open() {
        Ok(o) => sv.origin = Some(o),
        Err(e) => return sv.fatal("unable to open current directory", e as i32),
    }
    let started = Instant::now();
    let default_wait = wait_opt.or(env_wait).unwrap_or(DEFAULT_WAIT);
    let mut list: Vec<Service> = services
        .into_iter()
        .map(|name| Service {
            name,
            live: true,
            deadline: started + Duration::from_secs(default_wait),
            timeout_known: wait_opt.is_some(),
            watched: false,
        })
        .collect();
    match sv.run(&mut list, started) {
        Ok(()) => sv.rc.min(99) as i32,
        Err(Exit(code)) => code,
    }
}

impl Sv {
    fn fatal(&mut self, what: &str, errno: i32) -> i32 {
        self.out.flush();
        formats::strerr::say(&["fatal: ", what, ": ", errstr(errno)]);
        if let Some(o) = &self.origin {
            let _ = o.back();
        }
        if self.lsb {
            EXIT_FATAL_LSB
        } else {
            EXIT_FATAL
        }
    }

    fn back(&mut self) -> Result<(), Exit> {
        let r = self.origin.as_ref().map(|o| o.back()).unwrap_or(Ok(()));
        match r {
            Ok(()) => Ok(()),
            Err(e) => Err(Exit(
                self.fatal("unable to change to original directory", e as i32),
            )),
        }
    }

    /// `PREFIX NAME[/log]: MSG[: ERR]` on stdout, flushed (runit's `out()`).
    fn line(&mut self, prefix: &str, msg: &str, errno: Option<i32>) {
        self.out.put(prefix);
        let name = self.current.clone();
        self.out.put(&name);
        if self.islog {
            self.out.put("/log");
        }
        self.out.put(": ");
        self.out.put(msg);
        if let Some(e) = errno {
            self.out.put(": ");
            self.out.put(errstr(e));
        }
        self.out.put("\n");
        self.out.flush();
    }

    fn fail(&mut self, msg: &str, errno: Option<i32>) {
        self.rc += 1;
        self.line("fail: ", msg, errno);
    }

    fn warn(&mut self, msg: &str, errno: Option<i32>) {
        self.rc += 1;
        self.line("warning: ", msg, errno);
    }

    fn ok(&mut self, msg: &str) {
        self.line("ok: ", msg, None);
    }

    /// A warning on stderr that names `NAME/file` (runit's `outs2` messages).
    fn warn2(&self, what: &str, file: &str, errno: i32) {
        formats::strerr::say(&[
            "warning: ",
            what,
            &self.current,
            "/",
            file,
            ": ",
            errstr(errno),
        ]);
    }

    fn exit_kind(&self) -> bool {
        self.action.acts.as_bytes().first() == Some(&b'x')
    }

    /// Reads `supervise/status` of the current directory after checking that the supervisor
    /// runs (runit's `svstatus_get`).
    fn get(&mut self) -> Get {
        match control::probe(Path::new(".")) {
            Ok(()) => {}
            Err(ClientError::NotRunning) => {
                if self.exit_kind() {
                    self.ok("runsv not running");
                } else {
                    self.fail("runsv not running", None);
                }
                return Get::NotRunning;
            }
            Err(e) => {
                self.warn(&format!("unable to open supervise/ok: {}", e.text()), None);
                return Get::Failed;
            }
        }
        let status = open_supervised(Path::new("."), STATUS, nix::libc::O_RDONLY);
        let mut f = match status {
            Ok(f) => f,
            Err(e) => {
                self.warn(
                    &format!("unable to open supervise/status: {}", e.text()),
                    None,
                );
                return Get::Failed;
            }
        };
        let (head, len) = match formats::status::read_head(&mut f) {
            Ok(h) => h,
            Err(e) => {
                self.warn("unable to read supervise/status", Some(errno_of(&e)));
                return Get::Failed;
            }
        };
        match formats::status::decode_runit(&head, len) {
            Ok(st) => Get::Status(st),
            Err(_) => {
                self.warn("unable to read supervise/status: bad format", None);
                Get::Failed
            }
        }
    }

    /// Appends the status text of the current directory to the output (runit's
    /// `svstatus_print`): 1 if a process runs, 2 if not, 0 if `./down` could not be checked.
    fn print(&mut self, shown: &str, st: &Status) -> u8 {
        let normally_up = match std::fs::metadata("down") {
            Ok(_) => false,
            Err(e) if e.raw_os_error() == Some(nix::libc::ENOENT) => true,
            Err(e) => {
                self.warn2("unable to stat ", "down", errno_of(&e));
                return 0;
            }
        };
        let text = line::status_text(shown, st, normally_up, self.tnow);
        self.out.put(&text);
        if st.pid != 0 {
            1
        } else {
            2
        }
    }

    /// `sv status`: the service's line and its log's.
    fn status(&mut self) -> Result<(), Exit> {
        let st = match self.get() {
            Get::Status(st) => st,
            Get::Failed if self.lsb => {
                self.out.flush();
                self.back()?;
                return Err(Exit(4));
            }
            _ => return Ok(()),
        };
        let shown = self.current.clone();
        let main_rc = self.print(&shown, &st);
        self.islog = true;
        match nix::unistd::chdir("log") {
            Err(Errno::ENOENT) => self.out.put("\n"),
            Err(e) => {
                self.out.put("; ");
                self.warn("unable to change directory", Some(e as i32));
            }
            Ok(()) => {
                self.out.put("; ");
                if let Get::Status(lst) = self.get() {
                    self.print("log", &lst);
                    self.out.put("\n");
                }
            }
        }
        self.islog = false;
        self.out.flush();
        if self.lsb {
            self.back()?;
            return Err(Exit(match main_rc {
                1 => 0,
                2 => 3,
                _ => 4,
            }));
        }
        Ok(())
    }

    /// Writes `acts` to the control FIFO (runit's `control()`): -1 to drop the service,
    /// 0 when nothing needed sending, 1 when sent.
    fn control(&mut self, acts: &str) -> i32 {
        let st = match self.get() {
            Get::Status(st) => st,
            _ => return -1,
        };
        let first = acts.as_bytes()[0];
        // runit skips a command whose letter equals the recorded want. The record can be stale
        // while runsv has not yet read earlier commands (void-linux/runit#33), so `u` is always
        // sent (runsv treats a repeated `u` as a no-op) and a repeated `d` with TERM already
        // sent is skipped only when nothing is queued in the FIFO.
        let skip_candidate = first == b'd' && st.want == b'd' && st.got_term;
        let mut f = match control::open_control(Path::new(".")) {
            Ok(f) => f,
            Err(_) if skip_candidate => return 0,
            Err(ClientError::NotRunning) => {
                if first == b'x' {
                    self.ok("runsv not running");
                } else {
                    self.fail("runsv not running", None);
                }
                return -1;
            }
            Err(e) => {
                self.warn(
                    &format!("unable to open supervise/control: {}", e.text()),
                    None,
                );
                return -1;
            }
        };
        if skip_candidate && fifo_pending(&f) == Some(0) {
            return 0;
        }
        if let Err(e) = f.write_all(acts.as_bytes()) {
            self.warn("unable to write to supervise/control", Some(errno_of(&e)));
            return -1;
        }
        1
    }

    /// Runs `./check` if there is one: whether the service counts as ready.
    fn checkscript(&mut self) -> bool {
        match std::fs::metadata("check") {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(nix::libc::ENOENT) => return true,
            Err(e) => {
                self.warn2("unable to stat ", "check", errno_of(&e));
                return false;
            }
        }
        self.ran_check = true;
        let mut cmd = std::process::Command::new("./check");
        // SAFETY: close(2) is async-signal-safe; runit runs ./check with stdout closed.
        unsafe {
            cmd.pre_exec(|| {
                nix::libc::close(1);
                Ok(())
            });
        }
        self.out.flush();
        match cmd.status() {
            Ok(st) => st.code() == Some(0),
            Err(e) => {
                self.warn2("unable to run ", "check", errno_of(&e));
                true
            }
        }
    }

    /// Whether the run `st` describes has reported readiness, for services that promise to.
    fn ready(&self, st: &Status) -> bool {
        if std::fs::symlink_metadata(NOTIFICATION_FD).is_err() {
            return true;
        }
        Ready::read_for(Path::new("supervise"), st).is_some()
    }

    /// Whether every condition of `acts` holds (runit's `check()`): -1 to drop the service,
    /// 0 not yet, 1 done (and the `ok:` line printed).
    fn check(&mut self, acts: &str) -> i32 {
        let st = match self.get() {
            Get::Status(st) => st,
            Get::NotRunning => {
                return if acts.as_bytes().first() == Some(&b'x') {
                    1
                } else {
                    -1
                };
            }
            Get::Failed => return -1,
        };
        let pid = st.pid != 0;
        for &a in acts.as_bytes() {
            let c = if a == b'C' {
                if st.want == b'd' {
                    b'd'
                } else {
                    b'u'
                }
            } else {
                a
            };
            let done = match c {
                b'x' => false,
                b'u' => pid && st.state == State::Run && self.ready(&st) && self.checkscript(),
                b'd' => !pid && st.state == State::Down,
                b't' | b'k' => {
                    (!pid && st.want == b'd')
                        || (st.stamp >= self.tstart
                            && pid
                            && !st.got_term
                            && self.ready(&st)
                            && self.checkscript())
                }
                // Down "since sv started" in whole seconds, as runit's sv compares: a service
                // that went down earlier in the same second counts, and sv says so at once.
                b'o' => {
                    let earlier = self.tstart.unix_secs() > st.stamp.unix_secs();
                    !((!pid && earlier) || (pid && st.want != b'd'))
                }
                b'p' => !pid || st.paused,
                b'c' => !(pid && st.paused),
                _ => true,
            };
            if !done {
                return 0;
            }
        }
        self.out.put("ok: ");
        let shown = self.current.clone();
        self.print(&shown, &st);
        self.out.put("\n");
        self.out.flush();
        1
    }

    /// Reads `sv-timeout` of the current service directory into its deadline.
    fn service_timeout(&self, svc: &mut Service, started: Instant) {
        if svc.timeout_known {
            return;
        }
        svc.timeout_known = true;
        if let Ok(Some(secs)) = formats::svdir::read_number(Path::new(TIMEOUT_FILE)) {
            svc.deadline = started + Duration::from_secs(secs);
        }
    }

    fn run(&mut self, list: &mut [Service], started: Instant) -> Result<(), Exit> {
        let acts = self.action.acts.clone();
        for svc in list.iter_mut() {
            self.current = svc.name.to_string_lossy().into_owned();
            if let Err(e) = enter_sv(&svc.name, &self.svdir) {
                self.fail("unable to change to service directory", Some(e as i32));
                svc.live = false;
            } else {
                let r = match self.action.act {
                    Act::Status => {
                        self.status()?;
                        0
                    }
                    Act::Control => self.control(&acts),
                    Act::Nothing => 0,
                };
                if r == -1 {
                    svc.live = false;
                }
                if svc.live && self.action.wait {
                    self.service_timeout(svc, started);
                }
            }
            self.back()?;
        }
        if !self.action.wait {
            return Ok(());
        }
        let watch = Watch::new().ok();
        loop {
            let mut done = true;
            let mut poll_checks = false;
            for svc in list.iter_mut().filter(|s| s.live) {
                self.current = svc.name.to_string_lossy().into_owned();
                if let Err(e) = enter_sv(&svc.name, &self.svdir) {
                    self.fail("unable to change to service directory", Some(e as i32));
                    svc.live = false;
                    self.back()?;
                    continue;
                }
                self.ran_check = false;
                if self.check(&acts) != 0 {
                    svc.live = false;
                } else {
                    done = false;
                    if !svc.watched {
                        svc.watched = watch
                            .as_ref()
                            .is_some_and(|w| w.add(Path::new("supervise"), SUPERVISE_MASK).is_ok());
                    }
                    poll_checks |= self.ran_check || !svc.watched;
                }
                if svc.live && Instant::now() > svc.deadline {
                    self.timed_out();
                    svc.live = false;
                }
                self.back()?;
            }
            if done || list.iter().all(|s| !s.live) {
                break;
            }
            let next_deadline = list
                .iter()
                .filter(|s| s.live)
                .map(|s| s.deadline)
                .min()
                .unwrap_or_else(Instant::now);
            // Wake just after the deadline (runit's test is "elapsed > wait").
            let mut until = next_deadline + Duration::from_millis(1);
            if poll_checks {
                until = until.min(Instant::now() + CHECK_PERIOD);
            }
            wait_for_change(watch.as_ref(), until);
            self.tnow = Tai64n::now();
        }
        Ok(())
    }

    /// The `timeout:` or `kill:` line, and `k` for the force commands.
    fn timed_out(&mut self) {
        self.out.put(if self.action.kill {
            "kill: "
        } else {
            "timeout: "
        });
        if let Get::Status(st) = self.get() {
            let shown = self.current.clone();
            self.print(&shown, &st);
            self.rc += 1;
        }
        self.out.put("\n");
        self.out.flush();
        if self.action.kill {
            self.control("k");
        }
    }
}

/// Blocks until a supervise directory changes or `until` passes.
fn wait_for_change(watch: Option<&Watch>, until: Instant) {
    loop {
        let now = Instant::now();
        if now >= until {
            return;
        }
        let left = until - now;
        match watch {
            Some(w) => match w.wait(Some(left)) {
                Ok(evs) if evs.is_empty() => return,
                Ok(evs) => {
                    if evs.iter().any(supervise_event_matters) {
                        return;
                    }
                }
                Err(_) => {
                    std::thread::sleep(left.min(CHECK_PERIOD));
                    return;
                }
            },
            None => {
                std::thread::sleep(left.min(CHECK_PERIOD));
                return;
            }
        }
    }
}

/// Bytes queued in a FIFO and not yet read (FIONREAD), if the kernel says.
pub fn fifo_pending(f: &File) -> Option<usize> {
    let mut n: nix::libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through the pointer, which is valid for the call.
    let r = unsafe { nix::libc::ioctl(f.as_raw_fd(), nix::libc::FIONREAD, &mut n) };
    (r == 0 && n >= 0).then_some(n as usize)
}
