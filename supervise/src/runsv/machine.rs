//! runsv's state machine for one service, the same code for the main service and its logger
//! (`spec/supervise.md` §1.2-§1.7, §3.1), as transitions over runit's words.
//!
//! The machine decides; its [`Host`] acts (signals, `control/X` scripts, status files), so a
//! table of transitions can be tested with a recording host and no processes. Spawning is not a
//! host call: the daemon asks [`Svc::due`] what to start and reports the new pid with
//! [`Svc::started`], which keeps the throttle a deadline instead of runit's blocking `sleep(1)`.
//!
//! Fixes over runit, each one observable: `k` never changes the state (runit set it to down
//! and ran `./finish` twice, §1.10); `p` on a service that is not running changes nothing; the
//! restart throttle is a deadline during which commands and SIGTERM are handled, so `sv down;
//! sv up` cannot be lost (void-linux/runit#33) and `x` during the throttle exits at once.

use formats::control::Command;
use formats::status::{Snapshot, State, Status, Want};
use formats::tai64n::Tai64n;
use nix::libc;
use std::time::{Duration, Instant};

/// Which of runsv's two services this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The service directory's `./run`.
    Main,
    /// `log/run`, fed by the service's stdout through runsv's pipe.
    Log,
}

/// The minimum time between the start of `./run` and the next start, when `./run` (and
/// `./finish`) ended sooner than this.
pub const THROTTLE: Duration = Duration::from_secs(1);

/// What the daemon should start now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// `./run` (after `control/u` for the main service).
    Run,
    /// `./finish CODE STATUS` with the wait status of the `./run` that ended.
    Finish(i32),
}

/// The side effects the machine asks for.
pub trait Host {
    /// Runs `control/LETTER` for the main service (never called for the log); true when it
    /// exited 0, meaning "handled, do not send the signal".
    fn custom(&mut self, letter: u8, pid: u32) -> bool;
    /// Sends a signal to a pid.
    fn signal(&mut self, pid: u32, sig: i32);
    /// Writes `pid` (when `pid_changed`), `stat` and `status`; false if a write failed.
    fn publish(&mut self, role: Role, snap: &Snapshot, pid_changed: bool) -> bool;
    /// The service's `timeout-kill`, read when a TERM is sent.
    fn timeout_kill(&mut self, role: Role) -> Option<Duration>;
}

/// One supervised service: runit's `struct svdir`, plus the deadlines that replace its sleeps.
#[derive(Clone, Debug)]
pub struct Svc {
    /// Main service or logger.
    pub role: Role,
    /// Down, Run or Finish (never `Other`).
    pub state: State,
    /// Up, Down or Exit.
    pub want: Want,
    /// The running `./run` or `./finish`, 0 for none.
    pub pid: u32,
    /// Set by `p` while running; cleared by `c` and every start.
    pub paused: bool,
    /// TERM sent and the process has not exited yet.
    pub got_term: bool,
    /// The status stamp: start-up, each start of `./run`, each time the service goes down.
    pub stamp: Tai64n,
    /// Wait status of the last `./run`, for `./finish`'s arguments.
    pub wstat: i32,
    /// When `./run` last started, for the throttle.
    pub run_started: Option<Instant>,
    /// The throttle: no start before this.
    pub not_before: Option<Instant>,
    /// `o` asked for one start while down (want is Down, so want alone cannot say it).
    pub once: bool,
    /// `timeout-kill`: when to send KILL if the TERMed process is still there.
    pub kill_at: Option<Instant>,
    /// The pid changed since `supervise/pid` was last written.
    pub pid_changed: bool,
}

impl Svc {
    /// A service at start-up: down, wanting up unless its `down` file exists.
    pub fn new(role: Role, down_file: bool, stamp: Tai64n) -> Svc {
        Svc {
            role,
            state: State::Down,
            want: if down_file { Want::Down } else { Want::Up },
            pid: 0,
            paused: false,
            got_term: false,
            stamp,
            wstat: 0,
            run_started: None,
            not_before: None,
            once: false,
            kill_at: None,
            pid_changed: true,
        }
    }

