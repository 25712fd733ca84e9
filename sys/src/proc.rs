//! What `/proc` says about a process that is not a child: whether a recorded pid is still the
//! same process (its start time since boot, and the boot it belongs to), and a pidfd to wait
//! for it without polling.

use std::fs;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

/// A process's start time in clock ticks since boot (`/proc/PID/stat` field 22), or `None` if
/// no such process exists (or it is a zombie). Read into a stack buffer: runsv asks at every
/// start, and allocates nothing it need not.
pub fn start_time(pid: u32) -> Option<u64> {
    use std::io::Write;
    const PATH: usize = 32;
    let mut path = [0u8; PATH];
    let mut w = &mut path[..];
    write!(w, "/proc/{pid}/stat").ok()?;
    let len = PATH - w.len();
    let mut file = fs::File::open(std::ffi::OsStr::from_bytes(&path[..len])).ok()?;
    // The fields up to 22 fit in 512 bytes: the command is at most 64 escaped bytes, and
    // the 19 numbers before field 22 at most 20 digits each.
    let mut buf = [0u8; 512];
    let n = crate::fs::read_full(&mut file, &mut buf);
    let stat = &buf[..n];
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

/// A pidfd for `pid` (readable once the process has exited), for waiting on a process that is
/// not our child. Raw `libc`: nix has no `pidfd_open`.
pub fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes two integers and returns a new fd (close-on-exec) or -1; a
    // fresh descriptor is owned at once, by nobody else.
    unsafe {
        let fd = nix::libc::syscall(nix::libc::SYS_pidfd_open, pid as nix::libc::pid_t, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(OwnedFd::from_raw_fd(fd as i32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_process() {
        let me = std::process::id();
        assert!(start_time(me).is_some());
        assert!(!boot_id().is_empty());
        assert!(pidfd_open(me).is_ok());
        assert_eq!(start_time(u32::MAX), None);
        // Field 22 as /proc says it, read the plain way.
        let stat = std::fs::read_to_string(format!("/proc/{me}/stat")).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 1..];
        let field22: u64 = after.split_whitespace().nth(19).unwrap().parse().unwrap();
        assert_eq!(start_time(me), Some(field22));
    }
}
