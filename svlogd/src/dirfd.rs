//! File operations relative to a directory descriptor. svlogd never changes its own working
//! directory (runit `fchdir`ed back and forth); every file of a log directory is reached
//! through the directory's descriptor. Errors are plain errno values, for runit's messages.

use nix::libc;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

fn cpath(name: &[u8]) -> CString {
    CString::new(name.to_vec()).expect("file names here have no NUL")
}

/// `openat(dir, name, flags | O_CLOEXEC | O_NOFOLLOW, 0600)`: a file of a log directory. A
/// symbolic link planted under the name is never followed (it fails with ELOOP), so svlogd
/// does not write into, create in or read from another directory through it.
pub fn openat(dir: &impl AsFd, name: &[u8], flags: i32) -> Result<OwnedFd, i32> {
    openat_follow(dir, name, flags | libc::O_NOFOLLOW)
}

/// `openat(dir, name, flags | O_CLOEXEC, 0600)`, following a symbolic link: only for what an
/// admin may link on purpose, the log directory itself and its `config`.
pub fn openat_follow(dir: &impl AsFd, name: &[u8], flags: i32) -> Result<OwnedFd, i32> {
    let p = cpath(name);
    // SAFETY: plain syscall on a valid fd and C string.
    let fd = unsafe {
        libc::openat(
            dir.as_fd().as_raw_fd(),
            p.as_ptr(),
            flags | libc::O_CLOEXEC,
            0o600,
        )
    };
    if fd < 0 {
        return Err(nix::errno::Errno::last_raw());
    }
    // SAFETY: fd was just opened and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Whether `name` in `dir` is a symbolic link.
pub fn is_link(dir: &impl AsFd, name: &[u8]) -> bool {
    metaat(dir, name).is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFLNK)
}

/// Whether `name` in `dir` is a regular file (not a link to one).
pub fn is_file(dir: &impl AsFd, name: &[u8]) -> bool {
    metaat(dir, name).is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFREG)
}

/// `renameat(dir, from, dir, to)`.
pub fn renameat(dir: &impl AsFd, from: &[u8], to: &[u8]) -> Result<(), i32> {
    let (a, b) = (cpath(from), cpath(to));
    let d = dir.as_fd().as_raw_fd();
    // SAFETY: plain syscall.
    if unsafe { libc::renameat(d, a.as_ptr(), d, b.as_ptr()) } < 0 {
        return Err(nix::errno::Errno::last_raw());
    }
    Ok(())
}

/// `unlinkat(dir, name, 0)`.
pub fn unlinkat(dir: &impl AsFd, name: &[u8]) -> Result<(), i32> {
    let p = cpath(name);
    // SAFETY: plain syscall.
    if unsafe { libc::unlinkat(dir.as_fd().as_raw_fd(), p.as_ptr(), 0) } < 0 {
        return Err(nix::errno::Errno::last_raw());
    }
    Ok(())
}

/// `fchmodat(dir, name, mode, 0)`.
pub fn chmodat(dir: &impl AsFd, name: &[u8], mode: u32) -> Result<(), i32> {
    let p = cpath(name);
    // SAFETY: plain syscall.
    if unsafe { libc::fchmodat(dir.as_fd().as_raw_fd(), p.as_ptr(), mode, 0) } < 0 {
        return Err(nix::errno::Errno::last_raw());
    }
    Ok(())
}

/// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`: the file's mode and size, or the errno.
pub fn statat(dir: &impl AsFd, name: &[u8]) -> Result<(u32, u64), i32> {
    metaat(dir, name).map(|st| (st.st_mode, st.st_size as u64))
}

/// The names in the directory (`.` and `..` left out), or the errno of opening or reading it.
pub fn list(dir: &impl AsFd) -> Result<Vec<Vec<u8>>, i32> {
    let fd = openat(dir, b".", libc::O_RDONLY | libc::O_DIRECTORY)?;
    let mut d = nix::dir::Dir::from_fd(fd).map_err(|e| e as i32)?;
    let mut names = Vec::new();
    for entry in d.iter() {
        let entry = entry.map_err(|e| e as i32)?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(name.to_vec());
        }
    }
    Ok(names)
}

/// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`: the whole `stat` (of a link itself, not of
/// what it points to), or the errno.
pub fn metaat(dir: &impl AsFd, name: &[u8]) -> Result<libc::stat, i32> {
    let p = cpath(name);
    // SAFETY: plain syscall into a zeroed stat buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let flags = libc::AT_SYMLINK_NOFOLLOW;
    if unsafe { libc::fstatat(dir.as_fd().as_raw_fd(), p.as_ptr(), &mut st, flags) } < 0 {
        return Err(nix::errno::Errno::last_raw());
    }
    Ok(st)
}

/// Whether the open directory `dir` was removed (`fstat` shows no links left).
pub fn removed(dir: &OwnedFd) -> bool {
    // SAFETY: plain syscall into a zeroed stat buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    (unsafe { libc::fstat(dir.as_raw_fd(), &mut st) }) == 0 && st.st_nlink == 0
}

/// Removes a symbolic link planted as `name` in the log directory `dirname`, with a warning
/// (svlogd creates and writes that file; following the link would write elsewhere).
pub fn remove_link(dir: &OwnedFd, dirname: &[u8], name: &[u8]) {
    if is_link(dir, name) {
        let what = [dirname, b"/", name].concat();
        match unlinkat(dir, name) {
            Ok(()) => crate::msg::warnx("symbolic link removed", &what),
            Err(e) => crate::msg::warn("unable to remove symbolic link", &what, e),
        }
    }
}

/// The open directory's modification time, which every change of its entries moves
/// (`(0, 0)` if it cannot be told: the census then never matches).
pub fn mtime(dir: &impl AsFd) -> (i64, i64) {
    match nix::sys::stat::fstat(dir.as_fd()) {
        Ok(st) => (st.st_mtime, st.st_mtime_nsec),
        Err(_) => (0, 0),
    }
}
