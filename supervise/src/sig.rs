//! Signals as events: the daemons block the few signals they act on and read them from a
//! signalfd in their poll loop, so a signal is handled at one safe point and never interrupts
//! a half-done transition (runit's self-pipe, without the handler).
//!
//! Every other signal keeps its default action, as in runit: SIGHUP, SIGINT, SIGUSR1... still
//! kill runsv. Children must not inherit the blocked mask; `spawn` empties it in the child.

use nix::libc;
use std::io;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// A signalfd reading a fixed set of blocked signals.
pub struct SignalFd {
    fd: OwnedFd,
}

fn sigset(signals: &[i32]) -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set; sigaddset only writes into it.
    unsafe {
        let mut set: libc::sigset_t = mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in signals {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

impl SignalFd {
    /// Blocks `signals` in this (single-threaded) process and opens a non-blocking,
    /// close-on-exec signalfd for them.
    pub fn new(signals: &[i32]) -> io::Result<SignalFd> {
        let set = sigset(signals);
        // SAFETY: plain syscalls on a valid sigset; the fd is owned at once.
        unsafe {
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            let fd = libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(SignalFd {
                fd: OwnedFd::from_raw_fd(fd),
            })
        }
    }

    /// The next pending signal number, or `None` when none is pending. Signals of one kind
    /// coalesce: one SIGCHLD can stand for many dead children.
    pub fn next(&self) -> Option<i32> {
        // SAFETY: signalfd_siginfo is plain data; read writes at most its size.
        unsafe {
            let mut info: libc::signalfd_siginfo = mem::zeroed();
            let n = libc::read(
                self.fd.as_raw_fd(),
                &mut info as *mut _ as *mut libc::c_void,
                mem::size_of::<libc::signalfd_siginfo>(),
            );
            (n == mem::size_of::<libc::signalfd_siginfo>() as isize)
                .then_some(info.ssi_signo as i32)
        }
    }
}

impl AsFd for SignalFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Ignores SIGPIPE in this process (a daemon gets EPIPE from a write to a dead reader rather
/// than dying); children get the default back in `spawn`.
pub fn ignore_sigpipe() {
    // SAFETY: setting a disposition to SIG_IGN is always sound.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// Sends `sig` to `pid`, ignoring errors (the process may have exited already, as runit does).
pub fn send(pid: u32, sig: i32) {
    if pid != 0 && pid <= i32::MAX as u32 {
        // SAFETY: kill has no memory effects.
        unsafe {
            libc::kill(pid as i32, sig);
        }
    }
}

/// One dead child: its pid and raw wait status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reaped {
    /// The child's pid.
    pub pid: u32,
    /// The raw `wait` status.
    pub wstat: i32,
}

/// Reaps one dead child without blocking (`waitpid(-1, WNOHANG)`), retrying EINTR.
pub fn reap() -> Option<Reaped> {
    loop {
        let mut wstat = 0;
        // SAFETY: waitpid writes the status into a local.
        let pid = unsafe { libc::waitpid(-1, &mut wstat, libc::WNOHANG) };
        if pid > 0 {
            return Some(Reaped {
                pid: pid as u32,
                wstat,
            });
        }
        if pid < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return None;
    }
}

/// Waits (blocking) for one specific child, retrying EINTR; returns its wait status.
pub fn wait_for(pid: u32) -> io::Result<i32> {
    loop {
        let mut wstat = 0;
        // SAFETY: waitpid writes the status into a local.
        let r = unsafe { libc::waitpid(pid as i32, &mut wstat, 0) };
        if r == pid as i32 {
            return Ok(wstat);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reap_returns_a_dead_child_then_none() {
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
