//! A log directory's archives on disk: the look when it is opened (the newest label, crash
//! leftovers), the census that spares every rotation a listing (`census`), retention
//! (`prune` decides, this deletes), and runit's disk-full rule.

use super::{Ctx, LogDir};
use crate::census::{Archive, Born};
use crate::msg;
use crate::processor::Job;
use crate::prune::{age_from_mtime, plan, Entry, Hold, Limits};
use formats::archive::{Name, Suffix};
use nix::libc;
use std::os::fd::OwnedFd;
use std::time::Duration;
use sys::dirfd::{list, metaat, unlinkat};

impl LogDir {
    /// Looks at the directory once when it is opened: the census of its archives, the newest
    /// label (so that new names sort after every old one), and what a crash may have left half
    /// done: a compression whose `.s.gz` is complete but whose `.s` is still there (the `.s`
    /// goes), a processor output renamed to `.s` whose `.u` is still there (the `.u` goes), and
    /// rotated `.u` files (mode u+x; a `current` recovered after a crash is not) that were
    /// waiting for the processor (queued again, oldest first, when a processor is configured).
    pub(super) fn survey(&mut self, ctx: &Ctx) {
        self.census.invalidate();
        let Some(names) = self.relist() else { return };
        let Some(dir) = &self.dir else { return };
        let has = |label: &[u8; 24], suffix: Suffix| {
            names
                .binary_search(&Name {
                    label: *label,
                    suffix,
                })
                .is_ok()
        };
        let gz = self.add.gz.clone();
        let busy = *gz.busy();
        let mut gone = Vec::new();
        let mut requeue = Vec::new();
        for n in &names {
            if busy == Some(n.label) {
                continue;
            }
            match n.suffix {
                Suffix::Saved if has(&n.label, Suffix::SavedGz) => {
                    // Under the compressor's lock: it may have started on this file since.
                    let busy = gz.busy();
                    if *busy != Some(n.label) && unlinkat(dir, &n.to_bytes()).is_ok() {
                        gone.push(*n);
                    }
                }
                Suffix::Unfinished
                    if (has(&n.label, Suffix::Saved) || has(&n.label, Suffix::SavedGz))
                        && !self.processor_holds(&n.label) =>
                {
                    gone.extend(unlinkat(dir, &n.to_bytes()).ok().map(|()| *n));
                }
                Suffix::Unfinished if self.cfg.processor.is_some() => {
                    // A link with an archive's name is not ours: never processed.
                    let rotated = metaat(dir, &n.to_bytes()).is_ok_and(|st| {
                        st.st_mode & libc::S_IFMT == libc::S_IFREG
                            && st.st_mode & libc::S_IXUSR != 0
                    });
                    if rotated && !self.processor_holds(&n.label) {
                        requeue.push(n.label);
                    }
                }
                _ => {}
            }
        }
        for n in &gone {
            self.census.remove(n);
        }
        // Those deletions moved the directory's time: the census is right, its stamp is not.
        self.census.invalidate();
        let Some(cmd) = self.cfg.processor.clone() else {
            return;
        };
        for label in requeue {
            let Ok(dup) = dir.try_clone() else { break };
            let name = formats::archive::short_name(&label, b'u');
            if ctx.verbose {
                msg::info(&[b"requeue: ", &self.name, b"/", &name]);
            }
            self.queue.push_back(Job::new(dup, &self.name, name, &cmd));
        }
    }

