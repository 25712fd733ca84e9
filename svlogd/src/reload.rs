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

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::Duration;

/// How long `config` must stay unchanged before it is read.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// The inotify instance and which watch is which directory.
#[derive(Debug)]
pub struct Watcher {
    inotify: Inotify,
    /// (watch, index of the directory in the logger's list).
    watches: Vec<(WatchDescriptor, usize)>,
}

impl Watcher {
    /// A new instance, or `None` (with a warning) if the system refuses one.
    pub fn new() -> Option<Watcher> {
        match Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC) {
            Ok(inotify) => Some(Watcher {
                inotify,
                watches: Vec::new(),
            }),
            Err(e) => {
                crate::msg::warn1("unable to watch config files", e as i32);
                None
            }
        }
    }

    /// Watches the directory open as `dir` for directory number `index`.
    pub fn watch(&mut self, dir: BorrowedFd<'_>, index: usize, name: &[u8]) {
        self.unwatch(index);
        let path = format!("/proc/self/fd/{}", dir.as_raw_fd());
        let mask = AddWatchFlags::IN_CLOSE_WRITE
            | AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_MOVED_FROM
            | AddWatchFlags::IN_DELETE
            | AddWatchFlags::IN_ONLYDIR;
        match self.inotify.add_watch(path.as_str(), mask) {
            Ok(wd) => self.watches.push((wd, index)),
            Err(e) => crate::msg::warn("unable to watch config", name, e as i32),
        }
    }

    /// Stops watching directory number `index`.
    pub fn unwatch(&mut self, index: usize) {
        if let Some(k) = self.watches.iter().position(|w| w.1 == index) {
            let (wd, _) = self.watches.remove(k);
            // Another directory may share the watch (the same directory named twice).
            if !self.watches.iter().any(|w| w.0 == wd) {
                let _ = self.inotify.rm_watch(wd);
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
    pub fn changed(&mut self) -> Vec<usize> {
        let mut out = Vec::new();
        while let Ok(events) = self.inotify.read_events() {
            if events.is_empty() {
                break;
            }
            for ev in events {
                if ev.mask.contains(AddWatchFlags::IN_IGNORED) {
                    self.watches.retain(|w| w.0 != ev.wd);
                    continue;
                }
                if ev.name.as_deref().is_some_and(|n| n == "config") {
                    for &(wd, i) in &self.watches {
                        if wd == ev.wd && !out.contains(&i) {
                            out.push(i);
                        }
                    }
                }
            }
        }
        out
    }
}
