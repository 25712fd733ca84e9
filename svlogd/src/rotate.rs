//! Rotation: every way `current` is (re)created, as one sequence of resumable steps
//! (spec/svlogd.md §2.2, §2.5, §2.6).
//!
//! * [`Kind::Rotate`] (size, `t`, ALRM): wait until the previous processor is done, pick a
//!   fresh `@<tai64n>.s` (`.u` with a processor), fsync `current`, make it u+x, rename it,
//!   create a new `current` (0644), prune, start the processor.
//! * [`Kind::Recover`] (a non-empty `current` without u+x found when the directory is opened:
//!   svlogd died without closing it): rename it to a fresh `@<tai64n>.u`, prune, create a new
//!   `current`. No processor is run for it (runit's rule).
//! * [`Kind::Open`]: open `current` for appending (or create it).
//!
//! A step that fails prints runit's `pausing:` message and is retried from the same step three
//! seconds later, while the event loop goes on handling signals; nothing here sleeps. Input
//! is not read while a directory is in the middle of a rotation, so no line can go to the
//! wrong file.
//!
//! Pruning (`n`): the directory is read once after each rotation; `@`-names of 27 bytes count,
//! processor leftovers (`.t`) are deleted, and if more than `n` remain, the oldest name goes.
//! The rule for `.u` files is upstream runit 2.3.0's, extended: `.u` files count like `.s`
//! files and crash-recovered ones can be pruned as the oldest, but the file this rotation just
//! created and every file of a pending processor job are never chosen, whatever the clock did
//! (spec §12 item 9). So `n` bounds the directory (Debian's 2.1.2 neither counts nor deletes
//! `.u` files, which then pile up, and keeps n+1 files with a processor). After each rename
//! the directory itself is fsynced (spec §12 item 11).

use crate::dirfd::{list, openat, renameat, statat, unlinkat};
use crate::logdir::{Ctx, LogDir};
use crate::msg;
use crate::processor::{self, Job};
use nix::libc;
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use supervise::tai64n::Tai64n;

/// Why `current` is being (re)created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Size, `t` or ALRM rotation of a non-empty `current`.
    Rotate,
    /// A `current` left behind by a crash becomes `.u`.
    Recover,
    /// `current` is opened for appending; `existed` says whether it was there (verbose
    /// `append:` rather than `new:`).
    Open {
        /// `current` existed before.
        existed: bool,
    },
}

/// The steps, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    WaitProcessor,
    PickName,
    SyncCurrent,
    ChmodCurrent,
    Rename,
    SyncDir,
    Prune,
    Create,
    ChmodNew,
    StartProcessor,
    Done,
}

/// A rotation in progress.
#[derive(Debug, Clone)]
pub struct Rotation {
    kind: Kind,
    step: Step,
    /// The `@<tai64n>.x` name picked for the old `current`.
    name: [u8; 27],
}

/// What a call to [`LogDir::advance_rotation`] achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The rotation is complete.
    Done,
    /// It waits: for a retry time, or for the processor to finish.
    Blocked,
}

impl Rotation {
    /// A rotation of the given kind, at its first step.
    pub fn new(kind: Kind) -> Rotation {
        let step = match kind {
            Kind::Rotate => Step::WaitProcessor,
            Kind::Recover => Step::PickName,
            Kind::Open { .. } => Step::Create,
        };
        Rotation {
            kind,
            step,
            name: [0; 27],
        }
    }

    /// The file name this rotation produced (all zeros before it picked one).
    pub fn name(&self) -> &[u8; 27] {
        &self.name
    }
}

/// A fresh `@<tai64n>.<suffix>` name for the time now.
fn fresh_name(suffix: u8) -> [u8; 27] {
    let mut n = [0u8; 27];
    n[0] = b'@';
    let mut hex = [0u8; 24];
    Tai64n::now().write_hex(&mut hex);
    n[1..25].copy_from_slice(&hex);
    n[25] = b'.';
    n[26] = suffix;
    n
}

/// Whether `name` is one of svlogd's rotated files: `@` and 27 bytes.
pub fn is_rotated_name(name: &[u8]) -> bool {
    name.len() == 27 && name[0] == b'@'
}

