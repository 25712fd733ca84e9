//! `autoreload`: a directory is reloaded when its `config` changes, as if svlogd had got a
//! HUP, but for that directory alone.
//!
//! One inotify instance watches every such directory for a file named `config` being closed
//! after writing, created, moved in or out, or deleted (an editor that writes a new file and
//! renames it over the old one is seen as well). A change arms a deadline [`DEBOUNCE`] later,
//! pushed back by every further change, so a file written in several goes is read once, when
//! the writing has stopped. The reload is the HUP sequence for the directory: close it
//! (`current` is fsynced and marked u+x), open it again, reading `config`; a processor that
//! runs, rotated files waiting for it and the counters are kept.
//!
//! The watch is on the directory itself (through its descriptor), so it follows the
//! directory if it is renamed; a `config` that is a symbolic link is watched as the link.

use formats::strerr::errno_of;
use nix::libc;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;
use sys::inotify::{Inotify, WatchDescriptor};

/// How long `config` must stay unchanged before it is read.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// The inotify instance and which watch is which directory.
#[derive(Debug)]
pub struct Watcher {
    inotify: Inotify,
    /// (watch, index of the directory in the logger's list).
    watches: Vec<(WatchDescriptor, usize)>,
}

/// `config` closed after writing, created, moved in or out, or deleted.
const MASK: u32 = libc::IN_CLOSE_WRITE
    | libc::IN_CREATE
    | libc::IN_MOVED_TO
    | libc::IN_MOVED_FROM
    | libc::IN_DELETE
    | libc::IN_ONLYDIR;

impl Watcher {
    /// A new instance, or `None` (with a warning) if the system refuses one.
    pub fn new() -> Option<Watcher> {
        match Inotify::new() {
            Ok(inotify) => Some(Watcher {
                inotify,
                watches: Vec::new(),
            }),
            Err(e) => {
                crate::msg::warn1("unable to watch config files", errno_of(&e));
                None
            }
        }
    }

    /// Watches the directory open as `dir` for directory number `index`.
    pub fn watch(&mut self, dir: BorrowedFd<'_>, index: usize, name: &[u8]) {
        self.unwatch(index);
        match self.inotify.add_dir(dir, MASK) {
            Ok(wd) => self.watches.push((wd, index)),
            Err(e) => crate::msg::warn("unable to watch config", name, errno_of(&e)),
        }
    }

    /// Stops watching directory number `index`.
    pub fn unwatch(&mut self, index: usize) {
        if let Some(k) = self.watches.iter().position(|w| w.1 == index) {
            let (wd, _) = self.watches.remove(k);
            // Another directory may share the watch (the same directory named twice).
            if !self.watches.iter().any(|w| w.0 == wd) {
                self.inotify.remove(wd);
            }
        }
    }

    /// Whether any directory is watched.
    pub fn is_empty(&self) -> bool {
        self.watches.is_empty()
    }

    /// The descriptor to poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.inotify.as_fd()
    }

    /// Reads pending events; returns the indexes of directories whose `config` changed.
    /// Never inlined: the read buffer (4 KiB) stays out of the main loop's frame.
    #[inline(never)]
    pub fn changed(&mut self) -> Vec<usize> {
        let mut events = Vec::new();
        self.inotify.read(&mut events);
        let mut out = Vec::new();
        for ev in events {
            if ev.mask & libc::IN_IGNORED != 0 {
                self.watches.retain(|w| w.0 != ev.wd);
                continue;
            }
            if ev.name == "config" {
                for &(wd, i) in &self.watches {
                    if wd == ev.wd && !out.contains(&i) {
                        out.push(i);
                    }
                }
            }
        }
        out
    }
}
