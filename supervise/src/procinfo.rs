//! What runsv needs to know about processes that are not its children: whether a recorded pid
//! is still the same process (its start time since boot, and the boot it belongs to), and a
//! pidfd to wait for it without polling.
//!
//! This is how a new runsv avoids starting a duplicate of a service whose old runsv was killed
//! (`spec/supervise.md` §4.2, §9 item 8): runsv records `PID STARTTIME BOOTID` of every process
//! it starts in `supervise/start`; a successor finds the orphan there, checks that the pid still
//! names that very process (a recycled pid has another start time), and stops it first.

use nix::libc;
use std::fs;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

/// The file beside `status` that identifies the running process (not in runit).
pub const START: &str = "start";

/// A process's start time in clock ticks since boot (`/proc/PID/stat` field 22), or `None` if
/// no such process exists (or it is a zombie).
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read(format!("/proc/{pid}/stat")).ok()?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    // Fields after the command: state is field 3; starttime is field 22.
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    fields.nth(22 - 4)?.parse().ok()
}

/// This boot's id (`/proc/sys/kernel/random/boot_id`), empty if unreadable.
pub fn boot_id() -> String {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

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
            start: start_time(pid)?,
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
        self.boot == boot && start_time(self.pid) == Some(self.start)
    }
}

/// A pidfd for `pid` (readable once the process has exited), for waiting on a process that is
/// not our child.
pub fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open returns a new fd or -1; the fd is owned at once.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor we own; make it close-on-exec (pidfds are by default).
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_identity_round_trips() {
        let boot = boot_id();
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

    #[test]
    fn pidfd_of_self() {
        assert!(pidfd_open(std::process::id()).is_ok());
    }
}
