//! What an `sv` command word means: the bytes written to `supervise/control`, whether sv then
//! waits, and whether a timeout ends in `kill:` (`spec/supervise.md` §5.3).

/// The first step sv takes for each service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// Print the status line (and the log's).
    Status,
    /// Write the command string to the control FIFO.
    Control,
    /// Nothing before the wait (`check`).
    Nothing,
}

/// A parsed command word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    /// The first step.
    pub act: Act,
    /// The control bytes, which are also the conditions waited for (`C` = check).
    pub acts: String,
    /// Whether sv waits for the conditions.
    pub wait: bool,
    /// Whether a timeout sends `k` (`force-*` and the capital letters).
    pub kill: bool,
}

impl Action {
    fn new(act: Act, acts: &str, wait: bool, kill: bool) -> Action {
        Action {
            act,
            acts: acts.to_string(),
            wait,
            kill,
        }
    }

    /// Parses a command word by runit's first-letter dispatch. `verbose` is `-v` (or `-w`);
    /// `lsb` is the init-script mode, where only the exact word `status` is a status request.
    /// `None` means usage.
    pub fn parse(word: &[u8], verbose: bool, lsb: bool) -> Option<Action> {
        let first = *word.first()?;
        let is = |w: &str| word == w.as_bytes();
        let ctl = |acts: &str, wait: bool, kill: bool| Action::new(Act::Control, acts, wait, kill);
        Some(match first {
            b'x' | b'e' => ctl("x", verbose, false),
            b'X' | b'E' => ctl("x", true, true),
            b'D' => ctl("d", true, true),
            b'T' => ctl("tc", true, true),
            b't' if is("try-restart") => ctl("tc", true, false),
            b't' | b'c' if is("check") => Action::new(Act::Nothing, "C", true, false),
            b't' | b'c' | b'u' | b'd' | b'o' | b'p' | b'h' | b'a' | b'i' | b'k' | b'q' | b'1'
            | b'2' => ctl(std::str::from_utf8(&[first]).unwrap_or("s"), verbose, false),
            b's' => {
                if is("shutdown") {
                    ctl("x", true, false)
                } else if is("start") {
                    ctl("u", true, false)
                } else if is("stop") {
                    ctl("d", true, false)
                } else if lsb && !is("status") {
                    return None;
                } else {
                    Action::new(Act::Status, "s", false, false)
                }
            }
            b'r' => {
                if is("restart") {
                    ctl("tcu", true, false)
                } else if is("reload") {
                    ctl("h", true, false)
                } else {
                    return None;
                }
            }
            b'f' => {
                if is("force-reload") {
                    ctl("tc", true, true)
                } else if is("force-restart") {
                    ctl("tcu", true, true)
                } else if is("force-shutdown") {
                    ctl("x", true, true)
                } else if is("force-stop") {
                    ctl("d", true, true)
                } else {
                    return None;
                }
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(w: &str, v: bool) -> Option<(Act, String, bool, bool)> {
        Action::parse(w.as_bytes(), v, false).map(|a| (a.act, a.acts, a.wait, a.kill))
    }

    #[test]
    fn table_of_spec_5_3() {
        use Act::*;
        assert_eq!(p("status", false), Some((Status, "s".into(), false, false)));
        assert_eq!(p("status", true), Some((Status, "s".into(), false, false)));
        assert_eq!(p("sfoo", false), Some((Status, "s".into(), false, false)));
        assert_eq!(p("up", false), Some((Control, "u".into(), false, false)));
        assert_eq!(p("u", true), Some((Control, "u".into(), true, false)));
        assert_eq!(p("down", false), Some((Control, "d".into(), false, false)));
        assert_eq!(p("once", false), Some((Control, "o".into(), false, false)));
        assert_eq!(p("pause", false), Some((Control, "p".into(), false, false)));
        assert_eq!(p("cont", false), Some((Control, "c".into(), false, false)));
        assert_eq!(p("check", false), Some((Nothing, "C".into(), true, false)));
        assert_eq!(p("term", false), Some((Control, "t".into(), false, false)));
        assert_eq!(
            p("try-restart", false),
            Some((Control, "tc".into(), true, false))
        );
        assert_eq!(
            p("tcheck", false),
            Some((Control, "t".into(), false, false))
        );
        assert_eq!(p("kill", false), Some((Control, "k".into(), false, false)));
        assert_eq!(p("1", false), Some((Control, "1".into(), false, false)));
        assert_eq!(p("exit", false), Some((Control, "x".into(), false, false)));
        assert_eq!(p("e", true), Some((Control, "x".into(), true, false)));
        assert_eq!(p("start", false), Some((Control, "u".into(), true, false)));
        assert_eq!(p("stop", false), Some((Control, "d".into(), true, false)));
        assert_eq!(
            p("shutdown", false),
            Some((Control, "x".into(), true, false))
        );
        assert_eq!(p("reload", false), Some((Control, "h".into(), true, false)));
        assert_eq!(
            p("restart", false),
            Some((Control, "tcu".into(), true, false))
        );
        assert_eq!(
            p("force-stop", false),
            Some((Control, "d".into(), true, true))
        );
        assert_eq!(
            p("force-reload", false),
            Some((Control, "tc".into(), true, true))
        );
        assert_eq!(
            p("force-restart", false),
            Some((Control, "tcu".into(), true, true))
        );
        assert_eq!(
            p("force-shutdown", false),
            Some((Control, "x".into(), true, true))
        );
        assert_eq!(p("X", false), Some((Control, "x".into(), true, true)));
        assert_eq!(p("D", false), Some((Control, "d".into(), true, true)));
        assert_eq!(p("T", false), Some((Control, "tc".into(), true, true)));
        assert_eq!(p("rfoo", false), None);
        assert_eq!(p("force", false), None);
        assert_eq!(p("z", false), None);
        assert_eq!(p("", false), None);
        assert_eq!(Action::parse(b"stat", false, true), None);
        assert!(Action::parse(b"status", false, true).is_some());
    }
}
