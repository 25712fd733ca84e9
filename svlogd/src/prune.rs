//! Retention: which archives are deleted, and when (spec/svlogd.md §2.6 and §2.7, plus our
//! limits).
//!
//! After every rotation (and after the crash recovery when a directory is opened) the
//! archives (`.s`, `.s.gz`, `.u`), as the directory's `census` knows them, are taken oldest
//! first (by label, see `archive`) and deleted while any limit is exceeded (when the directory
//! is listed again, processor leftovers (`.t`) and compression leftovers (`.s.gz.tmp`) that no
//! running job owns are deleted, as runit deletes `.t`):
//!
//! * `n`: more than `n` archives. Unlike runit, which deleted one file per rotation, this
//!   deletes down to `n` at once, so lowering `n` shrinks the directory at the next rotation.
//!   With one rotation adding one file the result is runit's.
//! * `S`: the archives hold more than `S` bytes in all (their size on disk now: a file being
//!   compressed counts at its uncompressed size until it is done).
//! * `maxage`: an archive is older than the limit. An archive's age is how long ago this
//!   svlogd made it, on the monotonic clock, if it did; otherwise how old its modification time
//!   says it is (a time in the future counts as new). The newest archive is never deleted for
//!   its age, so a clock that jumps forward cannot empty the directory. Since nothing may be
//!   rotated for a long time, the next expiry is also a deadline of the event loop.
//!
//! Never deleted, whatever the limits or the clock say: `current`, the file the rotation just
//! made, every file of a processor job (running or queued) and the file being compressed.
//!
//! **Syslog forwarding hook.** An archive that still holds lines a syslog target has not sent
//! ([`Hold::Unsent`]) is kept against `n` and `maxage` while the unsent archives together stay
//! within [`Limits::unsent_max`]; the byte budget `S` (and a full disk, `N`) delete it anyway,
//! and each such deletion is reported, so the forwarder can count the loss.
//!
//! This module decides ([`plan`], no I/O); the directory's archives are listed, weighed and
//! deleted by `logdir::archives`.
//!
//! On a full disk (runit's `N`): if `N` < `n` and more than `N` archives remain, the oldest one
//! that may be deleted is deleted and the write is retried at once.

use formats::archive::Name;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The age check runs at least this often while an age limit is set and archives exist.
pub const AGE_CHECK_MAX: Duration = Duration::from_secs(3600);

/// Why an archive may not simply be deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Nothing: it may go.
    Free,
    /// In use (just made, a processor's, being compressed): never deleted.
    Busy,
    /// A syslog target has not sent all of it: kept against `n` and `maxage` within the
    /// unsent budget, deleted (and reported) for `S`.
    Unsent,
}

/// One archive as pruning sees it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its name.
    pub name: Name,
    /// Its size in bytes.
    pub size: u64,
    /// How old it is.
    pub age: Duration,
    /// What keeps it.
    pub hold: Hold,
}

/// The limits of one directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// `n` (0: none).
    pub nmax: u64,
    /// `S` (0: none).
    pub total_max: u64,
    /// `maxage`.
    pub age_max: Option<Duration>,
    /// Unsent archives beyond `n` and `maxage` are kept while they hold at most this many
    /// bytes (0: always kept).
    pub unsent_max: u64,
}

/// Why an archive is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// More than `n` archives.
    Count,
    /// More than `S` bytes.
    Bytes,
    /// Older than `maxage`.
    Age,
}

/// Which of `entries` (sorted oldest first) to delete: their indexes and why, oldest first.
/// `entries` is walked lazily and left as soon as no limit can delete more, so a directory
/// within its `n` and `S` costs one step, however many archives it holds (an age limit looks
/// at every archive). The unsent bytes are summed only when a syslog target runs
/// (`forwarding`).
pub fn plan<I>(entries: I, lim: &Limits, forwarding: bool) -> Vec<(usize, Reason)>
where
    I: ExactSizeIterator<Item = Entry> + Clone,
{
    let mut count = entries.len() as u64;
    let mut total: u64 = if lim.total_max > 0 {
        entries.clone().map(|e| e.size).sum()
    } else {
        0
    };
    let mut unsent: u64 = if forwarding {
        entries
            .clone()
            .filter(|e| e.hold == Hold::Unsent)
            .map(|e| e.size)
            .sum()
    } else {
        0
    };
    let newest = entries.len().checked_sub(1);
    let mut out = Vec::new();
    for (i, e) in entries.enumerate() {
        let over_bytes = lim.total_max > 0 && total > lim.total_max;
        let over_count = lim.nmax > 0 && count > lim.nmax;
        if !over_bytes && !over_count && lim.age_max.is_none() {
            break;
        }
        if e.hold == Hold::Busy {
            continue;
        }
        // Only the byte budget may delete the newest archive (`n` is at least 1 then, and a
        // clock that jumps must not empty the directory).
        let reason = if over_bytes {
            Reason::Bytes
        } else if Some(i) == newest {
            continue;
        } else if over_count {
            Reason::Count
        } else if lim.age_max.is_some_and(|max| e.age > max) {
            Reason::Age
        } else {
            continue;
        };
        if e.hold == Hold::Unsent
            && reason != Reason::Bytes
            && (lim.unsent_max == 0 || unsent <= lim.unsent_max)
        {
            continue;
        }
        count -= 1;
        total = total.saturating_sub(e.size);
        if e.hold == Hold::Unsent {
            unsent -= e.size;
        }
        out.push((i, reason));
    }
    out
}

