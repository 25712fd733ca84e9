//! Waiting on directories with inotify instead of polling.
//!
//! `sv -w` waits for a supervise directory to change, `svdeactivate` waits for runsv to exit,
//! and `w_log` follows a log directory. All of them block in `poll` on one inotify descriptor
//! with a deadline, and look at the events to decide whether to re-read the files they watch.

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, InotifyEvent, WatchDescriptor};
use std::os::fd::AsFd;
use std::path::Path;
use std::time::Duration;

/// One inotify instance, non-blocking and close-on-exec.
pub struct Watch {
    ino: Inotify,
}

/// The events that mean a supervise directory may show something new: a file renamed into
/// place (runsv and supervise write `status`, `stat`, `pid`, `ready` as `.new` + rename), a file
/// created or removed, and the supervisor closing its lock (it exited).
pub const SUPERVISE_MASK: AddWatchFlags = AddWatchFlags::IN_MOVED_TO
    .union(AddWatchFlags::IN_CREATE)
    .union(AddWatchFlags::IN_DELETE)
    .union(AddWatchFlags::IN_CLOSE_WRITE)
    .union(AddWatchFlags::IN_CLOSE_NOWRITE)
    .union(AddWatchFlags::IN_DELETE_SELF)
    .union(AddWatchFlags::IN_MOVE_SELF);

/// Whether an event on a supervise directory can change what a reader sees. The readers
/// themselves open `ok` for writing and `status` for reading; closing those must not wake
/// them again, so only the supervisor's closes count: the `lock` it holds for writing and the
/// `ok` FIFO it holds for reading (both close when it exits).
pub fn supervise_event_matters(ev: &InotifyEvent) -> bool {
    let name = ev.name.as_deref().map(|n| n.as_encoded_bytes());
    let m = ev.mask;
    if m.intersects(
        AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_DELETE
            | AddWatchFlags::IN_DELETE_SELF
            | AddWatchFlags::IN_MOVE_SELF
            | AddWatchFlags::IN_IGNORED
            | AddWatchFlags::IN_Q_OVERFLOW,
    ) {
        return true;
    }
    if m.contains(AddWatchFlags::IN_CLOSE_WRITE) {
        return matches!(name, Some(b"lock") | Some(b"status"));
    }
    if m.contains(AddWatchFlags::IN_CLOSE_NOWRITE) {
        return matches!(name, Some(b"ok") | Some(b"control"));
    }
    false
}

/// A poll timeout for `d`, rounded up to whole milliseconds so a short wait never becomes a
/// busy loop, and capped at what poll accepts.
pub fn poll_timeout(d: Option<Duration>) -> PollTimeout {
    match d {
        None => PollTimeout::NONE,
        Some(d) => {
            let ms = d.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32;
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
        }
    }
}

impl Watch {
    /// A new inotify instance.
    pub fn new() -> Result<Watch, Errno> {
        let ino = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        Ok(Watch { ino })
    }

    /// Watches `path` (following a symlink, as `supervise -> /run/...` needs) for `mask`.
    pub fn add(&self, path: &Path, mask: AddWatchFlags) -> Result<WatchDescriptor, Errno> {
        self.ino.add_watch(path, mask)
    }

    /// Stops watching.
    pub fn remove(&self, wd: WatchDescriptor) {
        let _ = self.ino.rm_watch(wd);
    }

    /// Waits at most `timeout` (for ever with `None`) for events and returns them all; an empty
    /// list means the time ran out.
    pub fn wait(&self, timeout: Option<Duration>) -> Result<Vec<InotifyEvent>, Errno> {
        let mut fds = [PollFd::new(self.ino.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, poll_timeout(timeout)) {
            Ok(0) => return Ok(Vec::new()),
            Ok(_) => {}
            Err(Errno::EINTR) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        }
        self.drain()
    }

    /// Reads every queued event without blocking.
    pub fn drain(&self) -> Result<Vec<InotifyEvent>, Errno> {
        let mut all = Vec::new();
        loop {
            match self.ino.read_events() {
                Ok(evs) if evs.is_empty() => break,
                Ok(evs) => all.extend(evs),
                Err(Errno::EAGAIN) => break,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_round_up() {
        assert_eq!(
            poll_timeout(Some(Duration::from_micros(300))).as_millis(),
            Some(1)
        );
        assert_eq!(poll_timeout(Some(Duration::ZERO)).as_millis(), Some(0));
        assert!(poll_timeout(None).is_none());
    }

    #[test]
    fn sees_a_rename_into_place() {
        let dir = std::env::temp_dir().join(format!("watch-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let w = Watch::new().unwrap();
        w.add(&dir, SUPERVISE_MASK).unwrap();
        assert!(w.wait(Some(Duration::from_millis(1))).unwrap().is_empty());
        std::fs::write(dir.join("status.new"), b"x").unwrap();
        std::fs::rename(dir.join("status.new"), dir.join("status")).unwrap();
        let evs = w.wait(Some(Duration::from_secs(5))).unwrap();
        assert!(evs.iter().any(supervise_event_matters));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
