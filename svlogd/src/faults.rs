//! Fault injection, for tests only: `SVLOGD_FAULT=POINT` makes svlogd kill itself with
//! SIGKILL when it reaches the named step, so a test can show that a crash at that step loses
//! nothing. The variable is read once, at the first check; with it unset, a check is one
//! load and compare.
//!
//! Points: compression (`compress`) `gzip-started` (work file created, some of it written),
//! `gzip-written` (all of it written, not yet fsynced), `gzip-synced` (fsynced, not yet
//! renamed), `gzip-renamed` (`.s.gz` in place, `.s` not yet removed), `gzip-unlinked` (done);
//! processor hand-over (`processor`) `rotate-renamed` (`current` became `.u`, no processor
//! started), `processor-started` (the child runs), `processor-exited` (it exited, its output
//! not yet taken), `processor-renamed` (`.t` became `.s`, `.u` still there),
//! `processor-unlinked` (`.u` removed, `newstate` not yet renamed).

use std::sync::OnceLock;

/// The environment variable that names the point.
pub const VAR: &str = "SVLOGD_FAULT";

static POINT: OnceLock<Option<String>> = OnceLock::new();

/// Kills the process with SIGKILL if `SVLOGD_FAULT` names `point`.
#[inline]
pub fn hit(point: &str) {
    let armed = POINT.get_or_init(|| std::env::var(VAR).ok().filter(|v| !v.is_empty()));
    if armed.as_deref() == Some(point) {
        // SAFETY: kill(2) of our own process.
        unsafe { nix::libc::kill(nix::libc::getpid(), nix::libc::SIGKILL) };
    }
}
