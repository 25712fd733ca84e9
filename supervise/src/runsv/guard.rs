//! What keeps one runsv per service directory even when `supervise/` is removed or replaced
//! while it runs (issue 17 item 8): a lock on the service directory itself, which no removal
//! inside it can take away (honoured only when its holder is trusted: anyone who can read a
//! directory can flock it), and the test that the lock and FIFOs runsv holds are still the
//! ones `supervise/` names, so runsv can make them again.
//!
//! runit's tools never look at the directory lock; they still see `supervise/lock`, which
//! runsv holds as runit's does.

use nix::libc;
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Opens the directory `dir` and flocks it (exclusive, without waiting: a held lock fails
/// with EWOULDBLOCK).
pub fn lock_dir(dir: &Path) -> io::Result<OwnedFd> {
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: open with a NUL-terminated path; the fd is owned at once.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    loop {
        // SAFETY: flock on an fd we own.
        if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(fd);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// Whether a lock failure means another process holds the lock (rather than a file system
/// that has no flock on directories, such as NFS).
pub fn is_held(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EWOULDBLOCK))
}

/// The process holding an flock on `dir`, from `/proc/locks`, if it can be found.
pub fn holder(dir: &Path) -> Option<u32> {
    let m = fs::metadata(dir).ok()?;
    let dev = m.dev();
    let id = format!(
        "{:02x}:{:02x}:{}",
        libc::major(dev),
        libc::minor(dev),
        m.ino()
    );
    let text = fs::read_to_string("/proc/locks").ok()?;
    text.lines().filter(|l| !l.contains("->")).find_map(|l| {
        let f: Vec<&str> = l.split_ascii_whitespace().collect();
        // `N: FLOCK ADVISORY WRITE PID MAJ:MIN:INO START END`
        (f.get(1) == Some(&"FLOCK") && f.get(5) == Some(&id.as_str()))
            .then(|| f.get(4)?.parse().ok())
            .flatten()
    })
}

/// Whether a lock held by `pid` is to be honoured: its effective uid is this process's or
/// root's (a directory can be flocked by anyone who can read it).
pub fn trusted(pid: u32) -> bool {
    let Ok(text) = fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    let euid = text
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_ascii_whitespace().nth(1)?.parse::<u32>().ok());
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    euid.is_some_and(|u| u == me || u == 0)
}

/// Whether `path` (symbolic links followed) is the file `fd` has open.
pub fn same_file(path: &Path, fd: &OwnedFd) -> bool {
    let Ok(m) = fs::metadata(path) else {
        return false;
    };
    // SAFETY: fstat fills a zeroed stat buffer for an fd we hold.
    let st = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(fd.as_raw_fd(), &mut st) != 0 {
            return false;
        }
        st
    };
    m.dev() == st.st_dev && m.ino() == st.st_ino
}

/// Whether the directory this process works in has been removed (its link count is 0), so
/// nothing should be made in it again.
pub fn cwd_removed() -> bool {
    fs::metadata(".").map_or(true, |m| m.nlink() == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locked_directory_names_its_holder_and_refuses_a_second_lock() {
        let d = std::env::temp_dir().join(format!("guard-test-{}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        let held = lock_dir(&d).unwrap();
        assert_eq!(holder(&d), Some(std::process::id()));
        assert!(trusted(std::process::id()));
        // flock locks belong to the open file: a second open of the directory conflicts.
        let e = lock_dir(&d).unwrap_err();
        assert!(is_held(&e), "{e}");
        let f = d.join("f");
        fs::write(&f, "x").unwrap();
        let file = fs::File::open(&f).unwrap();
        let file: OwnedFd = file.into();
        assert!(same_file(&f, &file));
        fs::remove_file(&f).unwrap();
        fs::write(&f, "y").unwrap();
        assert!(!same_file(&f, &file), "a new file by the old name");
        drop(held);
        assert!(lock_dir(&d).is_ok());
        fs::remove_dir_all(&d).unwrap();
    }
}
