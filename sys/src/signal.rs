//! Signals as events: the daemons block the few signals they act on and read them from a
//! signalfd in their poll loop, so a signal is handled at one safe point and never interrupts
//! a half-done transition (runit's self-pipe, without the handler). Every other signal keeps
//! its default action, as in runit; children get an empty mask back (see `spawn`).

use nix::sys::signal::{SigHandler, SigSet, Signal};
use nix::sys::signalfd::SfdFlags;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};

/// A signalfd reading a fixed set of blocked signals.
#[derive(Debug)]
pub struct SignalFd {
    fd: nix::sys::signalfd::SignalFd,
}

impl SignalFd {
    /// Blocks `signals` in the calling thread (the daemons are single-threaded where it
    /// matters: svlogd blocks them before it starts any thread) and opens a non-blocking,
    /// close-on-exec signalfd for them.
    pub fn new(signals: &[Signal]) -> io::Result<SignalFd> {
        let mut set = SigSet::empty();
        for &s in signals {
            set.add(s);
        }
        let err = |e: nix::errno::Errno| io::Error::from_raw_os_error(e as i32);
        set.thread_block().map_err(err)?;
        let fd = nix::sys::signalfd::SignalFd::with_flags(
            &set,
            SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC,
        )
        .map_err(err)?;
        Ok(SignalFd { fd })
    }

    /// The next pending signal number, or `None` when none is pending. Signals of one kind
    /// coalesce: one SIGCHLD can stand for many dead children.
    pub fn next(&self) -> Option<i32> {
        match self.fd.read_signal() {
            Ok(Some(info)) => Some(info.ssi_signo as i32),
            _ => None,
        }
    }
}

impl AsFd for SignalFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// What a signal does to the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Its default action.
    Default,
    /// Nothing.
    Ignore,
}

/// Sets what `sig` does: a daemon ignores SIGPIPE (a write to a dead reader is EPIPE, not
/// death), a filter puts it back to the default (a closed stdout ends it, as in runit).
pub fn set(sig: Signal, what: Disposition) {
    let handler = match what {
        Disposition::Default => SigHandler::SigDfl,
        Disposition::Ignore => SigHandler::SigIgn,
    };
    // SAFETY: SIG_DFL and SIG_IGN run no code of ours, so no handler can be unsound.
    let _ = unsafe { nix::sys::signal::signal(sig, handler) };
}

/// Sends `sig` to `pid`, ignoring errors (the process may have exited already, as runit
/// does). Pid 0 and pids beyond `i32` are never signalled (0 would be runsv's own group).
pub fn send(pid: u32, sig: i32) {
    let (Ok(p), Ok(s)) = (i32::try_from(pid), Signal::try_from(sig)) else {
        return;
    };
    if p != 0 {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), s);
    }
}

/// Sends `sig` to every process but ourselves and process 1 (`kill(-1)`): a container's
/// process 1 ending everything at its exit.
pub fn send_all(sig: Signal) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(-1), sig);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocked_signal_is_read_from_the_fd() {
        // In a thread of its own: the mask is per thread.
        std::thread::spawn(|| {
            let fd = SignalFd::new(&[Signal::SIGUSR2]).unwrap();
            assert_eq!(fd.next(), None);
            nix::sys::pthread::pthread_kill(nix::sys::pthread::pthread_self(), Signal::SIGUSR2)
                .unwrap();
            assert_eq!(fd.next(), Some(nix::libc::SIGUSR2));
        })
        .join()
        .unwrap();
    }
}
