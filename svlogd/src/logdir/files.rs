//! The rotation's effects on a log directory's files: what each step of `rotate` does to
//! `current`, the archives and the processor queue, with runit's messages.

use super::{Ctx, LogDir};
use crate::faults;
use crate::msg;
use crate::processor::Job;
use crate::rotate::{Effects, Failure, Kind};
use formats::archive::{next_label, short_name};
use formats::strerr::errno_of;
use nix::libc;
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use sys::dirfd::{openat, renameat, statat};

/// A directory in the middle of a rotation, with the logger's view of this turn.
pub(super) struct Files<'a> {
    pub(super) d: &'a mut LogDir,
    pub(super) ctx: &'a Ctx,
}

impl Files<'_> {
    fn dir(&self) -> &std::os::fd::OwnedFd {
        self.d
            .dir
            .as_ref()
            .expect("a rotation runs on an open directory")
    }
}

impl Effects for Files<'_> {
    fn has_processor(&self) -> bool {
        self.d.cfg.processor.is_some()
    }

    fn processor_full(&self) -> bool {
        self.d.processor.busy() && self.d.queue.len() >= self.d.cfg.extras.queue
    }

    fn pick_name(&mut self, letter: u8) -> [u8; 27] {
        loop {
            let label = next_label(crate::faults::clock_now(), self.d.newest);
            self.d.newest = Some(label);
            let n = short_name(&label, letter);
            // Taken (by any suffix): the next label. Any other failure: take the name and let
            // the rename say what is wrong.
            let dir = self.dir();
            if statat(dir, &n).is_err() && statat(dir, &[&n[..], b".gz"].concat()).is_err() {
                return n;
            }
        }
    }

    fn sync_current(&mut self) -> Result<(), Failure> {
        if let Some(f) = &self.d.current {
            f.sync_all()
                .map_err(|e| ("unable to fsync current logfile", errno_of(&e)))?;
        }
        Ok(())
    }

    fn close_current(&mut self, name: &[u8; 27]) -> Result<(), Failure> {
        if let Some(f) = &self.d.current {
            f.set_permissions(std::fs::Permissions::from_mode(0o744))
                .map_err(|e| ("unable to set mode of current", errno_of(&e)))?;
        }
        self.d.current = None;
        if self.ctx.verbose {
            let size = format!(" {}", self.d.size);
            msg::info(&[
                b"rename: ",
                &self.d.name,
                b"/current ",
                name,
                size.as_bytes(),
            ]);
        }
        Ok(())
    }

    fn rename_current(&mut self, name: &[u8; 27], kind: Kind) -> Result<(), Failure> {
        if kind == Kind::Recover {
            self.d.fragment =
                unfinished_tail(self.dir(), self.d.size_on_disk()).map(|(keep, bytes)| {
                    super::Fragment {
                        name: *name,
                        keep,
                        bytes,
                    }
                });
        }
        let ino = if self.d.add.wants_inode() {
            ino_at(self.dir(), b"current")
        } else {
            0
        };
        self.d
            .own_change(|dir| renameat(dir, b"current", name))
            .map_err(|e| ("unable to rename current", e))?;
        self.d.add.renamed(ino, name);
        self.d.archived(name, self.d.size, self.ctx.now);
        self.d.size = 0;
        if kind == Kind::Rotate {
            faults::hit("rotate-renamed");
        }
        Ok(())
    }

    fn sync_dir(&mut self) {
        let _ = nix::unistd::fsync(self.dir());
    }

    fn prune(&mut self, fresh: &[u8; 27]) {
        self.d.prune(Some(fresh), self.ctx);
    }

    fn create_current(&mut self, kind: Kind) -> Result<(), Failure> {
        let what = match kind {
            Kind::Rotate => "unable to create new current",
            _ => "unable to open current",
        };
        let fd = self
            .d
            .own_change(|dir| {
                openat(
                    dir,
                    b"current",
                    libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_NONBLOCK,
                )
            })
            .map_err(|e| (what, e))?;
        let file = File::from(fd);
        self.d.add.current_opened(&file);
        self.d.current = Some(file);
        self.d.line_open = false;
        self.d.open_bytes = 0;
        Ok(())
    }

    fn chmod_new(&mut self) -> Result<(), Failure> {
        if let Some(f) = &self.d.current {
            f.set_permissions(std::fs::Permissions::from_mode(0o644))
                .map_err(|e| ("unable to set mode of current", errno_of(&e)))?;
        }
        Ok(())
    }

    fn queue_processor(&mut self, name: &[u8; 27]) -> Result<(), Failure> {
        let Some(cmd) = &self.d.cfg.processor else {
            return Ok(());
        };
        let dup = self
            .dir()
            .try_clone()
            .map_err(|e| ("unable to fork for processor", errno_of(&e)))?;
        self.d
            .queue
            .push_back(Job::new(dup, &self.d.name, *name, cmd));
        Ok(())
    }

    fn announce(&mut self, kind: Kind) {
        if self.ctx.verbose {
            let word: &[u8] = match kind {
                Kind::Open { existed: true } => b"append: ",
                _ => b"new: ",
            };
            msg::info(&[word, &self.d.name, b"/current"]);
        }
    }
}

/// The unfinished last line of a `current` a crash left behind: where it starts and its
/// bytes, when the file does not end with a newline and the line is no longer than
/// [`super::FRAGMENT_MAX`].
fn unfinished_tail(dir: &std::os::fd::OwnedFd, size: u64) -> Option<(u64, Vec<u8>)> {
    use std::os::unix::fs::FileExt;
    let f = File::from(openat(dir, b"current", libc::O_RDONLY | libc::O_NONBLOCK).ok()?);
    let take = size.min(super::FRAGMENT_MAX as u64 + 1);
    let mut tail = vec![0u8; take as usize];
    f.read_exact_at(&mut tail, size - take).ok()?;
    if tail.last() == Some(&b'\n') {
        return None;
    }
    let start = match memchr::memrchr(b'\n', &tail) {
        Some(i) => i + 1,
        None if take == size => 0,
        None => return None,
    };
    Some((size - take + start as u64, tail[start..].to_vec()))
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
