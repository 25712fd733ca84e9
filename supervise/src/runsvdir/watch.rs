//! What runsvdir watches with inotify (`sys::inotify`): the masks for the services directory
//! and for each service directory, what the events mean, the words for inotify's limits; and
//! what runsvdir falls back to when inotify is not available: runit's test of the directory's
//! modification time, inode and device ([`DirStamp`]).

use nix::libc;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
pub use sys::inotify::{Event, Inotify};

/// Events on the services directory: entries appearing, going, renamed; the directory itself
/// replaced.
pub const DIR_MASK: u32 = libc::IN_CREATE
    | libc::IN_DELETE
    | libc::IN_MOVED_FROM
    | libc::IN_MOVED_TO
    | libc::IN_ATTRIB
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF
    | libc::IN_ONLYDIR;
/// Events on a service directory still being populated: anything written or added.
pub const NEW_SERVICE_MASK: u32 = libc::IN_CREATE
    | libc::IN_MOVED_TO
    | libc::IN_ATTRIB
    | libc::IN_CLOSE_WRITE
    | libc::IN_DELETE
    | libc::IN_MOVED_FROM
    | libc::IN_ONLYDIR;
/// Events on a running service's directory: a `log/` appearing, and `supervise` removed,
/// renamed or made (runsv is then told to look at it).
pub const RUNNING_MASK: u32 =
    libc::IN_CREATE | libc::IN_MOVED_TO | libc::IN_DELETE | libc::IN_MOVED_FROM | libc::IN_ONLYDIR;

/// Whether an event names the `log` directory appearing.
pub fn is_log_created(ev: &Event) -> bool {
    ev.name.as_bytes() == b"log" && ev.mask & (libc::IN_CREATE | libc::IN_MOVED_TO) != 0
}

/// Whether an event names `supervise` removed, renamed away, made or moved in.
pub fn is_supervise_changed(ev: &Event) -> bool {
    ev.name.as_bytes() == b"supervise"
        && ev.mask & (libc::IN_CREATE | libc::IN_MOVED_TO | libc::IN_DELETE | libc::IN_MOVED_FROM)
            != 0
}

/// Why `inotify_init1` failed, naming the limit that was reached: EMFILE means either the
/// per-user limit on inotify instances or the process's own limit on open files, told apart
/// by opening one more file.
pub fn init_error(e: &io::Error) -> String {
    if e.raw_os_error() == Some(libc::EMFILE) && std::fs::File::open("/dev/null").is_ok() {
        return "the limit on inotify instances per user is reached \
                (fs.inotify.max_user_instances)"
            .into();
    }
    formats::strerr::ioerr(e)
}

/// Why `inotify_add_watch` failed, naming the limit that was reached (ENOSPC is the per-user
/// limit on watches, not a full disk).
pub fn watch_error(e: &io::Error) -> String {
    if e.raw_os_error() == Some(libc::ENOSPC) {
        return "the limit on inotify watches per user is reached (fs.inotify.max_user_watches)"
            .into();
    }
    formats::strerr::ioerr(e)
}

/// What runit compares to see that the services directory changed: its modification time
/// (here to the nanosecond), inode and device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirStamp {
    mtime: i64,
    mtime_ns: i64,
    ino: u64,
    dev: u64,
}

impl DirStamp {
    /// The stamp of `path` now (symbolic links followed).
    pub fn of(path: &Path) -> io::Result<DirStamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path)?;
        Ok(DirStamp {
            mtime: m.mtime(),
            mtime_ns: m.mtime_nsec(),
            ino: m.ino(),
            dev: m.dev(),
        })
    }

    /// Whether the modification time is less than a second old: file systems stamp changes
    /// from a coarse clock, so a change made just after this stamp was taken may have left the
    /// same time, and the next look must scan anyway (runit sleeps a second for this).
    pub fn recent(&self) -> bool {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        self.mtime >= now - 1
    }
}