impl LogDir {
    /// Runs the pending rotation as far as it goes now.
    pub fn advance_rotation(&mut self, ctx: &Ctx) -> Progress {
        loop {
            let Some(rot) = &self.rotation else {
                return Progress::Done;
            };
            let (kind, step, name) = (rot.kind, rot.step, rot.name);
            let next = match self.rotation_step(kind, step, name, ctx) {
                Ok(Some(next)) => next,
                Ok(None) => return Progress::Blocked,
                Err((what, errno)) => {
                    msg::pause(what, &self.name, errno);
                    return self.failed(ctx);
                }
            };
            if next == Step::Done {
                self.rotation = None;
                return Progress::Done;
            }
            if let Some(r) = &mut self.rotation {
                r.step = next;
            }
        }
    }

    /// One step; `Ok(None)` = wait (for the processor), `Err` = pause with this message.
    fn rotation_step(
        &mut self,
        kind: Kind,
        step: Step,
        name: [u8; 27],
        ctx: &Ctx,
    ) -> Result<Option<Step>, (&'static str, i32)> {
        let Some(dir) = &self.dir else {
            return Ok(Some(Step::Done));
        };
        let next = match step {
            Step::WaitProcessor => {
                if self.processor.busy() {
                    return Ok(None);
                }
                Step::PickName
            }
            Step::PickName => {
                let suffix = if kind == Kind::Rotate && self.cfg.processor.is_some() {
                    b'u'
                } else if kind == Kind::Rotate {
                    b's'
                } else {
                    b'u'
                };
                let picked = loop {
                    let n = fresh_name(suffix);
                    match statat(dir, &n) {
                        Err(libc::ENOENT) => break n,
                        // Any other failure: take the name and let the rename say what is wrong.
                        Err(_) => break n,
                        Ok(_) => std::hint::spin_loop(),
                    }
                };
                if let Some(r) = &mut self.rotation {
                    r.name = picked;
                }
                match kind {
                    Kind::Rotate => Step::SyncCurrent,
                    _ => Step::Rename,
                }
            }
            Step::SyncCurrent => {
                if let Some(f) = &self.current {
                    f.sync_all()
                        .map_err(|e| ("unable to fsync current logfile", errno(&e)))?;
                }
                Step::ChmodCurrent
            }
            Step::ChmodCurrent => {
                if let Some(f) = &self.current {
                    f.set_permissions(std::fs::Permissions::from_mode(0o744))
                        .map_err(|e| ("unable to set mode of current", errno(&e)))?;
                }
                self.current = None;
                if ctx.verbose {
                    let size = format!(" {}", self.size);
                    msg::info(&[
                        b"rename: ",
                        &self.name,
                        b"/current ",
                        &name,
                        size.as_bytes(),
                    ]);
                }
                Step::Rename
            }
            Step::Rename => {
                let ino = if self.forward.is_active() {
                    ino_at(dir, b"current")
                } else {
                    0
                };
                renameat(dir, b"current", &name).map_err(|e| ("unable to rename current", e))?;
                self.forward.rotated(ino, &name);
                self.size = 0;
                Step::SyncDir
            }
            Step::SyncDir => {
                let _ = nix::unistd::fsync(dir);
                match kind {
                    Kind::Rotate => Step::Create,
                    _ => Step::Prune,
                }
            }
            Step::Prune => {
                self.prune(&name, ctx);
                match kind {
                    Kind::Rotate => Step::StartProcessor,
                    _ => Step::Create,
                }
            }
            Step::Create => {
                let what = match kind {
                    Kind::Rotate => "unable to create new current",
                    _ => "unable to open current",
                };
                let fd = openat(
                    dir,
                    b"current",
                    libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_NONBLOCK,
                )
                .map_err(|e| (what, e))?;
                let file = File::from(fd);
                self.forward.opened(&file);
                self.current = Some(file);
                Step::ChmodNew
            }
            Step::ChmodNew => {
                if let Some(f) = &self.current {
                    f.set_permissions(std::fs::Permissions::from_mode(0o644))
                        .map_err(|e| ("unable to set mode of current", errno(&e)))?;
                }
                match kind {
                    Kind::Rotate => Step::Prune,
                    Kind::Recover | Kind::Open { existed: false } => {
                        if ctx.verbose {
                            msg::info(&[b"new: ", &self.name, b"/current"]);
                        }
                        Step::Done
                    }
                    Kind::Open { existed: true } => {
                        if ctx.verbose {
                            msg::info(&[b"append: ", &self.name, b"/current"]);
                        }
                        Step::Done
                    }
                }
            }
            Step::StartProcessor => {
                if let Some(cmd) = &self.cfg.processor {
                    let dup = dir
                        .try_clone()
                        .map_err(|e| ("unable to fork for processor", errno(&e)))?;
                    let job = Job::new(dup, &self.name, name, cmd);
                    self.processor = processor::start(job, ctx.verbose, ctx.now);
                }
                Step::Done
            }
            Step::Done => Step::Done,
        };
        Ok(Some(next))
    }

