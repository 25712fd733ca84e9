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
//! Names come from `archive::next_label`: never smaller than a name already in the
//! directory, so the order of the files is the order they were made in, whatever the clock
//! does. Pruning (`prune`) runs after the rename: the file this rotation just created and every
//! file of a pending processor job are never chosen (spec §12 item 9). After each rename the
//! directory itself is fsynced (spec §12 item 11).
//!
//! With a processor, a rotation no longer waits for the previous run to finish: the new `.u`
//! joins a queue of at most `queue` files (default 4), which the processor works through in
//! order. Only a full queue makes the rotation wait, as runit's always did (`queue 0` restores
//! that). Every queued file is protected from pruning; a queued or unfinished `.u` left by a
//! crash is taken up again when the directory is opened (see `LogDir::survey`).

use crate::archive::{next_label, short_name};
use crate::dirfd::{openat, renameat, statat};
use crate::faults;
use crate::logdir::{Ctx, LogDir};
use crate::msg;
use crate::processor::Job;
use nix::libc;
use std::fs::File;
use std::os::unix::fs::PermissionsExt;

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
                    self.pause(what, errno);
                    return self.failed(ctx);
                }
            };
            if next == Step::Done {
                self.rotation = None;
                if kind == Kind::Rotate {
                    self.rotated(name, ctx);
                }
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
                // With a processor, wait only while the queue is full.
                if self.cfg.processor.is_some()
                    && self.processor.busy()
                    && self.queue.len() >= self.cfg.extras.queue
                {
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
                    let label = next_label(crate::stamp::clock_now(), self.newest);
                    self.newest = Some(label);
                    let n = short_name(&label, suffix);
                    // Taken (by any suffix): the next label. Any other failure: take the name
                    // and let the rename say what is wrong.
                    if statat(dir, &n).is_err() && statat(dir, &[&n[..], b".gz"].concat()).is_err()
                    {
                        break n;
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
                if kind == Kind::Rotate {
                    faults::hit("rotate-renamed");
                }
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
                self.prune(Some(&name), ctx);
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
                self.line_open = false;
                self.open_bytes = 0;
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
                    self.queue.push_back(Job::new(dup, &self.name, name, cmd));
                }
                Step::Done
            }
            Step::Done => Step::Done,
        };
        Ok(Some(next))
    }
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
