//! The poll step of every event loop: wait for any of a few fds to become readable, or for the
//! earliest deadline, with no timeout at all when nothing is scheduled (an idle supervisor
//! never wakes up on its own).

use nix::poll::{PollFd, PollFlags, PollTimeout};
use std::io;
use std::os::fd::BorrowedFd;
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
/// fd in order, whether it is ready; an absent fd is never ready. EINTR counts as "nothing
/// ready".
///
/// Allocates nothing (runsv waits here for its whole idle life): an absent fd's slot polls a
/// present one for no events, and its answer is ignored.
pub fn wait<const N: usize>(
    fds: [Option<BorrowedFd<'_>>; N],
    deadline: Option<Instant>,
) -> io::Result<[bool; N]> {
    let mut ready = [false; N];
    let Some(&stand_in) = fds.iter().flatten().next() else {
        poll_until(&mut [], deadline)?;
        return Ok(ready);
    };
    let mut pfd = fds.map(|fd| match fd {
        Some(fd) => PollFd::new(fd, PollFlags::POLLIN),
        None => PollFd::new(stand_in, PollFlags::empty()),
    });
    if poll_until(&mut pfd, deadline)? {
        for ((r, p), fd) in ready.iter_mut().zip(&pfd).zip(&fds) {
            *r = fd.is_some() && answered(p);
        }
    }
    Ok(ready)
}

/// [`wait`] for a variable number of fds (runsvdir's per-service pidfds and the like):
/// `ready` gets one flag per fd.
pub fn wait_many(
    fds: &[BorrowedFd<'_>],
    deadline: Option<Instant>,
    ready: &mut Vec<bool>,
) -> io::Result<()> {
    let mut pfd: Vec<PollFd<'_>> = fds
        .iter()
        .map(|&fd| PollFd::new(fd, PollFlags::POLLIN))
        .collect();
    ready.clear();
    if poll_until(&mut pfd, deadline)? {
        ready.extend(pfd.iter().map(answered));
    } else {
        ready.resize(fds.len(), false);
    }
    Ok(())
}

/// One `poll` until `deadline`: whether it returned events (false when a signal interrupted
/// it).
fn poll_until(pfd: &mut [PollFd<'_>], deadline: Option<Instant>) -> io::Result<bool> {
    let timeout =
        PollTimeout::try_from(timeout_ms(deadline, Instant::now())).unwrap_or(PollTimeout::NONE);
    match nix::poll::poll(pfd, timeout) {
        Ok(_) => Ok(true),
        Err(nix::errno::Errno::EINTR) => Ok(false),
        Err(e) => Err(io::Error::from_raw_os_error(e as i32)),
    }
}

/// Whether poll reported anything for this fd (readable, hung up, error).
fn answered(p: &PollFd<'_>) -> bool {
    p.revents().is_some_and(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
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
        let later = now + Duration::from_secs(1);
        assert_eq!(earliest(Some(later), Some(now)), Some(now));
        assert_eq!(earliest(None, Some(now)), Some(now));
        assert_eq!(earliest(None, None), None);
    }

    #[test]
    fn pipe_readiness_and_deadline() {
        let (r, w) = nix::unistd::pipe().unwrap();
        let got = wait(
            [Some(r.as_fd())],
            Some(Instant::now() + Duration::from_millis(20)),
        )
        .unwrap();
        assert_eq!(got, [false]);
        nix::unistd::write(&w, b"x").unwrap();
        let got = wait([Some(r.as_fd()), None], None).unwrap();
        assert_eq!(got, [true, false]);
        let got = wait([None, Some(r.as_fd()), None], None).unwrap();
        assert_eq!(got, [false, true, false], "a stand-in slot is never ready");
        let none: [Option<BorrowedFd<'_>>; 2] = [None, None];
        let got = wait(none, Some(Instant::now() + Duration::from_millis(5))).unwrap();
        assert_eq!(got, [false, false], "with no fd it waits for the deadline");
    }
}
