//! The poll step of the daemons' event loops: wait for any of a few fds to become readable, or
//! for the earliest deadline, with no timeout at all when nothing is scheduled (an idle
//! supervisor never wakes up on its own).

use nix::libc;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Instant;

/// The poll timeout in milliseconds for an optional deadline: -1 (forever) for none, rounded
/// up so a deadline 0.3 ms away does not become a busy-spinning 0, capped at `i32::MAX`.
pub fn timeout_ms(deadline: Option<Instant>, now: Instant) -> i32 {
    match deadline {
        None => -1,
        Some(d) if d <= now => 0,
        Some(d) => {
            let left = d - now;
            let ms = left.as_millis() + u128::from(left.subsec_nanos() % 1_000_000 != 0);
            ms.min(i32::MAX as u128) as i32
        }
    }
}

/// The earlier of two optional deadlines.
pub fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Waits until one of `fds` is readable (or hung up) or `deadline` passes. Returns, for each
/// fd in order, whether it is ready. EINTR counts as "nothing ready".
pub fn wait<const N: usize>(
    fds: [Option<BorrowedFd<'_>>; N],
    deadline: Option<Instant>,
) -> io::Result<[bool; N]> {
    let mut pfd = [libc::pollfd {
        fd: -1,
        events: 0,
        revents: 0,
    }; N];
    for (p, fd) in pfd.iter_mut().zip(fds.iter()) {
        if let Some(fd) = fd {
            p.fd = fd.as_raw_fd();
            p.events = libc::POLLIN;
        }
    }
    let timeout = timeout_ms(deadline, Instant::now());
    // SAFETY: pfd is a valid array of N pollfd structures; negative fds are ignored by poll.
    let r = unsafe { libc::poll(pfd.as_mut_ptr(), N as libc::nfds_t, timeout) };
    let mut ready = [false; N];
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EINTR) {
            return Ok(ready);
        }
        return Err(e);
    }
    for (out, p) in ready.iter_mut().zip(pfd.iter()) {
        *out = p.fd >= 0 && p.revents != 0;
    }
    Ok(ready)
}

/// Like [`wait`] for a variable number of fds (runsvdir's per-service pidfds and the like).
pub fn wait_many(
    fds: &[BorrowedFd<'_>],
    deadline: Option<Instant>,
    ready: &mut Vec<bool>,
) -> io::Result<()> {
    let mut pfd: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let timeout = timeout_ms(deadline, Instant::now());
    // SAFETY: pfd is a valid vector of pollfd structures.
    let r = unsafe { libc::poll(pfd.as_mut_ptr(), pfd.len() as libc::nfds_t, timeout) };
    ready.clear();
    if r < 0 {
        let e = io::Error::last_os_error();
        ready.resize(fds.len(), false);
        if e.raw_os_error() == Some(libc::EINTR) {
            return Ok(());
        }
        return Err(e);
    }
    ready.extend(pfd.iter().map(|p| p.revents != 0));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timeouts_round_up_and_idle_is_forever() {
        let now = Instant::now();
        assert_eq!(timeout_ms(None, now), -1);
        assert_eq!(timeout_ms(Some(now), now), 0);
        assert_eq!(timeout_ms(Some(now + Duration::from_micros(300)), now), 1);
        assert_eq!(
            timeout_ms(Some(now + Duration::from_millis(1500)), now),
            1500
        );
        assert_eq!(
            timeout_ms(Some(now + Duration::from_secs(100 * 86400)), now),
            i32::MAX
        );
    }

    #[test]
    fn earliest_of_two() {
        let now = Instant::now();
        let later = now + Duration::from_secs(1);
        assert_eq!(earliest(Some(later), Some(now)), Some(now));
        assert_eq!(earliest(None, Some(now)), Some(now));
        assert_eq!(earliest(None, None), None);
    }

    #[test]
    fn pipe_readiness_and_deadline() {
        let (r, w) = nix::unistd::pipe().unwrap();
        use std::os::fd::AsFd;
        let start = Instant::now();
        let got = wait([Some(r.as_fd())], Some(start + Duration::from_millis(20))).unwrap();
        assert_eq!(got, [false]);
        nix::unistd::write(&w, b"x").unwrap();
        let got = wait([Some(r.as_fd()), None], None).unwrap();
        assert_eq!(got, [true, false]);
    }
}
