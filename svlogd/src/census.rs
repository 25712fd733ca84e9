//! The archives of a log directory (`.s`, `.s.gz`, `.u`) as svlogd last saw them, oldest
//! first, with their sizes and ages, so that a rotation neither lists nor stats the directory:
//! its cost does not grow with the number of archives (runit lists the directory at every
//! rotation, s6-log stats every file).
//!
//! Every change svlogd makes is applied here as it is made (a rotation adds the archive it
//! made, retention removes what it deletes, the processor and the compressor replace a file
//! with their output). What nobody reports — an admin deleting or adding files, a processor's
//! own work files, another program — is caught by the directory's modification time: the
//! census keeps the time the directory had when the census last matched it ([`Census::stamp`]),
//! each of svlogd's own changes moves it along (the time before the change must be the kept one,
//! the time after it is kept next), and any other value means the directory changed behind
//! svlogd's back: it is listed again (and only new names are stat'ed) before the census is
//! used. When two of svlogd's own threads change the directory at once, the chain breaks and
//! the directory is listed again too: a census is never trusted on a guess.
//!
//! The kernel stamps a change with its coarse clock (one tick, 1 to 10 ms; a whole second on
//! some file systems), so a change made in the same tick as the one svlogd saw does not move
//! the time. A stamp read in that tick is *racy* ([`racy`]): the census may then be short of
//! a change, and before anything is deleted on its word the directory is listed again.

use formats::archive::Name;
use std::collections::VecDeque;
use std::time::Instant;

/// A directory's modification time (seconds, nanoseconds).
pub type Mtime = (i64, i64);

/// How an archive's age is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Born {
    /// This svlogd made it then (monotonic clock: a step of the wall clock does not age it).
    Made(Instant),
    /// Found on disk: its modification time.
    Mtime(Mtime),
}

/// One archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Archive {
    /// Its name.
    pub name: Name,
    /// Its size in bytes.
    pub size: u64,
    /// How its age is told.
    pub born: Born,
}

/// The archives, oldest first, and when they last matched the directory.
#[derive(Debug, Default)]
pub struct Census {
    /// Sorted by name (label, then suffix).
    entries: VecDeque<Archive>,
    /// Their bytes.
    bytes: u64,
    /// The directory's modification time when the entries last matched it; `None`: list it
    /// before trusting them.
    stamp: Option<Mtime>,
    /// Whether the stamp was read in the tick of the change that set it (see [`racy`]).
    racy: bool,
}

/// Whether a directory time `stamp`, read when the kernel's file clock said `now`, may be
/// shared by a change made after the reading: the same tick, or within 2 seconds where the
/// time has no nanoseconds (a file system that keeps whole seconds).
pub fn racy(stamp: Mtime, now: Mtime) -> bool {
    if stamp.1 == 0 {
        now.0 - stamp.0 < 2
    } else {
        stamp >= now
    }
}

impl Census {
    /// Whether the entries can be trusted for a directory whose modification time is `now`.
    pub fn matches(&self, now: Mtime) -> bool {
        self.stamp == Some(now)
    }

    /// Whether the match may miss a change made in the same tick (see [`racy`]): list the
    /// directory again before deleting on the census's word.
    pub fn racy(&self) -> bool {
        self.racy
    }

    /// Forget the match: the directory is listed again before the census is used.
    pub fn invalidate(&mut self) {
        self.stamp = None;
    }

    /// svlogd changed the directory itself: its time went from `before` to `after`, read when
    /// the file clock said `now`. The match holds on only if nobody changed it since the
    /// census last matched.
    pub fn changed(&mut self, before: Mtime, after: Mtime, now: Mtime) {
        if self.stamp == Some(before) {
            self.stamp = Some(after);
            self.racy = racy(after, now);
        } else {
            self.stamp = None;
        }
    }

    /// A fresh listing (in any order) made when the directory's time was `stamp`, read when
    /// the file clock said `now`. Archives already known keep their age (what this svlogd
    /// made stays "made by it").
    pub fn relist(&mut self, mut found: Vec<Archive>, stamp: Mtime, now: Mtime) {
        found.sort_unstable_by_key(|a| a.name);
        for a in &mut found {
            if let Some(known) = self.get(&a.name) {
                if matches!(known.born, Born::Made(_)) {
                    a.born = known.born;
                }
            }
        }
        self.bytes = found.iter().map(|a| a.size).sum();
        self.entries = found.into();
        self.stamp = Some(stamp);
        self.racy = racy(stamp, now);
    }

    /// The archive named `name`, if known.
    pub fn get(&self, name: &Name) -> Option<&Archive> {
        self.find(name).ok().map(|i| &self.entries[i])
    }