    /// Lists the directory into the census (only names it does not know are stat'ed) and
    /// deletes work files no job owns: a processor's `.t` (as runit does) and a compression's
    /// `.s.gz.tmp`. Returns every archive-like name found, sorted; `None` if it cannot be read.
    fn relist(&mut self) -> Option<Vec<Name>> {
        let dir = self.dir.as_ref()?;
        let stamp = sys::dirfd::mtime(dir);
        let now = sys::dirfd::file_clock();
        let raw = match list(dir) {
            Ok(n) => n,
            Err(e) => {
                msg::warn("unable to read directory", &self.name, e);
                return None;
            }
        };
        let gz = self.add.gz.clone();
        let mut names: Vec<Name> = Vec::new();
        let mut found: Vec<Archive> = Vec::new();
        for raw in raw.iter() {
            let Some(name) = Name::parse(raw) else {
                continue;
            };
            names.push(name);
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
                    // under the lock it takes before it starts on a file.
                    let busy = gz.busy();
                    if *busy != Some(name.label) {
                        let _ = unlinkat(dir, raw);
                    }
                }
                s if s.is_log() => match self.census.get(&name) {
                    Some(known) => found.push(*known),
                    None => {
                        let Ok(st) = metaat(dir, raw) else { continue };
                        found.push(Archive {
                            name,
                            size: st.st_size as u64,
                            born: Born::Mtime((st.st_mtime, st.st_mtime_nsec)),
                        });
                    }
                },
                _ => {}
            }
        }
        self.census.relist(found, stamp, now);
        names.sort_unstable();
        Some(names)
    }

    /// Makes the census match the directory: the compressor's finished work is applied, and
    /// if the directory changed behind svlogd's back it is listed again.
    fn fresh_census(&mut self) {
        let Some(dir) = &self.dir else { return };
        for c in self.add.gz.take_done() {
            let name = Name {
                label: c.label,
                suffix: Suffix::Saved,
            };
            let born = self
                .census
                .remove(&name)
                .map(|a| a.born)
                .unwrap_or(Born::Mtime(c.after));
            self.census.add(Archive {
                name: name.with(Suffix::SavedGz),
                size: c.size,
                born,
            });
            // When the compressor read `after` is not known: taken as racy.
            self.census.changed(c.before, c.after, c.after);
        }
        if !self.census.matches(sys::dirfd::mtime(dir)) {
            self.relist();
        }
    }

    /// The census, listed again if it may be short of a change (see `census::racy`):
    /// before deleting on its word.
    fn census_to_delete_by(&mut self) {
        self.fresh_census();
        if self.census.racy() {
            self.relist();
        }
    }

    /// Runs `op`, one of svlogd's own changes to the directory's entries, keeping the
    /// census's stamp in step with it.
    pub(super) fn own_change<T>(&mut self, op: impl FnOnce(&OwnedFd) -> T) -> T {
        let dir = self.dir.as_ref().expect("an open directory");
        let before = sys::dirfd::mtime(dir);
        let r = op(dir);
        let after = sys::dirfd::mtime(dir);
        self.census.changed(before, after, sys::dirfd::file_clock());
        r
    }

    /// A rotation renamed `current` (`size` bytes) to the archive `name`.
    pub(super) fn archived(&mut self, name: &[u8; 27], size: u64, now: std::time::Instant) {
        if let Some(n) = Name::parse(name) {
            self.census.add(Archive {
                name: n,
                size,
                born: Born::Made(now),
            });
        }
    }

    /// The processor turned `@L.u` into `@L.s`: the census follows.
    pub(super) fn processed(&mut self, u: &[u8; 27]) {
        let Some(from) = Name::parse(u) else { return };
        let born = self.census.remove(&from).map(|a| a.born);
        let to = from.with(Suffix::Saved);
        if let Some(st) = self
            .dir
            .as_ref()
            .and_then(|d| metaat(d, &to.to_bytes()).ok())
        {
            self.census.add(Archive {
                name: to,
                size: st.st_size as u64,
                born: born.unwrap_or(Born::Mtime((st.st_mtime, st.st_mtime_nsec))),
            });
        }
    }

    /// Whether the archive label is a processor job's, running or queued.
    pub(crate) fn processor_holds(&self, label: &[u8; 24]) -> bool {
        self.processor.holds_label(label) || self.queue.iter().any(|j| j.name()[1..25] == label[..])
    }

    /// What keeps the archive `name`, given the file a rotation just made (`fresh`), the
    /// file being compressed and the forwarders' needs.
    fn hold(
        &self,
        name: &Name,
        fresh: Option<&[u8]>,
        gz: Option<[u8; 24]>,
        unsent: &crate::forward::Needs,
    ) -> Hold {
        if fresh.is_some_and(|f| f.len() >= 25 && f[1..25] == name.label)
            || self.processor_holds(&name.label)
            || gz == Some(name.label)
        {
            Hold::Busy
        } else if unsent.protects(&name.label) {
            Hold::Unsent
        } else {
            Hold::Free
        }
    }

    /// runit's `rmoldest`, with our limits (see `prune`). `fresh` is the file the rotation
    /// just made, if any.
    pub(crate) fn prune(&mut self, fresh: Option<&[u8]>, ctx: &Ctx) {
        if self.dir.is_none() {
            return;
        }
        self.fresh_census();
        let lim = Limits {
            nmax: self.cfg.nmax,
            total_max: self.cfg.extras.total_max,
            age_max: self.cfg.extras.age_max,
            unsent_max: self.add.unsent_max(),
        };
        let needs = self.add.may_delete();
        let forwarding = !needs.is_empty();
        let gz = self.add.gz.clone();
        let gz_busy = *gz.busy();
        let wall = crate::faults::clock(std::time::SystemTime::now());
        let age = |a: &Archive| match a.born {
            _ if lim.age_max.is_none() => Duration::ZERO,
            Born::Made(t) => ctx.now.saturating_duration_since(t),
            Born::Mtime((s, ns)) => age_from_mtime(s, ns, wall),
        };
        let mut listed = false;
        let doomed = loop {
            let doomed: Vec<(Name, u64, Hold)> = {
                let entries = self.census.iter().map(|a| Entry {
                    name: a.name,
                    size: a.size,
                    age: age(a),
                    hold: self.hold(&a.name, fresh, gz_busy, &needs),
                });
                let picked: Vec<usize> = plan(entries.clone(), &lim, forwarding)
                    .into_iter()
                    .map(|(i, _)| i)
                    .collect();
                match picked.last() {
                    None => Vec::new(),
                    Some(&last) => entries
                        .take(last + 1)
                        .enumerate()
                        .filter(|(i, _)| picked.binary_search(i).is_ok())
                        .map(|(_, e)| (e.name, e.size, e.hold))
                        .collect(),
                }
            };
            // A census that may be short of a change made in its tick is not enough to
            // delete on: list the directory again, once, and plan again.
            if doomed.is_empty() || listed || !self.census.racy() {
                break doomed;
            }
            self.relist();
            listed = true;
        };
        {
            // The compressor takes this lock before it starts on a file: holding it, no
            // file can become busy under our feet.
            let busy = gz.busy();
            for (name, size, hold) in doomed {
                if *busy == Some(name.label) {
                    continue;
                }
                let raw = name.to_bytes();
                if ctx.verbose {
                    msg::info(&[b"delete: ", &self.name, b"/", &raw]);
                }
                match self.own_change(|dir| unlinkat(dir, &raw)) {
                    Ok(()) => {
                        self.census.remove(&name);
                        self.add.deleted(&self.name, &raw, size, hold);
                    }
                    // Deleted behind svlogd's back since the census last matched.
                    Err(libc::ENOENT) => {
                        self.census.remove(&name);
                    }
                    Err(err) => msg::warn("unable to unlink oldest logfile", &self.name, err),
                }
            }
        }
        if lim.age_max.is_some() {
            let newest = self.census.len().saturating_sub(1) as usize;
            let ages: Vec<Duration> = self
                .census
                .iter()
                .take(newest)
                .filter(|a| self.hold(&a.name, fresh, gz_busy, &needs) != Hold::Busy)
                .map(age)
                .collect();
            self.add.pruned(ages.into_iter(), ctx.now);
        }
    }

    /// runit's disk-full rule: if `N` < `n` and more than `N` archives exist, delete the
    /// oldest that may go. Returns whether one was deleted.
    pub(super) fn delete_for_space(&mut self) -> bool {
        if self.dir.is_none() || self.cfg.nmin >= self.cfg.nmax {
            return false;
        }
        self.census_to_delete_by();
        if self.census.len() <= self.cfg.nmin {
            return false;
        }
        let needs = self.add.may_delete();
        let gz = self.add.gz.clone();
        let busy = gz.busy();
        let Some((name, size, hold)) = self.census.iter().find_map(|a| {
            let h = self.hold(&a.name, None, *busy, &needs);
            (h != Hold::Busy).then_some((a.name, a.size, h))
        }) else {
            return false;
        };
        let raw = name.to_bytes();
        msg::warnx(
            "out of disk space, delete",
            &[&self.name[..], b"/", &raw].concat(),
        );
        match self.own_change(|dir| unlinkat(dir, &raw)) {
            Ok(()) => {
                self.census.remove(&name);
                self.add.deleted(&self.name, &raw, size, hold);
                true
            }
            Err(e) => {
                if e == libc::ENOENT {
                    self.census.remove(&name);
                }
                msg::warn("unable to unlink oldest logfile", &self.name, e);
                false
            }
        }
    }
}
