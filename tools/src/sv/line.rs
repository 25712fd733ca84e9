//! The text of `sv status` lines (`spec/supervise.md` §5.4):
//! `run: NAME: (pid N) 5s, normally down, paused, want down, got TERM`.

use formats::status::{State, Status};
use formats::tai64n::Tai64n;

/// Seconds since the stamp, in whole TAI seconds, never below 0 (runit compares the seconds
/// labels only).
pub fn age(now: Tai64n, stamp: Tai64n) -> u64 {
    now.secs.saturating_sub(stamp.secs)
}

/// One service's half of a status line, without the newline. `normally_up` is whether `./down`
/// is absent.
pub fn status_text(name: &str, st: &Status, normally_up: bool, now: Tai64n) -> String {
    let mut s = String::with_capacity(64);
    match st.state {
        State::Down => s.push_str("down: "),
        State::Run => s.push_str("run: "),
        State::Finish => s.push_str("finish: "),
        State::Other(_) => {}
    }
    s.push_str(name);
    s.push_str(": ");
    if st.state != State::Down {
        s.push_str(&format!("(pid {}) ", st.pid));
    }
    s.push_str(&format!("{}s", age(now, st.stamp)));
    s.push_str(&flags(st, normally_up));
    if st.pid != 0 && st.got_term {
        s.push_str(", got TERM");
    }
    s
}

/// The flags runit's `sv` and daemontools' `svstat` both print after the age, in their
/// order: `, normally down`, `, normally up`, `, paused`, `, want up`, `, want down`.
pub fn flags(st: &Status, normally_up: bool) -> String {
    let pid = st.pid != 0;
    let mut s = String::new();
    if pid && !normally_up {
        s.push_str(", normally down");
    }
    if !pid && normally_up {
        s.push_str(", normally up");
    }
    if pid && st.paused {
        s.push_str(", paused");
    }
    if !pid && st.want == b'u' {
        s.push_str(", want up");
    }
    if pid && st.want == b'd' {
        s.push_str(", want down");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(pid: u32, state: State, want: u8, paused: bool, got_term: bool) -> Status {
        Status {
            stamp: Tai64n::from_unix(1000, 500),
            pid,
            paused,
            want,
            got_term,
            state,
        }
    }

    #[test]
    fn lines_measured_in_spec_5_4() {
        let now = Tai64n::from_unix(1002, 0);
        assert_eq!(
            status_text(
                "/srv/x/svc",
                &st(8569, State::Run, b'u', false, false),
                true,
                now
            ),
            "run: /srv/x/svc: (pid 8569) 2s"
        );
        assert_eq!(
            status_text(
                "./norun",
                &st(0, State::Down, b'u', false, false),
                true,
                now
            ),
            "down: ./norun: 2s, normally up, want up"
        );
        assert_eq!(
            status_text("foo", &st(23174, State::Run, b'd', false, true), true, now),
            "run: foo: (pid 23174) 2s, want down, got TERM"
        );
        assert_eq!(
            status_text("./dn", &st(0, State::Down, b'd', false, false), false, now),
            "down: ./dn: 2s"
        );
        assert_eq!(
            status_text(
                "./dn",
                &st(13840, State::Run, b'u', false, false),
                false,
                now
            ),
            "run: ./dn: (pid 13840) 2s, normally down"
        );
        assert_eq!(
            status_text("./svc", &st(9204, State::Run, b'u', true, false), true, now),
            "run: ./svc: (pid 9204) 2s, paused"
        );
        assert_eq!(
            status_text(
                "x",
                &st(1, State::Run, b'u', false, false),
                true,
                Tai64n::from_unix(5, 0)
            ),
            "run: x: (pid 1) 0s"
        );
    }
}
