//! How a test knows a process has dealt with what it was given, instead of sleeping a while:
//! it sleeps again in read or poll, its pipe is empty or full (and see [`crate::wait_handled`]).

use crate::{status_field, syscall_of, wait_until};
use nix::sys::signal::Signal;
use std::time::Duration;

/// The numbers, on this architecture, of the system calls a main loop sleeps in: read and
/// the poll family. Taken from libc, so the harness holds no architecture's numbers
/// (aarch64, riscv64 and loongarch64 have no `poll`, `select` or `epoll_wait`: their C
/// libraries use `ppoll`, `pselect6` and `epoll_pwait`).
fn idle_syscalls() -> Vec<nix::libc::c_long> {
    use nix::libc;
    #[allow(unused_mut)]
    let mut v = vec![
        libc::SYS_read,
        libc::SYS_pselect6,
        libc::SYS_ppoll,
        libc::SYS_epoll_pwait,
    ];
    #[cfg(not(any(
        target_arch = "aarch64",
        target_arch = "riscv64",
        target_arch = "loongarch64"
    )))]
    v.extend([libc::SYS_poll, libc::SYS_select, libc::SYS_epoll_wait]);
    v
}

/// Whether `pid` sleeps in a read or a poll-family system call (its main loop is idle).
pub fn idle_in_syscall(pid: i32) -> bool {
    syscall_of(pid).is_some_and(|nr| idle_syscalls().contains(&nr))
}

/// Whether `pid` sleeps in a poll-family system call: for a loop that reads only what poll
/// said was ready (runsv, runsvdir), one that has dealt with everything it was woken for.
pub fn in_poll(pid: i32) -> bool {
    syscall_of(pid).is_some_and(|nr| nr != nix::libc::SYS_read && idle_syscalls().contains(&nr))
}

/// Waits until `pid` sleeps in a read or a poll-family system call, i.e. until its main loop
/// is idle. A signal sent before then may be held until the next input (runit's svlogd blocks
/// its signals outside `poll`), so tests that signal an idle logger wait for this first.
pub fn wait_idle_in_syscall(pid: i32, timeout: Duration) {
    wait_until(timeout, "the process to sleep in read or poll", || {
        idle_in_syscall(pid)
    });
}

/// How many times `pid`'s main thread has gone to sleep of its own accord
/// (`voluntary_ctxt_switches`): read while it is idle, then again, to know it has been through
/// its loop since (see [`wait_slept_again`]). 0 when the process is gone.
pub fn voluntary_switches(pid: i32) -> u64 {
    status_field(pid, "voluntary_ctxt_switches")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Waits until `pid`, idle when `before` = [`voluntary_switches`] was read, has gone to sleep
/// again in read or poll: it has handled what it was given in between (a wake-up, a read
/// and the work after it, then the next wait) and not merely been preempted.
pub fn wait_slept_again(pid: i32, before: u64, timeout: Duration) {
    wait_until(
        timeout,
        "the process to sleep again in read or poll",
        || voluntary_switches(pid) > before && idle_in_syscall(pid),
    );
}

/// Sends `sig` to `pid` once its main loop is idle ([`wait_idle_in_syscall`]: runit's svlogd
/// holds a signal that comes earlier until its next input), and returns
/// [`voluntary_switches`] as it was just before, for [`wait_slept_again`].
pub fn signal_when_idle(pid: i32, sig: Signal, timeout: Duration) -> u64 {
    wait_idle_in_syscall(pid, timeout);
    let before = voluntary_switches(pid);
    crate::signal(pid, sig);
    before
}

/// [`signal_when_idle`], then waits until `pid` has taken the signal: woken for it, done with
/// it, and asleep again in read or poll.
pub fn signal_taken(pid: i32, sig: Signal, timeout: Duration) {
    let before = signal_when_idle(pid, sig, timeout);
    wait_slept_again(pid, before, timeout);
}

/// Bytes waiting in the pipe or FIFO behind `fd` (either end), by FIONREAD.
pub fn pipe_bytes(fd: &impl std::os::fd::AsRawFd) -> usize {
    let mut n: nix::libc::c_int = 0;
    // SAFETY: FIONREAD into a local int.
    let r = unsafe { nix::libc::ioctl(fd.as_raw_fd(), nix::libc::FIONREAD, &mut n) };
    assert!(r >= 0, "FIONREAD failed");
    n as usize
}

/// Whether the pipe behind `fd` is full: less than a page of room left, so every slot of it
/// holds data (a partly read first page holds less than a page) and a writer with a page or
/// more to write waits. How a test sees that a logger holds its input back.
pub fn pipe_full(fd: &impl std::os::fd::AsRawFd) -> bool {
    // SAFETY: F_GETPIPE_SZ on a descriptor the caller holds; sysconf has no memory effects.
    let (size, page) = unsafe {
        (
            nix::libc::fcntl(fd.as_raw_fd(), nix::libc::F_GETPIPE_SZ),
            nix::libc::sysconf(nix::libc::_SC_PAGESIZE),
        )
    };
    assert!(size > 0 && page > 0, "F_GETPIPE_SZ failed");
    pipe_bytes(fd) + page as usize > size as usize
}
