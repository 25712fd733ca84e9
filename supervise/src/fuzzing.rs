//! Property checks shared by the cargo-fuzz targets (`fuzz/`) and the corpus-replay test that
//! the test command runs, so both exercise exactly the same code. Each function panics when a
//! property fails; it must never panic otherwise, whatever the input.

use crate::control::Command;
use crate::status::{Status, DAEMONTOOLS_LEN, RUNIT_LEN};
use crate::tai64n::Tai64n;

/// Status records: decoding never panics, accepts exactly the 18- and 20-byte sizes, and a
/// decoded record encodes back to the same bytes (up to the 0/1 normalisation of the flags).
pub fn status_decode(data: &[u8]) {
    match Status::decode(data) {
        None => assert!(data.len() != RUNIT_LEN && data.len() != DAEMONTOOLS_LEN),
        Some(st) => {
            let enc = st.encode();
            assert_eq!(&enc[..16], &data[..16]);
            assert_eq!(enc[16], (data[16] != 0) as u8);
            assert_eq!(enc[17], data[17]);
            if data.len() == RUNIT_LEN {
                assert_eq!(enc[18], (data[18] != 0) as u8);
                assert_eq!(enc[19], data[19]);
            }
            assert_eq!(Status::decode(&enc), Some(st));
        }
    }
}

/// Control bytes: every byte either decodes to a command that encodes back to it, or is
/// ignored; only the pure signal commands carry a signal.
pub fn control_bytes(data: &[u8]) {
    for &b in data {
        if let Some(c) = Command::from_byte(b) {
            assert_eq!(c.byte(), b);
            let is_signal = !matches!(
                c,
                Command::Up | Command::Down | Command::Once | Command::Exit
            );
            assert_eq!(c.signal().is_some(), is_signal);
        }
    }
}

/// TAI64N text: parsing never panics, and whatever parses renders back to the same digits
/// (lowercased); packing round-trips.
pub fn tai64n_parse(data: &[u8]) {
    let text = data.strip_prefix(b"@").unwrap_or(data);
    if let Some(t) = Tai64n::parse_hex(text) {
        assert_eq!(t.to_hex().as_bytes(), text.to_ascii_lowercase().as_slice());
        assert_eq!(Tai64n::unpack(&t.pack()), t);
    }
    if data.len() >= 12 {
        let mut b = [0u8; 12];
        b.copy_from_slice(&data[..12]);
        assert_eq!(Tai64n::unpack(&b).pack(), b);
    }
}

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
        snap: &crate::status::Snapshot,
        _c: bool,
    ) -> bool {
        let st = snap.status;
        assert_eq!(crate::status::Status::decode(&st.encode()), Some(st));
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
    use crate::status::{State, Want};
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
                0 => svc.command(arg, now, &mut host),
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
        super::status_decode(&[0u8; 20]);
        super::status_decode(&[0xffu8; 18]);
        super::status_decode(b"short");
        super::control_bytes(b"udoxtkpchaiq12es\n");
        super::runsv_machine(b"0u2x0d1\x0f2a3\xff2b0k0p1\x012\x000x");
        super::tai64n_parse(b"@400000006b0337972f6e0954");
        super::tai64n_parse(b"400000006B0337972F6E0954");
    }
}