    /// runit's `rmoldest`: delete processor leftovers, and the oldest rotated file if there
    /// are more than `n`. `fresh` (just created) and pending processor files are spared.
    fn prune(&self, fresh: &[u8; 27], ctx: &Ctx) {
        let Some(dir) = &self.dir else { return };
        let names = match list(dir) {
            Ok(n) => n,
            Err(e) => {
                msg::warn("unable to read directory", &self.name, e);
                return;
            }
        };
        let mut count: u64 = 0;
        let mut oldest: Option<&[u8]> = None;
        for n in names.iter().filter(|n| is_rotated_name(n)) {
            let spared = n.as_slice() == fresh || self.processor.protects(n);
            if n[26] == b't' {
                if !spared {
                    if let Err(e) = unlinkat(dir, n) {
                        msg::warn("unable to unlink processor leftover", n, e);
                    }
                }
                continue;
            }
            count += 1;
            if !spared && oldest.is_none_or(|o| n.as_slice() < o) {
                oldest = Some(n);
            }
        }
        if self.cfg.nmax > 0 && count > self.cfg.nmax {
            if let Some(o) = oldest {
                // Unsent lines for a syslog target: kept while within the spool size.
                let unsent = self.forward.protects(o);
                if unsent && !self.spool_exceeded(dir, &names) {
                    return;
                }
                let size = if unsent { size_at(dir, o) } else { 0 };
                if ctx.verbose {
                    msg::info(&[b"delete: ", &self.name, b"/", o]);
                }
                match unlinkat(dir, o) {
                    Ok(()) if unsent => self.forward.lost(&self.name, o, size),
                    Ok(()) => {}
                    Err(e) => msg::warn("unable to unlink oldest logfile", &self.name, e),
                }
            }
        }
    }

    /// runit's disk-full rule: if `N` < `n` and more than `N` rotated files exist, delete the
    /// oldest (never a pending processor's file). Returns whether one was deleted.
    pub fn delete_for_space(&self) -> bool {
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
        let rotated: Vec<&Vec<u8>> = names.iter().filter(|n| is_rotated_name(n)).collect();
        let oldest = rotated
            .iter()
            .filter(|n| !self.processor.protects(n))
            .min()
            .copied();
        if (rotated.len() as u64) <= self.cfg.nmin {
            return false;
        }
        let Some(o) = oldest else { return false };
        msg::warnx(
            "out of disk space, delete",
            &[&self.name[..], b"/", o].concat(),
        );
        let unsent = self.forward.protects(o);
        let size = if unsent { size_at(dir, o) } else { 0 };
        match unlinkat(dir, o) {
            Ok(()) => {
                if unsent {
                    self.forward.lost(&self.name, o, size);
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

impl LogDir {
    /// Whether the rotated files that still hold unsent lines are more than `>spool` allows.
    fn spool_exceeded(&self, dir: &impl std::os::fd::AsFd, names: &[Vec<u8>]) -> bool {
        let max = self.forward.spool_max();
        if max == 0 {
            return false;
        }
        let total: u64 = names
            .iter()
            .filter(|n| is_rotated_name(n) && self.forward.protects(n))
            .map(|n| size_at(dir, n))
            .sum();
        total > max
    }
}

/// The size of `name` in `dir` (0 if it cannot be told).
fn size_at(dir: &impl std::os::fd::AsFd, name: &[u8]) -> u64 {
    statat(dir, name).map(|(_, s)| s).unwrap_or(0)
}

/// The inode of `name` in `dir` (0 if it cannot be told).
fn ino_at(dir: &impl std::os::fd::AsFd, name: &[u8]) -> u64 {
    use std::os::unix::fs::MetadataExt;
    openat(dir, name, libc::O_RDONLY | libc::O_NONBLOCK)
        .ok()
        .and_then(|fd| File::from(fd).metadata().ok())
        .map(|m| m.ino())
        .unwrap_or(0)
}

fn errno(e: &std::io::Error) -> i32 {
    supervise::strerr::errno_of(e)
}
