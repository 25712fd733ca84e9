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

    #[test]
    fn reap_returns_a_dead_child_then_none() {
        use nix::libc;
        // reap() takes any child, and the test harness's other threads may have children of
        // their own: the check runs in a child process of its own, whose only child exits 7.
        // After fork only async-signal-safe calls: the verdict is the exit code.
        // SAFETY: fork; the child calls only fork, _exit, waitpid (reap, wait_for) and
        // nanosleep, and ends with _exit.
        unsafe {
            let checker = libc::fork();
            assert!(checker >= 0, "fork");
            if checker == 0 {
                let child = libc::fork();
                if child == 0 {
                    libc::_exit(7);
                }
                let mut verdict = 1;
                for _ in 0..10_000 {
                    if let Some(r) = reap() {
                        let right = r.pid == child as u32
                            && libc::WIFEXITED(r.wstat)
                            && libc::WEXITSTATUS(r.wstat) == 7;
                        // Nothing left to reap: None, at once.
                        verdict = if !right {
                            2
                        } else if reap().is_some() {
                            3
                        } else {
                            0
                        };
                        break;
                    }
                    let pause = libc::timespec {
                        tv_sec: 0,
                        tv_nsec: 1_000_000,
                    };
                    libc::nanosleep(&pause, std::ptr::null_mut());
                }
                libc::_exit(verdict);
            }
            let wstat = wait_for(checker as u32).expect("waitpid");
            assert!(libc::WIFEXITED(wstat), "checker: wait status {wstat}");
            assert_eq!(
                libc::WEXITSTATUS(wstat),
                0,
                "1: the dead child never reaped; 2: wrong pid or status; 3: reaped twice"
            );
        }
    }
}
