//! Fault injection, for tests only (the `faults` cargo feature, which the test build turns
//! on and release builds leave off): `SVLOGD_FAULT=POINT` makes svlogd kill itself with
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

/// The environment variable that names the point.
pub const VAR: &str = "SVLOGD_FAULT";

#[cfg(feature = "faults")]
static POINT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// Kills the process with SIGKILL if `SVLOGD_FAULT` names `point`.
#[cfg(feature = "faults")]
#[inline]
pub fn hit(point: &str) {
    let armed = POINT.get_or_init(|| std::env::var(VAR).ok().filter(|v| !v.is_empty()));
    if armed.as_deref() == Some(point) {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}

/// Without the `faults` feature (every release build) a fault point is nothing at all.
#[cfg(not(feature = "faults"))]
#[inline(always)]
pub fn hit(_point: &str) {}
