//! Property checks shared by the cargo-fuzz targets (`fuzz/`) and the corpus-replay test that
//! the test command runs, so both exercise exactly the same code: runsv's machine and its
//! `supervise/start` file here, the formats' in `formats::fuzzing`. Each function panics when a property fails; it must never
//! panic otherwise, whatever the input.

use formats::control::Command;
use formats::tai64n::Tai64n;

/// A host for the runsv machine that acts on nothing: scripts "handle" a command when the
/// fuzzer's input says so, and every signal must go to the running process.
struct NullHost {
    handled: u8,
    pid: u32,
}

impl crate::runsv::machine::Host for NullHost {
    fn custom(&mut self, letter: u8, _pid: u32) -> bool {
        letter & 7 == self.handled & 7
    }
    fn signal(&mut self, pid: u32, _sig: i32) {
        assert!(
            pid != 0,
            "a signal to pid 0 would hit runsv's own process group"
        );
        assert_eq!(pid, self.pid, "signals go to the running process only");
    }
    fn publish(
        &mut self,
        _role: crate::runsv::machine::Role,
        snap: &formats::status::Snapshot,
        _c: bool,
    ) -> bool {
        let st = snap.status;
        assert_eq!(formats::status::Status::decode(&st.encode()), Some(st));
        true
    }
    fn timeout_kill(&mut self, _role: crate::runsv::machine::Role) -> Option<std::time::Duration> {
        Some(std::time::Duration::from_millis(u64::from(self.handled)))
    }
}

/// runsv's transition table: any sequence of command bytes, exits, starts and clock steps,
/// for the service and for the logger, never panics and keeps runit's invariants: a signal
/// only ever goes to the running pid, got-TERM implies a process, the logger never finishes
/// and never wants exit through a command, and a start is only ever due with no process.
pub fn runsv_machine(data: &[u8]) {
    use crate::runsv::machine::{Role, Start, Svc};
    use formats::status::{State, Want};
    use std::time::{Duration, Instant};
    let t0 = Instant::now();
    for role in [Role::Main, Role::Log] {
        let mut now = t0;
        let mut next_pid = 100u32;
        let mut host = NullHost { handled: 0, pid: 0 };
        let mut svc = Svc::new(
            role,
            data.first().is_some_and(|b| b & 1 == 1),
            Tai64n::default(),
        );
        for pair in data.chunks(2) {
            let (op, arg) = (pair[0], pair.get(1).copied().unwrap_or(0));
            host.handled = arg;
            host.pid = svc.pid;
            match op % 4 {
                0 => {
                    if let Some(cmd) = Command::from_byte(arg) {
                        svc.command(cmd, now, &mut host)
                    }
                }
                1 => {
                    if svc.pid != 0 {
                        svc.reaped(
                            i32::from(arg),
                            arg & 1 == 1,
                            now,
                            Tai64n::default(),
                            &mut host,
                        );
                    }
                }
                2 => {
                    if let Some(what) = svc.due(now) {
                        assert_eq!(svc.pid, 0);
                        next_pid += 1;
                        svc.started(what, next_pid, now, Tai64n::default(), &mut host);
                        assert_eq!(svc.pid, next_pid);
                        if what == Start::Run {
                            assert_eq!(svc.state, State::Run);
                        }
                    }
                }
                _ => {
                    now += Duration::from_millis(u64::from(arg) * 8);
                    svc.tick(now, &mut host);
                }
            }
            assert!(!matches!(svc.state, State::Other(_)));
            assert!(!svc.got_term || svc.pid != 0);
            assert!(svc.state != State::Down || svc.pid == 0);
            if role == Role::Log {
                assert!(svc.state != State::Finish && svc.want != Want::Exit);
            }
            if let Some(d) = svc.deadline() {
                assert!(d >= t0);
            }
        }
    }
}

/// `supervise/start` (`PID STARTTIME BOOTID`, see `procinfo`): a text gives an identity
/// exactly when its first two whitespace-separated fields are decimal numbers (the integer
/// syntax of Rust's parser, so a leading `+` is allowed) that fit, the pid in 32 bits and
/// above 1, the start time in 64 bits; the third field, if any, is the boot, and more fields
/// are ignored. Whatever parses renders back to a text that parses to the same identity.
/// (runsv reads the file as UTF-8 text; other bytes are no identity.)
pub fn runsv_start(data: &[u8]) {
    use crate::procinfo::Identity;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut fields = data
        .split(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c'))
        .filter(|f| !f.is_empty());
    let want = (|| {
        let pid = decimal(fields.next()?).filter(|&p| p > 1 && p <= u128::from(u32::MAX))?;
        let start = decimal(fields.next()?).filter(|&s| s <= u128::from(u64::MAX))?;
        let boot = fields.next().unwrap_or(b"");
        Some(Identity {
            pid: pid as u32,
            start: start as u64,
            boot: String::from_utf8(boot.to_vec()).expect("a field of UTF-8 text"),
        })
    })();
    let got = Identity::parse(text);
    assert_eq!(got, want);
    if let Some(id) = got {
        let again = id.text();
        assert!(again.ends_with('\n') && again.lines().count() == 1);
        assert_eq!(Identity::parse(&again), Some(id));
    }
}

/// `[+]digits`, as a number if it has at most 20 significant digits.
fn decimal(f: &[u8]) -> Option<u128> {
    let d = f.strip_prefix(b"+").unwrap_or(f);
    if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sig = &d[d.iter().position(|&c| c != b'0').unwrap_or(d.len())..];
    if sig.len() > 20 {
        return None;
    }
    Some(sig.iter().fold(0u128, |v, c| v * 10 + u128::from(c - b'0')))
}

#[cfg(test)]
mod tests {
    #[test]
    fn properties_hold_on_simple_inputs() {
        super::runsv_machine(b"0u2x0d1\x0f2a3\xff2b0k0p1\x012\x000x");
        super::runsv_start(b"1234 5678 3f1e2d\n");
        super::runsv_start(b"+2\t0\n");
        super::runsv_start(b"1 2 x");
        super::runsv_start(b"4294967296 1 b");
    }
}
