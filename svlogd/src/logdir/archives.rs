//! A log directory's archives on disk: the look when it is opened (the newest label, crash
//! leftovers), retention (`prune` decides, this deletes), and runit's disk-full rule.

use super::{Ctx, LogDir};
use crate::archive::{Name, Suffix};
use crate::dirfd::{list, metaat, unlinkat};
use crate::msg;
use crate::processor::Job;
use crate::prune::{age_from_mtime, plan, Census, Entry, Hold, Limits};
use nix::libc;
use std::time::{Duration, Instant};

impl LogDir {
    /// Looks at the directory once when it is opened: the newest label (so that new names
    /// sort after every old one), and what a crash may have left half done: a compression
    /// whose `.s.gz` is complete but whose `.s` is still there (the `.s` goes), a processor
    /// output renamed to `.s` whose `.u` is still there (the `.u` goes), and rotated `.u`
    /// files (mode u+x; a `current` recovered after a crash is not) that were waiting for the
    /// processor (queued again, oldest first, when a processor is configured).
    pub(super) fn survey(&mut self, ctx: &Ctx) {
        let Some(dir) = &self.dir else { return };
        let Ok(raw) = list(dir) else { return };
        let mut names: Vec<Name> = raw.iter().filter_map(|n| Name::parse(n)).collect();
        names.sort();
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
        let mut requeue = Vec::new();
        for n in &names {
            if self.newest.is_none_or(|m| n.label > m) {
                self.newest = Some(n.label);
            }
            if busy == Some(n.label) {
                continue;
            }
            match n.suffix {
                Suffix::Saved if has(&n.label, Suffix::SavedGz) => {
                    // Under the compressor's lock: it may have started on this file since.
                    let busy = gz.busy();
                    if *busy != Some(n.label) {
                        let _ = unlinkat(dir, &n.to_bytes());
                    }
                }
                Suffix::Unfinished
                    if (has(&n.label, Suffix::Saved) || has(&n.label, Suffix::SavedGz))
                        && !self.processor_holds(&n.label) =>
                {
                    let _ = unlinkat(dir, &n.to_bytes());
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
        let Some(cmd) = self.cfg.processor.clone() else {
            return;
        };
        for label in requeue {
            let Ok(dup) = dir.try_clone() else { break };
            let name = crate::archive::short_name(&label, b'u');
            if ctx.verbose {
                msg::info(&[b"requeue: ", &self.name, b"/", &name]);
            }
            self.queue.push_back(Job::new(dup, &self.name, name, &cmd));
        }
    }

    /// Whether the archive label is a processor job's, running or queued.
    pub(crate) fn processor_holds(&self, label: &[u8; 24]) -> bool {
        self.processor.holds_label(label) || self.queue.iter().any(|j| j.name()[1..25] == label[..])
    }

    /// What keeps `name` (file name `raw`), given the file a rotation just made (`fresh`) and
    /// the file being compressed.
    fn hold(&self, name: &Name, raw: &[u8], fresh: Option<&[u8]>, gz: Option<[u8; 24]>) -> Hold {
        if fresh.is_some_and(|f| Name::parse(f).is_some_and(|f| f.label == name.label))
            || self.processor_holds(&name.label)
        {
            return Hold::Busy;
        }
        self.add.may_delete(&name.label, raw, gz)
    }

    /// How old an archive is (see `prune`): since this svlogd made it, or by its mtime.
    fn age_of(&self, label: &[u8; 24], st: &libc::stat, now: Instant) -> Duration {
        self.add
            .made_ago(label, now)
            .unwrap_or_else(|| age_from_mtime(st.st_mtime, st.st_mtime_nsec))
    }

    /// runit's `rmoldest`, with our limits (see `prune`). `fresh` is the file the rotation
    /// just made, if any. Processor and compression leftovers no job owns go too.
    pub(crate) fn prune(&mut self, fresh: Option<&[u8]>, ctx: &Ctx) {
        let Some(dir) = &self.dir else { return };
        let names = match list(dir) {
            Ok(n) => n,
            Err(e) => {
                msg::warn("unable to read directory", &self.name, e);
                return;
            }
        };
        let gz = self.add.gz.clone();
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
            unsent_max: self.add.unsent_max(),
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
                        self.add.deleted(&self.name, &raw, e.size, e.hold);
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
        let census = Census {
            archives: left.len() as u64,
            bytes: left.iter().map(|e| e.size).sum(),
        };
        let ages: Vec<([u8; 24], Duration, bool)> = left
            .iter()
            .map(|e| (e.name.label, e.age, e.hold != Hold::Busy))
            .collect();
        self.add.pruned(census, &ages, ctx.now);
    }

    /// runit's disk-full rule: if `N` < `n` and more than `N` archives exist, delete the
    /// oldest that may go. Returns whether one was deleted.
    pub(super) fn delete_for_space(&mut self) -> bool {
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
        let gz = self.add.gz.clone();
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
        let Some((name, raw, hold)) = logs.iter().find_map(|(n, raw)| {
            let h = self.hold(n, raw, None, gz_busy);
            (h != Hold::Busy).then_some((n, raw, h))
        }) else {
            return false;
        };
        let size = metaat(dir, raw).map(|st| st.st_size as u64).unwrap_or(0);
        msg::warnx(
            "out of disk space, delete",
            &[&self.name[..], b"/", &name.to_bytes()].concat(),
        );
        match unlinkat(dir, raw) {
            Ok(()) => {
                self.add.deleted(&self.name, raw, size, hold);
                true
            }
            Err(e) => {
                msg::warn("unable to unlink oldest logfile", &self.name, e);
                false
            }
        }
    }
}
