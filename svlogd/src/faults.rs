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
//!
//! `SVLOGD_FAULT=wait:POINT` holds the thread that reaches the point instead, while the file
//! `SVLOGD_FAULT_WAIT` names exists (looked at every 10 ms): a test keeps a step in progress
//! (the compressor in the middle of a file) while the rest of svlogd runs on. A thread stopped
//! from outside (ptrace) may be stopped holding a lock the others need (musl's allocator has
//! one for all threads); this one waits only where the point is.
//!
//! `SVLOGD_FAULT_CLOCK=FILE` moves svlogd's wall clock (the one it stamps lines, names
//! archives and ages other processes' archives by; the monotonic clock stays) by the signed
//! number of seconds in FILE (`-86400`, `+31536000`), read again at every reading of the
//! clock, so a test steps the clock by rewriting the file. The tests did this with
//! libfaketime's `LD_PRELOAD`, which cannot reach a static binary (the musl build).

/// The environment variable that names the point.
pub const VAR: &str = "SVLOGD_FAULT";

#[cfg(feature = "faults")]
static POINT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// Kills the process with SIGKILL if `SVLOGD_FAULT` names `point`; holds the calling thread
/// while `SVLOGD_FAULT_WAIT`'s file exists if it says `wait:POINT`.
#[cfg(feature = "faults")]
#[inline]
pub fn hit(point: &str) {
    let armed = POINT.get_or_init(|| std::env::var(VAR).ok().filter(|v| !v.is_empty()));
    let Some(armed) = armed.as_deref() else {
        return;
    };
    if armed == point {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    } else if armed.strip_prefix("wait:") == Some(point) {
        if let Some(file) = std::env::var_os(WAIT_VAR) {
            while std::path::Path::new(&file).exists() {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
}

/// The environment variable that names the file `wait:POINT` waits on (see the module doc).
pub const WAIT_VAR: &str = "SVLOGD_FAULT_WAIT";

/// Without the `faults` feature (every release build) a fault point is nothing at all.
#[cfg(not(feature = "faults"))]
#[inline(always)]
pub fn hit(_point: &str) {}

/// The environment variable that names the clock offset file (see the module doc).
pub const CLOCK_VAR: &str = "SVLOGD_FAULT_CLOCK";

#[cfg(feature = "faults")]
static CLOCK_FILE: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();

/// The offset last read whole from the clock file (a test rewriting it may be caught between
/// the truncation and the write).
#[cfg(feature = "faults")]
static CLOCK_OFFSET: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// The wall-clock reading `t` moved by the offset in `SVLOGD_FAULT_CLOCK`'s file, or `t` when
/// the variable is unset (then one load and compare).
#[cfg(feature = "faults")]
pub fn clock(t: std::time::SystemTime) -> std::time::SystemTime {
    use std::sync::atomic::Ordering;
    use std::time::Duration;
    let file = CLOCK_FILE.get_or_init(|| {
        std::env::var_os(CLOCK_VAR)
            .filter(|v| !v.is_empty())
            .map(Into::into)
    });
    let Some(file) = file else { return t };
    if let Some(secs) = std::fs::read_to_string(file)
        .ok()
        .and_then(|text| text.trim().parse::<i64>().ok())
    {
        CLOCK_OFFSET.store(secs, Ordering::Relaxed);
    }
    let secs = CLOCK_OFFSET.load(Ordering::Relaxed);
    let moved = if secs >= 0 {
        t.checked_add(Duration::from_secs(secs.unsigned_abs()))
    } else {
        t.checked_sub(Duration::from_secs(secs.unsigned_abs()))
    };
    moved.unwrap_or(t)
}

/// Without the `faults` feature (every release build) the clock is never moved.
#[cfg(not(feature = "faults"))]
#[inline(always)]
pub fn clock(t: std::time::SystemTime) -> std::time::SystemTime {
    t
}

/// The wall clock now, as svlogd stamps lines and names archives by: that of
/// `formats::stamp::clock_now`, moved by the offset in `SVLOGD_FAULT_CLOCK`'s file.
#[cfg(feature = "faults")]
pub fn clock_now() -> formats::tai64n::Tai64n {
    match clock(std::time::SystemTime::now()).duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => formats::tai64n::Tai64n::from_unix(d.as_secs() as i64, d.subsec_nanos()),
        Err(_) => formats::stamp::clock_now(),
    }
}

/// Without the `faults` feature (every release build): the wall clock now, as
/// `formats::stamp::clock_now` reads it.
#[cfg(not(feature = "faults"))]
#[inline(always)]
pub fn clock_now() -> formats::tai64n::Tai64n {
    formats::stamp::clock_now()
}