/// How old an archive is when this svlogd did not make it: how long ago its modification
/// time was (`mtime`, seconds and nanoseconds since the epoch) at the wall-clock time `now`; a
/// time in the future counts as new.
pub fn age_from_mtime(secs: i64, nanos: i64, now: SystemTime) -> Duration {
    let mtime = Duration::new(secs.max(0) as u64, nanos.clamp(0, 999_999_999) as u32);
    let wall = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    wall.saturating_sub(mtime)
}

#[cfg(test)]
mod tests {
    use super::*;
    use formats::archive::Suffix;

    fn entries(spec: &[(u64, u64, Hold)]) -> Vec<Entry> {
        spec.iter()
            .enumerate()
            .map(|(i, &(size, age, hold))| {
                let mut label = *b"400000006b03379700000000";
                label[23] = b'0' + i as u8;
                Entry {
                    name: Name {
                        label,
                        suffix: Suffix::Saved,
                    },
                    size,
                    age: Duration::from_secs(age),
                    hold,
                }
            })
            .collect()
    }

    fn idx(p: &[(usize, Reason)]) -> Vec<usize> {
        p.iter().map(|&(i, _)| i).collect()
    }

    #[test]
    fn count_deletes_down_to_n_at_once() {
        let e = entries(&[(10, 0, Hold::Free); 6]);
        let lim = Limits {
            nmax: 2,
            ..Limits::default()
        };
        assert_eq!(idx(&plan(e.iter().cloned(), &lim, true)), vec![0, 1, 2, 3]);
        // n = 0: no limit.
        assert!(plan(e.iter().cloned(), &Limits::default(), true).is_empty());
    }

    #[test]
    fn bytes_budget() {
        let e = entries(&[
            (100, 0, Hold::Free),
            (50, 0, Hold::Free),
            (60, 0, Hold::Free),
        ]);
        let lim = Limits {
            total_max: 120,
            ..Limits::default()
        };
        let p = plan(e.iter().cloned(), &lim, true);
        assert_eq!(p, vec![(0, Reason::Bytes)]);
        let lim = Limits {
            total_max: 59,
            ..Limits::default()
        };
        assert_eq!(idx(&plan(e.iter().cloned(), &lim, true)), vec![0, 1, 2]);
    }

    #[test]
    fn busy_files_are_never_deleted() {
        let e = entries(&[
            (100, 99, Hold::Busy),
            (100, 99, Hold::Free),
            (100, 0, Hold::Busy),
        ]);
        let lim = Limits {
            nmax: 1,
            total_max: 1,
            age_max: Some(Duration::from_secs(1)),
            unsent_max: 0,
        };
        assert_eq!(idx(&plan(e.iter().cloned(), &lim, true)), vec![1]);
    }

    #[test]
    fn age_spares_the_newest() {
        let e = entries(&[
            (1, 500, Hold::Free),
            (1, 50, Hold::Free),
            (1, 400, Hold::Free),
        ]);
        let lim = Limits {
            age_max: Some(Duration::from_secs(100)),
            ..Limits::default()
        };
        assert_eq!(plan(e.iter().cloned(), &lim, true), vec![(0, Reason::Age)]);
    }

    #[test]
    fn unsent_files_yield_only_to_the_byte_budget() {
        let e = entries(&[
            (10, 999, Hold::Unsent),
            (10, 999, Hold::Unsent),
            (10, 0, Hold::Free),
        ]);
        // Kept against n and age (no unsent budget).
        let lim = Limits {
            nmax: 1,
            age_max: Some(Duration::from_secs(1)),
            ..Limits::default()
        };
        assert!(plan(e.iter().cloned(), &lim, true).is_empty());
        // Beyond the unsent budget, n deletes them too.
        let lim = Limits {
            nmax: 1,
            unsent_max: 15,
            ..Limits::default()
        };
        assert_eq!(
            plan(e.iter().cloned(), &lim, true),
            vec![(0, Reason::Count)]
        );
        // S deletes them.
        let lim = Limits {
            total_max: 25,
            ..Limits::default()
        };
        assert_eq!(
            plan(e.iter().cloned(), &lim, true),
            vec![(0, Reason::Bytes)]
        );
    }
}
