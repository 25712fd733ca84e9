//! The warning a `config` line gets, shared by every kind of line (runit's, ours, `>`).

/// A warning runit prints for a config line: `svlogd: warning: WHAT: ARG`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// runit's words (`unable to scan ip address`).
    pub what: &'static str,
    /// The rest of the line it is about.
    pub arg: Vec<u8>,
}
