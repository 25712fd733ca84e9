//! inotify for runsvdir: one instance, a watch on the services directory and one on each
//! service directory, read as a list of (watch, mask, name) events; and what runsvdir falls
//! back to when inotify is not available: runit's test of the directory's modification time,
//! inode and device ([`DirStamp`]).

use nix::libc;
use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

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

/// One event.
#[derive(Debug)]
pub struct Event {
    /// The watch it came from (-1 for a queue overflow).
    pub wd: i32,
    /// The event bits.
    pub mask: u32,
    /// The entry's name inside the watched directory (empty for the directory itself).
    pub name: OsString,
}

/// An inotify instance (non-blocking, close-on-exec).
pub struct Inotify {
    fd: OwnedFd,
}

impl Inotify {
    /// Creates the instance.
    pub fn new() -> io::Result<Inotify> {
        // SAFETY: a new fd owned at once.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Inotify {
            // SAFETY: fresh fd.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Adds (or changes the mask of) a watch on `path`, following symlinks.
    pub fn add(&self, path: &Path, mask: u32) -> io::Result<i32> {
        let c = crate::spawn::cstring(path);
        // SAFETY: a NUL-terminated path.
        let wd = unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), c.as_ptr(), mask) };
        if wd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(wd)
    }

    /// Removes a watch (errors ignored: the directory may be gone already).
    pub fn remove(&self, wd: i32) {
        // SAFETY: plain syscall.
        unsafe {
            libc::inotify_rm_watch(self.fd.as_raw_fd(), wd);
        }
    }

    /// Reads every queued event.
    pub fn read(&self, out: &mut Vec<Event>) {
        let mut buf = [0u8; 4096];
        loop {
            let n = match nix::unistd::read(&self.fd, &mut buf) {
                Ok(n) if n > 0 => n,
                _ => return,
            };
            let mut off = 0;
            let head = std::mem::size_of::<libc::inotify_event>();
            while off + head <= n {
                // SAFETY: the kernel writes whole inotify_event records; read_unaligned copes
                // with the byte buffer's alignment.
                let ev: libc::inotify_event =
                    unsafe { std::ptr::read_unaligned(buf.as_ptr().add(off) as *const _) };
                let name_start = off + head;
                let name_end = (name_start + ev.len as usize).min(n);
                let raw = &buf[name_start..name_end];
                let name = raw.split(|&b| b == 0).next().unwrap_or(&[]);
                out.push(Event {
                    wd: ev.wd,
                    mask: ev.mask,
                    name: OsString::from_vec(name.to_vec()),
                });
                off = name_end;
            }
        }
    }
}

impl AsFd for Inotify {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

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
