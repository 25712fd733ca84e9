//! Retention: which archives are deleted, and when (spec/svlogd.md §2.6 and §2.7, plus our
//! limits).
//!
//! After every rotation (and after the crash recovery when a directory is opened) the
//! directory is read once. Processor leftovers (`.t`) and compression leftovers
//! (`.s.gz.tmp`) that no running job owns are deleted, as runit deletes `.t`. The archives
//! (`.s`, `.s.gz`, `.u`) are then taken oldest first (by label, see `archive`) and deleted
//! while any limit is exceeded:
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
//! ([`LogDir::unsent`]) is kept against `n` and `maxage` while the unsent archives together stay
//! within [`LogDir::unsent_max`]; the byte budget `S` (and a full disk, `N`) delete it anyway,
//! and each such deletion is reported through [`LogDir::lost_unsent`], so the forwarder can
//! count the loss. These three methods are the whole interface.
//!
//! On a full disk (runit's `N`): if `N` < `n` and more than `N` archives remain, the oldest one
//! that may be deleted is deleted and the write is retried at once.

use crate::archive::{Name, Suffix};
use crate::dirfd::{list, metaat, unlinkat};
use crate::logdir::{Ctx, LogDir};
use crate::msg;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
pub fn plan(entries: &[Entry], lim: &Limits) -> Vec<(usize, Reason)> {
    let mut count = entries.len() as u64;
    let mut total: u64 = entries.iter().map(|e| e.size).sum();
    let mut unsent: u64 = entries
        .iter()
        .filter(|e| e.hold == Hold::Unsent)
        .map(|e| e.size)
        .sum();
    let newest = entries.len().checked_sub(1);
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if e.hold == Hold::Busy {
            continue;
        }
        // Only the byte budget may delete the newest archive (`n` is at least 1 then, and a
        // clock that jumps must not empty the directory).
        let reason = if lim.total_max > 0 && total > lim.total_max {
            Reason::Bytes
        } else if Some(i) == newest {
            continue;
        } else if lim.nmax > 0 && count > lim.nmax {
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
        total -= e.size;
        if e.hold == Hold::Unsent {
            unsent -= e.size;
        }
        out.push((i, reason));
    }
    out
}