    /// The status record and intent as published.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            status: Status {
                stamp: self.stamp,
                pid: self.pid,
                paused: self.paused,
                want: self.want.byte(),
                got_term: self.got_term,
                state: self.state,
            },
            want: self.want,
        }
    }

    /// Publishes through the host, clearing `pid_changed` when the pid file was written.
    pub fn publish(&mut self, host: &mut dyn Host) {
        if host.publish(self.role, &self.snapshot(), self.pid_changed) {
            self.pid_changed = false;
        }
    }

    /// What should be started now, if anything, ignoring the throttle.
    pub fn wanted_start(&self) -> Option<Start> {
        if self.pid != 0 {
            return None;
        }
        if self.state == State::Finish {
            return Some(Start::Finish(self.wstat));
        }
        let once = self.once && self.role == Role::Main;
        (self.want == Want::Up || once).then_some(Start::Run)
    }

    /// What should be started at `now` (the throttle respected).
    pub fn due(&self, now: Instant) -> Option<Start> {
        match self.wanted_start()? {
            Start::Run if self.not_before.is_some_and(|t| now < t) => None,
            s => Some(s),
        }
    }

    /// The next time something is scheduled for this service: the throttle's end when a start
    /// waits on it, or the `timeout-kill` deadline.
    pub fn deadline(&self) -> Option<Instant> {
        let throttle = match self.wanted_start() {
            Some(Start::Run) => self.not_before,
            _ => None,
        };
        sys::poll::earliest(throttle, self.kill_at)
    }

    /// Records a start: `./run` gets a new stamp and state Run; `./finish` keeps the stamp
    /// of the run it follows. Clears paused and got-TERM, as runit does.
    pub fn started(
        &mut self,
        what: Start,
        pid: u32,
        now: Instant,
        stamp: Tai64n,
        host: &mut dyn Host,
    ) {
        if what == Start::Run {
            self.stamp = stamp;
            self.state = State::Run;
            self.run_started = Some(now);
            self.once = false;
        }
        self.not_before = None;
        self.pid = pid;
        self.pid_changed = true;
        self.paused = false;
        self.got_term = false;
        self.kill_at = None;
        self.publish(host);
    }

    /// The process exited with `wstat`. `finish_exists` says whether `./finish` can be read
    /// (main service only); if so it runs next, otherwise the service is down and the next
    /// start waits for the throttle when `./run` lasted less than [`THROTTLE`].
    pub fn reaped(
        &mut self,
        wstat: i32,
        finish_exists: bool,
        now: Instant,
        stamp: Tai64n,
        host: &mut dyn Host,
    ) {
        self.pid = 0;
        self.pid_changed = true;
        self.got_term = false;
        self.kill_at = None;
        if self.role == Role::Main && self.state != State::Finish {
            self.wstat = wstat;
            if finish_exists {
                self.state = State::Finish;
                self.publish(host);
                return;
            }
        }
        self.state = State::Down;
        self.stamp = stamp;
        if let Some(t) = self.run_started {
            if now < t + THROTTLE {
                self.not_before = Some(now + THROTTLE);
            }
        }
        self.publish(host);
    }

    /// runit's `stopservice`: TERM (unless `control/t` handles it), then for want down or exit
    /// CONT and `control/d` or `control/x`.
    fn stop(&mut self, now: Instant, host: &mut dyn Host) {
        if self.pid != 0 && !self.custom(b't', host) {
            host.signal(self.pid, libc::SIGTERM);
            self.got_term = true;
            self.kill_at = host.timeout_kill(self.role).map(|d| now + d);
            self.publish(host);
        }
        let letter = match self.want {
            Want::Down => b'd',
            Want::Exit => b'x',
            Want::Up => return,
        };
        if self.pid != 0 {
            host.signal(self.pid, libc::SIGCONT);
        }
        self.custom(letter, host);
    }

    /// runit runs `control/u` before every start of `./run`, and ignores its result.
    pub fn before_run(&mut self, host: &mut dyn Host) {
        self.custom(b'u', host);
    }

    fn custom(&mut self, letter: u8, host: &mut dyn Host) -> bool {
        self.role == Role::Main && host.custom(letter, self.pid)
    }

    /// Sends a pure signal command's signal while running, unless `control/X` handles it.
    /// Returns whether the command took effect (signal sent or handled).
    fn signal_cmd(&mut self, letter: u8, sig: i32, host: &mut dyn Host) -> bool {
        if self.state != State::Run || self.pid == 0 {
            return false;
        }
        if !self.custom(letter, host) {
            host.signal(self.pid, sig);
        }
        true
    }

    /// Acts on one command (§3.1); runsv decodes the byte and ignores the others.
    pub fn command(&mut self, cmd: Command, now: Instant, host: &mut dyn Host) {
        match cmd {
            Command::Up => {
                self.want = Want::Up;
                self.once = false;
                self.publish(host);
            }
            Command::Down => {
                self.want = Want::Down;
                self.once = false;
                self.publish(host);
                if self.state == State::Run {
                    self.stop(now, host);
                }
            }
            Command::Exit => {
                if self.role == Role::Log {
                    return;
                }
                self.want = Want::Exit;
                self.once = false;
                self.publish(host);
                if self.state == State::Run {
                    self.stop(now, host);
                }
            }
            Command::Once => {
                self.want = Want::Down;
                self.publish(host);
                if self.state == State::Down {
                    self.once = true;
                }
            }
            Command::Term => {
                if self.state == State::Run {
                    self.stop(now, host);
                }
            }
            Command::Pause => {
                if self.signal_cmd(b'p', libc::SIGSTOP, host) {
                    self.paused = true;
                    self.publish(host);
                }
            }
            Command::Cont => {
                self.signal_cmd(b'c', libc::SIGCONT, host);
                if self.paused {
                    self.paused = false;
                }
                self.publish(host);
            }
            other => {
                if let Some(sig) = other.signal() {
                    self.signal_cmd(other.byte(), sig as i32, host);
                }
            }
        }
    }

    /// Fires the `timeout-kill` deadline: KILL a process that ignored TERM.
    pub fn tick(&mut self, now: Instant, host: &mut dyn Host) {
        if self.kill_at.is_some_and(|t| now >= t) {
            self.kill_at = None;
            if self.pid != 0 {
                host.signal(self.pid, libc::SIGKILL);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records every effect as a short word, so a transition table reads like a transcript.
    #[derive(Default)]
    struct Rec {
        log: Vec<String>,
        handled: Vec<u8>,
        timeout: Option<Duration>,
    }

    impl Host for Rec {
        fn custom(&mut self, letter: u8, _pid: u32) -> bool {
            self.log.push(format!("control/{}", letter as char));
            self.handled.contains(&letter)
        }
        fn signal(&mut self, pid: u32, sig: i32) {
            let name = match sig {
                libc::SIGTERM => "TERM",
                libc::SIGCONT => "CONT",
                libc::SIGKILL => "KILL",
                libc::SIGSTOP => "STOP",
                libc::SIGHUP => "HUP",
                libc::SIGUSR2 => "USR2",
                _ => "SIG",
            };
            self.log.push(format!("{name} {pid}"));
        }
        fn publish(&mut self, _role: Role, snap: &Snapshot, _pid_changed: bool) -> bool {
            let st = &snap.status;
            self.log.push(format!(
                "publish {}",
                formats::status::stat_text(st.state, st.paused, st.got_term, snap.want).trim_end()
            ));
            true
        }
        fn timeout_kill(&mut self, _role: Role) -> Option<Duration> {
            self.timeout
        }
    }

    fn running(role: Role, want: Want) -> Svc {
        let mut s = Svc::new(role, false, Tai64n::default());
        s.want = want;
        s.state = State::Run;
        s.pid = 100;
        s.run_started = Some(Instant::now());
        s
    }

    fn run_cmd(s: &mut Svc, cmds: &[u8], handled: &[u8]) -> Vec<String> {
        let mut h = Rec {
            handled: handled.to_vec(),
            ..Rec::default()
        };
        // Bytes as runsv reads them: the ones that are no command are ignored.
        for c in cmds.iter().filter_map(|&b| Command::from_byte(b)) {
            s.command(c, Instant::now(), &mut h);
        }
        h.log
    }

    /// (role, want before, running?, bytes, handled scripts, expected effects)
    type Case = (
        Role,
        Want,
        bool,
        &'static [u8],
        &'static [u8],
        &'static [&'static str],
    );

    #[test]
    fn command_table() {
        // (role, want before, state Run?, bytes, handled scripts, expected effects)
        // spec/supervise.md §1.6 and §3.1.
        let main = Role::Main;
        let cases: &[Case] = &[
            (
                main,
                Want::Up,
                true,
                b"d",
                b"",
                &[
                    "publish run, want down",
                    "control/t",
                    "TERM 100",
                    "publish run, got TERM, want down",
                    "CONT 100",
                    "control/d",
                ],
            ),
            (
                main,
                Want::Up,
                true,
                b"x",
                b"",
                &[
                    "publish run, want exit",
                    "control/t",
                    "TERM 100",
                    "publish run, got TERM, want exit",
                    "CONT 100",
                    "control/x",
                ],
            ),
            // control/t handled: no TERM, but CONT all the same.
            (
                main,
                Want::Up,
                true,
                b"d",
                b"t",
                &[
                    "publish run, want down",
                    "control/t",
                    "CONT 100",
                    "control/d",
                ],
            ),
            // Plain t with want up: TERM only.
            (
                main,
                Want::Up,
                true,
                b"t",
                b"",
                &["control/t", "TERM 100", "publish run, got TERM"],
            ),
            (main, Want::Up, true, b"k", b"", &["control/k", "KILL 100"]),
            (main, Want::Up, true, b"k", b"k", &["control/k"]),
            (
                main,
                Want::Up,
                true,
                b"p",
                b"",
                &["control/p", "STOP 100", "publish run, paused"],
            ),
            (
                main,
                Want::Up,
                true,
                b"pc",
                b"",
                &[
                    "control/p",
                    "STOP 100",
                    "publish run, paused",
                    "control/c",
                    "CONT 100",
                    "publish run",
                ],
            ),
            (
                main,
                Want::Up,
                true,
                b"h2",
                b"",
                &["control/h", "HUP 100", "control/2", "USR2 100"],
            ),
            (main, Want::Up, true, b"u", b"", &["publish run"]),
            (main, Want::Up, true, b"o", b"", &["publish run, want down"]),
            (main, Want::Up, true, b"es\nz", b"", &[]),
            // Not running: signals are dropped, p changes nothing.
            (main, Want::Down, false, b"tkph", b"", &[]),
            (main, Want::Down, false, b"d", b"", &["publish down"]),
            // The log: no control scripts, x ignored.
            (Role::Log, Want::Up, true, b"x", b"", &[]),
            (
                Role::Log,
                Want::Up,
                true,
                b"d",
                b"",
                &[
                    "publish run, want down",
                    "TERM 100",
                    "publish run, got TERM, want down",
                    "CONT 100",
                ],
            ),
        ];
        for (role, want, run, bytes, handled, expected) in cases {
            let mut s = running(*role, *want);
            if !run {
                s.state = State::Down;
                s.pid = 0;
            }
            let got = run_cmd(&mut s, bytes, handled);
            assert_eq!(
                got,
                *expected,
                "role {role:?} want {want:?} run {run} bytes {:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn kill_during_finish_does_not_run_finish_twice() {
        // spec/supervise.md §1.10: runit set state down on k, so finish ran again.
        let mut h = Rec::default();
        let now = Instant::now();
        let mut s = running(Role::Main, Want::Up);
        s.reaped(15, true, now, Tai64n::default(), &mut h);
        assert_eq!(s.state, State::Finish);
        assert_eq!(s.due(now), Some(Start::Finish(15)));
        s.started(Start::Finish(15), 200, now, Tai64n::default(), &mut h);
        s.command(Command::Kill, now, &mut h);
        assert_eq!(s.state, State::Finish);
        s.reaped(0, true, now, Tai64n::default(), &mut h);
        assert_eq!(s.state, State::Down);
        assert_eq!(
            s.wstat, 15,
            "finish's own status never becomes finish's argument"
        );
    }

    #[test]
    fn throttle_is_a_deadline_and_commands_still_work() {
        let mut h = Rec::default();
        let t0 = Instant::now();
        let mut s = running(Role::Main, Want::Up);
        s.run_started = Some(t0);
        let t1 = t0 + Duration::from_millis(100);
        s.reaped(1 << 8, false, t1, Tai64n::default(), &mut h);
        assert_eq!(s.state, State::Down);
        assert_eq!(s.due(t1), None);
        assert_eq!(s.deadline(), Some(t1 + THROTTLE));
        assert_eq!(s.due(t1 + THROTTLE), Some(Start::Run));
        // `sv down; sv up` inside the throttle (void-linux/runit#33): the start stays due.
        s.command(Command::Down, t1, &mut h);
        assert_eq!(s.wanted_start(), None);
        s.command(Command::Up, t1, &mut h);
        assert_eq!(s.due(t1 + THROTTLE), Some(Start::Run));
        // A run that lasted long enough restarts at once.
        let mut l = running(Role::Main, Want::Up);
        l.run_started = Some(t0);
        l.reaped(0, false, t0 + THROTTLE, Tai64n::default(), &mut h);
        assert_eq!(l.due(t0 + THROTTLE), Some(Start::Run));
    }

    #[test]
    fn once_starts_once_and_finish_keeps_the_stamp() {
        let mut h = Rec::default();
        let now = Instant::now();
        let mut s = Svc::new(Role::Main, true, Tai64n::default());
        assert_eq!(s.due(now), None, "a down file keeps it down");
        s.command(Command::Once, now, &mut h);
        assert_eq!(s.due(now), Some(Start::Run));
        let stamp = Tai64n::from_unix(1000, 0);
        s.started(Start::Run, 5, now, stamp, &mut h);
        assert_eq!(s.want, Want::Down);
        s.reaped(0, true, now + THROTTLE, Tai64n::from_unix(1001, 0), &mut h);
        assert_eq!(s.stamp, stamp, "finish keeps the run's stamp");
        s.started(Start::Finish(0), 6, now, Tai64n::from_unix(1002, 0), &mut h);
        assert_eq!(s.stamp, stamp);
        s.reaped(0, true, now + THROTTLE, Tai64n::from_unix(1003, 0), &mut h);
        assert_eq!(s.state, State::Down);
        assert_eq!(s.stamp, Tai64n::from_unix(1003, 0));
        assert_eq!(s.due(now + THROTTLE * 3), None, "once means once");
    }

    #[test]
    fn timeout_kill_after_term() {
        let mut h = Rec {
            timeout: Some(Duration::from_millis(300)),
            ..Rec::default()
        };
        let now = Instant::now();
        let mut s = running(Role::Main, Want::Up);
        s.command(Command::Down, now, &mut h);
        assert_eq!(s.kill_at, Some(now + Duration::from_millis(300)));
        h.log.clear();
        s.tick(now + Duration::from_millis(100), &mut h);
        assert!(h.log.is_empty());
        s.tick(now + Duration::from_millis(300), &mut h);
        assert_eq!(h.log, ["KILL 100"]);
        assert_eq!(s.kill_at, None);
    }

    #[test]
    fn log_never_finishes() {
        let mut h = Rec::default();
        let now = Instant::now();
        let mut s = running(Role::Log, Want::Up);
        s.run_started = Some(now);
        s.reaped(0, true, now + THROTTLE, Tai64n::default(), &mut h);
        assert_eq!(s.state, State::Down);
        assert_eq!(s.due(now + THROTTLE), Some(Start::Run));
    }
}
