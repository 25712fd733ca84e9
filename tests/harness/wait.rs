//! Bounded waits: the only way a test waits for something.

use std::time::{Duration, Instant};

/// The bound on a wait for what happens at once or after runsv's 1 s throttle: 20 times that,
/// so that only a hang fails, never a slow machine.
pub const WAIT: Duration = Duration::from_secs(20);

/// Waits until `cond` holds, checking every 5 ms; panics with `what` (and whatever `detail`
/// returns) after `timeout`. The only way tests wait.
pub fn wait_until(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    wait_until_or(timeout, what, &mut cond, String::new);
}

/// [`wait_until`] with extra context printed on failure (a listing, captured stderr).
pub fn wait_until_or(
    timeout: Duration,
    what: &str,
    cond: &mut dyn FnMut() -> bool,
    detail: impl FnOnce() -> String,
) {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if cond() {
            return;
        }
        if Instant::now() >= deadline {
            panic!(
                "timed out after {timeout:?} waiting for: {what}\n{}",
                detail()
            );
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Whether `cond` comes true within `timeout` (checked every 10 ms): for figures, where a miss
/// is counted rather than fatal.
pub fn comes_true(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