    fn find(&self, name: &Name) -> Result<usize, usize> {
        // New archives have the greatest label: look at the end first.
        match self.entries.back() {
            Some(last) if last.name < *name => Err(self.entries.len()),
            _ => self.entries.binary_search_by(|a| a.name.cmp(name)),
        }
    }

    /// Adds (or replaces) an archive.
    pub fn add(&mut self, a: Archive) {
        match self.find(&a.name) {
            Ok(i) => {
                self.bytes = self.bytes - self.entries[i].size + a.size;
                self.entries[i] = a;
            }
            Err(i) => {
                self.bytes += a.size;
                self.entries.insert(i, a);
            }
        }
    }

    /// Removes an archive; returns it if it was known.
    pub fn remove(&mut self, name: &Name) -> Option<Archive> {
        let i = self.find(name).ok()?;
        let a = self.entries.remove(i)?;
        self.bytes -= a.size;
        Some(a)
    }

    /// The archives, oldest first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Archive> + Clone {
        self.entries.iter()
    }

    /// How many archives.
    pub fn len(&self) -> u64 {
        self.entries.len() as u64
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Their bytes in all.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use formats::archive::Suffix;

    fn arch(last: u8, suffix: Suffix, size: u64) -> Archive {
        let mut label = *b"400000006b0337970000000a";
        label[23] = last;
        Archive {
            name: Name { label, suffix },
            size,
            born: Born::Mtime((0, 0)),
        }
    }

    #[test]
    fn kept_in_order_with_their_bytes() {
        let mut c = Census::default();
        c.add(arch(b'3', Suffix::Saved, 30));
        c.add(arch(b'1', Suffix::Saved, 10));
        c.add(arch(b'2', Suffix::Unfinished, 20));
        c.add(arch(b'4', Suffix::Saved, 40));
        let order: Vec<u8> = c.iter().map(|a| a.name.label[23]).collect();
        assert_eq!(order, b"1234");
        assert_eq!((c.len(), c.bytes()), (4, 100));
        // The processor's output replaces the .u; the compressor's the .s.
        c.remove(&arch(b'2', Suffix::Unfinished, 0).name);
        c.add(arch(b'2', Suffix::Saved, 5));
        c.remove(&arch(b'1', Suffix::Saved, 0).name);
        c.add(arch(b'1', Suffix::SavedGz, 1));
        c.add(arch(b'4', Suffix::Saved, 44));
        assert_eq!((c.len(), c.bytes()), (4, 80));
        assert!(c.remove(&arch(b'9', Suffix::Saved, 0).name).is_none());
    }

    #[test]
    fn only_an_unbroken_chain_of_own_changes_keeps_the_match() {
        let mut c = Census::default();
        assert!(!c.matches((5, 0)));
        c.relist(vec![arch(b'1', Suffix::Saved, 1)], (5, 0), (9, 0));
        assert!(c.matches((5, 0)));
        assert!(!c.racy());
        c.changed((5, 0), (6, 0), (9, 0));
        assert!(c.matches((6, 0)) && !c.matches((5, 0)));
        // Someone else changed it (7) before our change (7 -> 8): list again.
        c.changed((7, 0), (8, 0), (9, 0));
        assert!(!c.matches((8, 0)));
    }

    #[test]
    fn a_stamp_read_in_the_tick_of_its_change_is_racy() {
        // Nanoseconds: racy until the file clock has moved past the stamp.
        assert!(racy((5, 300), (5, 300)));
        assert!(racy((5, 300), (5, 200)));
        assert!(!racy((5, 300), (5, 301)));
        // Whole seconds (or exactly on one): racy for 2 seconds.
        assert!(racy((5, 0), (6, 999_999_999)));
        assert!(!racy((5, 0), (7, 0)));
        let mut c = Census::default();
        c.relist(Vec::new(), (5, 300), (5, 300));
        assert!(c.racy());
        c.changed((5, 300), (5, 400), (5, 500));
        assert!(!c.racy());
    }

    #[test]
    fn a_relisting_keeps_what_this_svlogd_made() {
        let mut c = Census::default();
        let now = Instant::now();
        let mut made = arch(b'1', Suffix::Saved, 1);
        made.born = Born::Made(now);
        c.add(made);
        c.relist(
            vec![arch(b'2', Suffix::Saved, 2), arch(b'1', Suffix::Saved, 1)],
            (1, 0),
            (1, 0),
        );
        assert_eq!(c.iter().next().unwrap().born, Born::Made(now));
        assert_eq!(c.bytes(), 3);
    }
}
