//! What runsv needs to know about processes that are not its children: whether a recorded pid
//! is still the same process (its start time since boot, and the boot it belongs to), and a
//! pidfd to wait for it without polling.
//!
//! This is how a new runsv avoids starting a duplicate of a service whose old runsv was killed
//! (`spec/supervise.md` §4.2, §9 item 8): runsv records `PID STARTTIME BOOTID` of every process
//! it starts in `supervise/start`; a successor finds the orphan there, checks that the pid still
//! names that very process (a recycled pid has another start time), and stops it first.
//! (`/proc` itself is read by `sys::proc`.)

/// The file beside `status` that identifies the running process (not in runit).
pub const START: &str = "start";

/// The identity of one started process, as recorded in `supervise/start`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Its pid.
    pub pid: u32,
    /// Its start time in ticks since boot.
    pub start: u64,
    /// The boot it was started in.
    pub boot: String,
}

impl Identity {
    /// The identity of the live process `pid`, if it exists.
    pub fn of(pid: u32, boot: &str) -> Option<Identity> {
        Some(Identity {
            pid,
            start: sys::proc::start_time(pid)?,
            boot: boot.to_string(),
        })
    }

    /// The text of `supervise/start`.
    pub fn text(&self) -> String {
        format!("{} {} {}\n", self.pid, self.start, self.boot)
    }

    /// Parses the text of `supervise/start`.
    pub fn parse(text: &str) -> Option<Identity> {
        let mut f = text.split_ascii_whitespace();
        let id = Identity {
            pid: f.next()?.parse().ok()?,
            start: f.next()?.parse().ok()?,
            boot: f.next().unwrap_or("").to_string(),
        };
        (id.pid > 1).then_some(id)
    }

    /// Whether this recorded process is still running (same pid, start time and boot).
    pub fn alive(&self, boot: &str) -> bool {
        self.boot == boot && sys::proc::start_time(self.pid) == Some(self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_identity_round_trips() {
        let boot = sys::proc::boot_id();
        let me = Identity::of(std::process::id(), &boot).unwrap();
        assert!(me.alive(&boot));
        assert_eq!(Identity::parse(&me.text()), Some(me.clone()));
        let mut other = me.clone();
        other.start += 1;
        assert!(!other.alive(&boot));
        assert!(!me.alive("another-boot"));
        assert_eq!(Identity::parse("garbage"), None);
        assert_eq!(Identity::parse("1 2 x"), None);
    }
}
