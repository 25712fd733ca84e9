//! The warning a `config` line gets, shared by every kind of line (runit's, ours, `>`).

/// A warning for a config line: `svlogd: warning: WHAT: ARG`, runit's words for runit's lines;
/// for our `>` lines `svlogd: warning: WHAT: DIR/config:LINE: ARG`, which says where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// runit's words (`unable to scan ip address`), or ours.
    pub what: &'static str,
    /// The rest of the line it is about, or (located) what is wrong with it.
    pub arg: Vec<u8>,
    /// Whether the message names the directory and the line number.
    pub located: bool,
    /// The line's number in `config` (set by the parser).
    pub line: usize,
}

impl Warning {
    /// A warning in runit's form.
    pub fn new(what: &'static str, arg: &[u8]) -> Warning {
        Warning {
            what,
            arg: arg.to_vec(),
            located: false,
            line: 0,
        }
    }

    /// A warning that names where the line is.
    pub fn located(what: &'static str, arg: &[u8]) -> Warning {
        Warning {
            located: true,
            ..Warning::new(what, arg)
        }
    }

    /// The message's argument for the directory named `dir`.
    pub fn arg_in(&self, dir: &[u8]) -> Vec<u8> {
        if !self.located {
            return self.arg.clone();
        }
        [
            dir,
            format!("/config:{}: ", self.line).as_bytes(),
            &self.arg,
        ]
        .concat()
    }
}
