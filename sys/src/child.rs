//! Reaping: dead children and their raw wait status (runit passes it on: `./finish`'s
//! arguments, the status record), without blocking.

use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::io;

/// One dead child: its pid and raw wait status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reaped {
    /// The child's pid.
    pub pid: u32,
    /// The raw `wait` status.
    pub wstat: i32,
}

/// The raw wait status of an end `waitpid` reported (exit code in the second byte, or the
/// signal and the core-dump bit in the first, as `wait(2)` gives them).
fn raw(ws: WaitStatus) -> Option<(Pid, i32)> {
    match ws {
        WaitStatus::Exited(pid, code) => Some((pid, (code & 0xff) << 8)),
        WaitStatus::Signaled(pid, sig, core) => {
            Some((pid, sig as i32 | if core { 0x80 } else { 0 }))
        }
        _ => None,
    }
}

/// Reaps one dead child without blocking (`waitpid(-1, WNOHANG)`), retrying EINTR; `None`
/// when no child has ended (or there is none).
pub fn reap() -> Option<Reaped> {
    loop {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
            Ok(ws) => {
                let (pid, wstat) = raw(ws)?;
                return Some(Reaped {
                    pid: pid.as_raw() as u32,
                    wstat,
                });
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return None,
        }
    }
}

/// Whether this process has any child left (ended ones not yet reaped included).
pub fn any_left() -> bool {
    !matches!(
        waitpid(
            None::<Pid>,
            Some(WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT)
        ),
        Err(nix::errno::Errno::ECHILD)
    )
}

/// Waits (blocking) for one specific child, retrying EINTR; returns its raw wait status.
pub fn wait_for(pid: u32) -> io::Result<i32> {
    let p = Pid::from_raw(pid as i32);
    loop {
        match waitpid(p, None) {
            Ok(ws) => {
                if let Some((_, wstat)) = raw(ws) {
                    return Ok(wstat);
                }
            }
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(io::Error::from_raw_os_error(e as i32)),
        }
    }
}

/// Makes this process the reaper of its orphaned descendants (`PR_SET_CHILD_SUBREAPER`): a
/// container's supervisor that is not process 1 still adopts the daemons that double-fork.
pub fn become_subreaper() -> io::Result<()> {
    nix::sys::prctl::set_child_subreaper(true).map_err(|e| io::Error::from_raw_os_error(e as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::zombie_processes)] // reaped by wait_for, through the pid
    fn wait_statuses_are_the_raw_ones() {
        let exit = std::process::Command::new("/bin/sh")
            .args(["-c", "exit 3"])
            .spawn()
            .unwrap();
        assert_eq!(wait_for(exit.id()).unwrap(), 3 << 8);
        let killed = std::process::Command::new("/bin/sh")
            .args(["-c", "kill -TERM $$"])
            .spawn()
            .unwrap();
        assert_eq!(wait_for(killed.id()).unwrap(), nix::libc::SIGTERM);
    }
}
