//! inotify, for everything that waits on directories instead of polling them: runsvdir its
//! services directory, `sv -w` and `svdeactivate` a `supervise/` directory, `w_log` a log
//! directory, svlogd a `config` (`autoreload`). One instance, non-blocking and
//! close-on-exec; masks and events as the kernel's `IN_*` bits.

pub use nix::sys::inotify::WatchDescriptor;
use nix::sys::inotify::{AddWatchFlags, InitFlags};
use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;
use std::time::Duration;

/// One event.
#[derive(Debug, Clone)]
pub struct Event {
    /// The watch it came from.
    pub wd: WatchDescriptor,
    /// The event bits (`IN_*`).
    pub mask: u32,
    /// The entry's name inside the watched directory (empty for the directory itself).
    pub name: OsString,
}

/// An inotify instance.
#[derive(Debug)]
pub struct Inotify {
    ino: nix::sys::inotify::Inotify,
}

fn io_err(e: nix::errno::Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

impl Inotify {
    /// A new instance; EMFILE when the user's instances (`fs.inotify.max_user_instances`) or
    /// the process's files are used up.
    pub fn new() -> io::Result<Inotify> {
        nix::sys::inotify::Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
            .map(|ino| Inotify { ino })
            .map_err(io_err)
    }

    /// Adds (or changes the mask of) a watch on `path`, following symbolic links; ENOSPC when
    /// the user's watches (`fs.inotify.max_user_watches`) are used up.
    pub fn add(&self, path: &Path, mask: u32) -> io::Result<WatchDescriptor> {
        self.ino
            .add_watch(path, AddWatchFlags::from_bits_truncate(mask))
            .map_err(io_err)
    }

    /// Watches the directory open as `dir` (through `/proc/self/fd`, so the watch follows the
    /// directory wherever it is renamed).
    pub fn add_dir(&self, dir: BorrowedFd<'_>, mask: u32) -> io::Result<WatchDescriptor> {
        self.add(
            Path::new(&format!("/proc/self/fd/{}", dir.as_raw_fd())),
            mask,
        )
    }

    /// Removes a watch (errors ignored: the directory may be gone already).
    pub fn remove(&self, wd: WatchDescriptor) {
        let _ = self.ino.rm_watch(wd);
    }

    /// Reads every queued event into `out`, without blocking.
    pub fn read(&self, out: &mut Vec<Event>) {
        loop {
            match self.ino.read_events() {
                Ok(evs) if !evs.is_empty() => out.extend(evs.into_iter().map(|e| Event {
                    wd: e.wd,
                    mask: e.mask.bits(),
                    name: e.name.unwrap_or_default(),
                })),
                Err(nix::errno::Errno::EINTR) => {}
                _ => return,
            }
        }
    }

    /// Waits at most `timeout` (for ever with `None`) for events and returns them all; an
    /// empty list means the time ran out.
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<Vec<Event>> {
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        let ready = crate::poll::wait([Some(self.as_fd())], deadline)?;
        let mut out = Vec::new();
        if ready[0] {
            self.read(&mut out);
        }
        Ok(out)
    }
}

impl AsFd for Inotify {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.ino.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_a_rename_into_place() {
        let dir = std::env::temp_dir().join(format!("sys-inotify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ino = Inotify::new().unwrap();
        let wd = ino.add(&dir, nix::libc::IN_MOVED_TO).unwrap();
        assert!(ino.wait(Some(Duration::from_millis(1))).unwrap().is_empty());
        std::fs::write(dir.join("status.new"), b"x").unwrap();
        std::fs::rename(dir.join("status.new"), dir.join("status")).unwrap();
        let evs = ino.wait(Some(Duration::from_secs(5))).unwrap();
        assert!(evs
            .iter()
            .any(|e| e.wd == wd && e.name == "status" && e.mask & nix::libc::IN_MOVED_TO != 0));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
