//! Property checks shared by the cargo-fuzz targets (`fuzz/`) and the corpus-replay test that
//! the test command runs, so both exercise exactly the same code: runsv's machine here, the
//! formats' in `formats::fuzzing`. Each function panics when a property fails; it must never
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

#[cfg(test)]
mod tests {
    #[test]
    fn properties_hold_on_simple_inputs() {
        super::runsv_machine(b"0u2x0d1\x0f2a3\xff2b0k0p1\x012\x000x");
    }
}
