//! Waiting on directories with inotify instead of polling (`sys::inotify`).
//!
//! `sv -w` waits for a supervise directory to change, `svdeactivate` waits for runsv to exit,
//! and `w_log` follows a log directory. All of them block in `poll` on one inotify descriptor
//! with a deadline, and look at the events to decide whether to re-read the files they watch.

use nix::libc;
pub use sys::inotify::{Event, Inotify as Watch};

/// The events that mean a supervise directory may show something new: a file renamed into
/// place (runsv and supervise write `status`, `stat`, `pid`, `ready` as `.new` + rename), a file
/// created or removed, and the supervisor closing its lock (it exited).
pub const SUPERVISE_MASK: u32 = libc::IN_MOVED_TO
    | libc::IN_CREATE
    | libc::IN_DELETE
    | libc::IN_CLOSE_WRITE
    | libc::IN_CLOSE_NOWRITE
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF;

/// Whether an event on a supervise directory can change what a reader sees. The readers
/// themselves open `ok` for writing and `status` for reading; closing those must not wake
/// them again, so only the supervisor's closes count: the `lock` it holds for writing and the
/// `ok` FIFO it holds for reading (both close when it exits).
pub fn supervise_event_matters(ev: &Event) -> bool {
    let name = ev.name.as_encoded_bytes();
    let m = ev.mask;
    if m & (libc::IN_MOVED_TO
        | libc::IN_CREATE
        | libc::IN_DELETE
        | libc::IN_DELETE_SELF
        | libc::IN_MOVE_SELF
        | libc::IN_IGNORED
        | libc::IN_Q_OVERFLOW)
        != 0
    {
        return true;
    }
    if m & libc::IN_CLOSE_WRITE != 0 {
        return matches!(name, b"lock" | b"status");
    }
    if m & libc::IN_CLOSE_NOWRITE != 0 {
        return matches!(name, b"ok" | b"control");
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
