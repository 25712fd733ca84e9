//! inotify for runsvdir: one instance, a watch on the services directory and one on each
//! service directory, read as a list of (watch, mask, name) events.

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
/// Events on a running service's directory: only a `log/` appearing matters.
pub const RUNNING_MASK: u32 = libc::IN_CREATE | libc::IN_MOVED_TO | libc::IN_ONLYDIR;

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
