//! runsv's set-up of a service directory's `supervise/` (`spec/supervise.md` §2.1, §2.4):
//! runit's one-level `supervise` symlink rule, the `lock` file and the FIFOs. The names are
//! `formats::svdir`'s.

use formats::svdir::SUPERVISE;
use nix::libc;
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// A failure during set-up, carrying the errno and what was being done (runsv words it).
#[derive(Debug)]
pub struct SetupError {
    /// runit's wording of the step (`unable to open supervise/lock`).
    pub what: String,
    /// The errno, or `None` for a failure with its own text (`what` then says it all).
    pub errno: Option<i32>,
}

impl SetupError {
    fn io(what: String, e: &io::Error) -> SetupError {
        SetupError {
            what,
            errno: Some(e.raw_os_error().unwrap_or(libc::EIO)),
        }
    }
}

/// Creates `base/supervise` (mode 0700) as runsv does: if it exists as a symlink, even a
/// dangling one, the target is created one level deep (a relative target resolves against
/// `base`). `display` is how runit names the directory in messages (`./supervise`,
/// `./log/supervise`).
pub fn make_supervise(base: &Path, display: &str) -> Result<(), SetupError> {
    let dir = base.join(SUPERVISE);
    if fs::DirBuilder::new().mode(0o700).create(&dir).is_ok() {
        return Ok(());
    }
    match fs::read_link(&dir) {
        Ok(target) => {
            if target.as_os_str().len() >= 256 {
                return Err(SetupError {
                    what: format!("unable to readlink {display}: name too long"),
                    errno: None,
                });
            }
            // One level only, as runit. runit ignores a failure here and then fails to open
            // the lock inside; saying which directory could not be made is clearer.
            let full = base.join(&target);
            match fs::DirBuilder::new().mode(0o700).create(&full) {
                Ok(()) => Ok(()),
                // Something is there: the lock's open says what is wrong with it, as in runit
                // (a loop, a file where the directory should be).
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists || full.is_dir() => Ok(()),
                Err(e) => Err(SetupError::io(
                    format!("unable to create {display} -> {}", target.display()),
                    &e,
                )),
            }
        }
        Err(e) => match e.raw_os_error() {
            Some(libc::ENOENT) | Some(libc::EINVAL) => Ok(()),
            _ => Err(SetupError::io(format!("unable to readlink {display}"), &e)),
        },
    }
}

/// Opens (creating, mode 0600) and flocks a lock file; `blocking` waits for the lock,
/// otherwise a held lock fails with EAGAIN ("temporary failure").
pub fn lock(path: &Path, blocking: bool) -> io::Result<OwnedFd> {
    let f = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    let op = if blocking {
        libc::LOCK_EX
    } else {
        libc::LOCK_EX | libc::LOCK_NB
    };
    loop {
        // SAFETY: flock on an fd we own.
        if unsafe { libc::flock(f.as_raw_fd(), op) } == 0 {
            return Ok(f.into());
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// Creates a FIFO (mode 0600 minus umask) unless something already has that name.
pub fn make_fifo(path: &Path) -> io::Result<()> {
    match nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600)) {
        Ok(()) | Err(nix::errno::Errno::EEXIST) => Ok(()),
        Err(e) => Err(io::Error::from_raw_os_error(e as i32)),
    }
}

/// Whether `path` is a FIFO (following symlinks).
pub fn is_fifo(path: &Path) -> io::Result<bool> {
    Ok(fs::metadata(path)?.file_type().is_fifo())
}

/// Opens a FIFO non-blocking and close-on-exec, for reading or for writing.
pub fn open_fifo(path: &Path, write: bool) -> io::Result<OwnedFd> {
    let f = fs::OpenOptions::new()
        .read(!write)
        .write(write)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    Ok(f.into())
}

/// A pipe with both ends close-on-exec; the read end is non-blocking when `nonblock_read`.
pub fn pipe(nonblock_read: bool) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two fds we own at once.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fresh fds from pipe2.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    if nonblock_read {
        set_nonblock(&r);
    }
    Ok((r, w))
}

/// Sets O_NONBLOCK on an fd.
pub fn set_nonblock(fd: &OwnedFd) {
    // SAFETY: fcntl flag changes on an fd we own.
    unsafe {
        let fl = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
}

/// Whether a file exists (a `stat` that succeeds, whatever the type), as runsv tests `down`.
pub fn exists(path: &Path) -> bool {
    fs::metadata(path).is_ok()
}

/// Whether `path` exists with the owner-execute bit (runsv's test for `control/X`).
pub fn owner_executable(path: &Path) -> io::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    Ok(fs::metadata(path)?.permissions().mode() & 0o100 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("svdir-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn supervise_symlink_creates_one_level() {
        // spec/supervise.md §2.4: a dangling relative symlink works.
        let d = tmp("link");
        fs::create_dir(d.join("runtime")).unwrap();
        std::os::unix::fs::symlink("runtime/supervise.svc", d.join("supervise")).unwrap();
        make_supervise(&d, "./supervise").unwrap();
        assert!(d.join("runtime/supervise.svc").is_dir());
        // A target two levels deep is not created, and says so.
        let e = tmp("deep");
        std::os::unix::fs::symlink("a/b", e.join("supervise")).unwrap();
        let err = make_supervise(&e, "./supervise").unwrap_err();
        assert_eq!(err.what, "unable to create ./supervise -> a/b");
        assert_eq!(err.errno, Some(libc::ENOENT));
        assert!(!e.join("a").exists());
        // An existing target is fine.
        fs::create_dir(d.join("runtime/other")).unwrap();
        fs::remove_file(d.join("supervise")).unwrap();
        std::os::unix::fs::symlink("runtime/other", d.join("supervise")).unwrap();
        make_supervise(&d, "./supervise").unwrap();
        // Plain directory.
        let f = tmp("plain");
        make_supervise(&f, "./supervise").unwrap();
        assert!(f.join("supervise").is_dir());
        make_supervise(&f, "./supervise").unwrap();
        for x in [d, e, f] {
            fs::remove_dir_all(x).unwrap();
        }
    }

    #[test]
    fn lock_excludes_a_second_holder() {
        let d = tmp("lock");
        let l = lock(&d.join("lock"), false).unwrap();
        let e = lock(&d.join("lock"), false).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EAGAIN));
        drop(l);
        assert!(lock(&d.join("lock"), false).is_ok());
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn fifo_and_numbers() {
        let d = tmp("fifo");
        make_fifo(&d.join("f")).unwrap();
        make_fifo(&d.join("f")).unwrap();
        assert!(is_fifo(&d.join("f")).unwrap());
        fs::remove_dir_all(d).unwrap();
    }
}