/// What the last look at the directory found, for the status file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Census {
    /// Archives left.
    pub archives: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl LogDir {
    /// Hook for syslog forwarding: whether the archive `name` still holds unsent lines.
    pub fn unsent(&self, name: &[u8]) -> bool {
        self.forward.protects(name)
    }

    /// Hook for syslog forwarding: how many bytes of unsent archives are kept beyond `n` and
    /// `maxage` (`>spool`; 0: all of them).
    pub fn unsent_max(&self) -> u64 {
        self.forward.spool_max()
    }

    /// Hook for syslog forwarding: the unsent archive `name` (`size` bytes) was deleted.
    pub fn lost_unsent(&self, name: &[u8], size: u64) {
        self.forward.lost(&self.name, name, size);
    }

    /// What keeps `name`, given the file a rotation just made (`fresh`).
    fn hold(
        &self,
        name: &Name,
        raw: &[u8],
        fresh: Option<&[u8]>,
        gz_busy: Option<[u8; 24]>,
    ) -> Hold {
        if fresh.is_some_and(|f| Name::parse(f).is_some_and(|f| f.label == name.label))
            || self.processor_holds(&name.label)
            || gz_busy == Some(name.label)
        {
            Hold::Busy
        } else if self.unsent(raw) {
            Hold::Unsent
        } else {
            Hold::Free
        }
    }

    /// How old an archive is (see the module doc).
    fn age_of(&self, label: &[u8; 24], st: &nix::libc::stat, now: Instant) -> Duration {
        if let Some((_, made)) = self.made.iter().find(|(l, _)| l == label) {
            return now.saturating_duration_since(*made);
        }
        let mtime = Duration::new(
            st.st_mtime.max(0) as u64,
            st.st_mtime_nsec.clamp(0, 999_999_999) as u32,
        );
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        wall.saturating_sub(mtime)
    }

    /// runit's `rmoldest`, with our limits (see the module doc). `fresh` is the file the
    /// rotation just made, if any.
    pub(crate) fn prune(&mut self, fresh: Option<&[u8]>, ctx: &Ctx) {
        let Some(dir) = &self.dir else { return };
        let names = match list(dir) {
            Ok(n) => n,
            Err(e) => {
                msg::warn("unable to read directory", &self.name, e);
                return;
            }
        };
        let gz = self.gz.clone();
        let gz_busy = *gz.busy();
        let mut entries: Vec<Entry> = Vec::new();
        for raw in &names {
            let Some(name) = Name::parse(raw) else {
                continue;
            };
            if self.newest.is_none_or(|m| name.label > m) {
                self.newest = Some(name.label);
            }
            match name.suffix {
                Suffix::Processing if !self.processor_holds(&name.label) => {
                    if let Err(e) = unlinkat(dir, raw) {
                        msg::warn("unable to unlink processor leftover", raw, e);
                    }
                }
                Suffix::GzTemp => {
                    // A crash's leftover, unless the compressor is writing it now: decided
                    // under the lock it takes before it starts on a file (the snapshot above
                    // may be older than its start).
                    let busy = gz.busy();
                    if *busy != Some(name.label) {
                        let _ = unlinkat(dir, raw);
                    }
                }
                s if s.is_log() => {
                    let Ok(st) = metaat(dir, raw) else { continue };
                    entries.push(Entry {
                        name,
                        size: st.st_size as u64,
                        age: self.age_of(&name.label, &st, ctx.now),
                        hold: self.hold(&name, raw, fresh, gz_busy),
                    });
                }
                _ => {}
            }
        }
        entries.sort_by_key(|e| e.name);
        let lim = Limits {
            nmax: self.cfg.nmax,
            total_max: self.cfg.extras.total_max,
            age_max: self.cfg.extras.age_max,
            unsent_max: self.unsent_max(),
        };
        let doomed = plan(&entries, &lim);
        let mut gone = vec![false; entries.len()];
        {
            // The compressor takes this lock before it starts on a file: holding it, no
            // file can become busy under our feet.
            let busy = gz.busy();
            for &(i, _) in &doomed {
                let e = &entries[i];
                if *busy == Some(e.name.label) {
                    continue;
                }
                let raw = e.name.to_bytes();
                if ctx.verbose {
                    msg::info(&[b"delete: ", &self.name, b"/", &raw]);
                }
                match unlinkat(dir, &raw) {
                    Ok(()) => {
                        gone[i] = true;
                        self.stats.deleted += 1;
                        if e.hold == Hold::Unsent {
                            self.lost_unsent(&raw, e.size);
                        }
                    }
                    Err(err) => msg::warn("unable to unlink oldest logfile", &self.name, err),
                }
            }
        }
        let left: Vec<&Entry> = entries
            .iter()
            .zip(&gone)
            .filter(|(_, g)| !**g)
            .map(|(e, _)| e)
            .collect();
        self.census = Census {
            archives: left.len() as u64,
            bytes: left.iter().map(|e| e.size).sum(),
        };
        self.made
            .retain(|(l, _)| left.iter().any(|e| e.name.label == *l));
        // The next time an archive comes of age (the newest never does).
        self.prune_at = self.cfg.extras.age_max.and_then(|max| {
            let (_, older) = left.split_last()?;
            let soonest = older
                .iter()
                .filter(|e| e.hold != Hold::Busy)
                .map(|e| max.saturating_sub(e.age))
                .min()?;
            Some(ctx.now + soonest.clamp(Duration::from_millis(10), AGE_CHECK_MAX))
        });
    }

    /// runit's disk-full rule: if `N` < `n` and more than `N` archives exist, delete the
    /// oldest that may go. Returns whether one was deleted.
    pub fn delete_for_space(&mut self) -> bool {
        let Some(dir) = &self.dir else { return false };
        if self.cfg.nmin >= self.cfg.nmax {
            return false;
        }
        let names = match list(dir) {
            Ok(n) => n,
            Err(e) => {
                msg::warn(
                    "unable to read directory, want remove old logfile",
                    &self.name,
                    e,
                );
                return false;
            }
        };
        let gz = self.gz.clone();
        let busy = gz.busy();
        let gz_busy = *busy;
        let mut logs: Vec<(Name, &Vec<u8>)> = names
            .iter()
            .filter_map(|raw| Name::parse(raw).map(|n| (n, raw)))
            .filter(|(n, _)| n.suffix.is_log())
            .collect();
        logs.sort();
        if (logs.len() as u64) <= self.cfg.nmin {
            return false;
        }
        let Some((name, raw)) = logs
            .iter()
            .find(|(n, raw)| self.hold(n, raw, None, gz_busy) != Hold::Busy)
        else {
            return false;
        };
        let unsent = self.unsent(raw);
        let size = metaat(dir, raw).map(|st| st.st_size as u64).unwrap_or(0);
        msg::warnx(
            "out of disk space, delete",
            &[&self.name[..], b"/", &name.to_bytes()].concat(),
        );
        match unlinkat(dir, raw) {
            Ok(()) => {
                self.stats.deleted += 1;
                if unsent {
                    self.lost_unsent(raw, size);
                }
                true
            }
            Err(e) => {
                msg::warn("unable to unlink oldest logfile", &self.name, e);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(idx(&plan(&e, &lim)), vec![0, 1, 2, 3]);
        // n = 0: no limit.
        assert!(plan(&e, &Limits::default()).is_empty());
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
        let p = plan(&e, &lim);
        assert_eq!(p, vec![(0, Reason::Bytes)]);
        let lim = Limits {
            total_max: 59,
            ..Limits::default()
        };
        assert_eq!(idx(&plan(&e, &lim)), vec![0, 1, 2]);
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
        assert_eq!(idx(&plan(&e, &lim)), vec![1]);
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
        assert_eq!(plan(&e, &lim), vec![(0, Reason::Age)]);
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
        assert!(plan(&e, &lim).is_empty());
        // Beyond the unsent budget, n deletes them too.
        let lim = Limits {
            nmax: 1,
            unsent_max: 15,
            ..Limits::default()
        };
        assert_eq!(plan(&e, &lim), vec![(0, Reason::Count)]);
        // S deletes them.
        let lim = Limits {
            total_max: 25,
            ..Limits::default()
        };
        assert_eq!(plan(&e, &lim), vec![(0, Reason::Bytes)]);
    }
}
