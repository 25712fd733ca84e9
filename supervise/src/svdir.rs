//! The service-directory layout and the supervise directory's set-up: path names, runit's
//! one-level `supervise` symlink rule, the `lock` file and the FIFOs (`spec/supervise.md` §1.1,
//! §2.1, §2.4).
//!
//! Paths are relative: runsv works from inside the service directory (so it keeps working if
//! the directory is renamed), and the log service's files are the same names under `log/`.

use nix::libc;
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The supervise directory's name.
pub const SUPERVISE: &str = "supervise";
/// The log service's directory.
pub const LOG: &str = "log";
/// Presence makes the service want down at start-up.
pub const DOWN: &str = "down";
/// The service's program.
pub const RUN: &str = "./run";
/// Run after `./run` exits.
pub const FINISH: &str = "./finish";
/// s6's readiness convention: the file holds the fd number the service writes a line to.
pub const NOTIFICATION_FD: &str = "notification-fd";
/// s6's stop timeout: milliseconds after a TERM before runsv sends KILL.
pub const TIMEOUT_KILL: &str = "timeout-kill";
/// Files inside the supervise directory.
pub const LOCK: &str = "lock";
/// The command FIFO.
pub const CONTROL: &str = "control";
/// The liveness FIFO.
pub const OK: &str = "ok";

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

/// A symbolic link the clients refuse to follow: it belongs to another user (not root, not
/// the caller) and leads to something that user does not own.
///
/// Why: root runs `sv`, `svc`, `svstat` on service directories other users can write (their
/// own runsvdir trees). A `supervise` link planted there, pointing at another service's
/// `supervise` directory, would make root's `sv down` stop that service, which the planter
/// cannot do. The rule is the kernel's `protected_symlinks` rule, applied to `supervise` and
/// to the files in it: follow a link only if its owner is root, the caller, or the owner of
/// its target. Links people make on purpose (`supervise -> /run/runit/supervise.NAME` made by
/// root, a user's link into the user's own directory) are all followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Untrusted {
    /// The link, relative to the service directory (`supervise`, `supervise/control`).
    pub link: &'static str,
    /// The link's owner.
    pub link_uid: u32,
    /// The owner of what it leads to.
    pub target_uid: u32,
}

impl Untrusted {
    /// Why the open was refused, worded to follow `unable to open supervise/ok: `.
    pub fn text(&self) -> String {
        format!(
            "refusing symbolic link {} of uid {} to a file of uid {}",
            self.link, self.link_uid, self.target_uid
        )
    }
}

/// How opening a file of a supervise directory for a client failed.
#[derive(Debug)]
pub enum OpenError {
    /// The system call failed.
    Io(io::Error),
    /// A symbolic link on the way is not trusted.
    Untrusted(Untrusted),
}

impl OpenError {
    /// The error text for a message: runit's errno text, or why a link was refused.
    pub fn text(&self) -> String {
        match self {
            OpenError::Io(e) => crate::strerr::ioerr(e),
            OpenError::Untrusted(u) => u.text(),
        }
    }
}

/// Opens `base/REL`, where `REL` is `supervise/NAME`, for a client (`sv`, `svc`, `svok`,
/// `svstat`, runsvdir's nudge) with open `flags`, following a symbolic link at `supervise` or
/// at `NAME` only when [`Untrusted`]'s rule allows it. Errors are the plain open's otherwise
/// (ENOENT, ENXIO, ...), so callers word them as before.
pub fn open_supervised(
    base: &Path,
    rel: &'static str,
    flags: libc::c_int,
) -> Result<fs::File, OpenError> {
    // The usual case, no symbolic link on the way: one openat2, as cheap as runit's open.
    match open_no_symlinks(&base.join(rel), flags) {
        Ok(fd) => return Ok(fd.into()),
        // A link somewhere (or no openat2 here): the careful way below.
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::ELOOP | libc::ENOSYS | libc::EINVAL | libc::E2BIG | libc::EPERM)
            ) => {}
        Err(e) => return Err(OpenError::Io(e)),
    }
    let name = rel.strip_prefix("supervise/").unwrap_or(rel);
    let dir = open_checked(
        None,
        &base.join(SUPERVISE),
        SUPERVISE,
        libc::O_RDONLY | libc::O_DIRECTORY,
    )?;
    let fd = open_checked(Some(dir.as_raw_fd()), Path::new(name), rel, flags)?;
    Ok(fd.into())
}

/// `openat2` with `RESOLVE_NO_SYMLINKS`: fails with ELOOP if any component is a link.
fn open_no_symlinks(path: &Path, flags: libc::c_int) -> io::Result<OwnedFd> {
    let c = c_path(path);
    // SAFETY: open_how is plain data; zeroed is its documented initial state.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_NO_SYMLINKS;
    loop {
        // SAFETY: openat2 reads the path and the open_how of the given size; the fd is owned
        // at once.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                libc::AT_FDCWD,
                c.as_ptr(),
                &how as *const libc::open_how,
                std::mem::size_of::<libc::open_how>(),
            )
        };
        if fd >= 0 {
            // SAFETY: a fresh descriptor.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) });
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

fn c_path(p: &Path) -> std::ffi::CString {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap_or_default()
}

fn stat_at(at: libc::c_int, path: &std::ffi::CStr, flags: libc::c_int) -> io::Result<libc::stat> {
    // SAFETY: fstatat fills a zeroed stat buffer from a NUL-terminated path.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstatat(at, path.as_ptr(), &mut st, flags) == 0 {
            Ok(st)
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

fn open_at(at: libc::c_int, path: &std::ffi::CStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    loop {
        // SAFETY: openat with a NUL-terminated path; the fd is owned at once.
        let fd = unsafe { libc::openat(at, path.as_ptr(), flags | libc::O_CLOEXEC, 0) };
        if fd >= 0 {
            // SAFETY: a fresh descriptor.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// Opens `path` (relative to the directory `at`, or to the working directory) with `flags`;
/// a final symbolic link is followed only if trusted, and only to the file that was checked.
fn open_checked(
    at: Option<libc::c_int>,
    path: &Path,
    link: &'static str,
    flags: libc::c_int,
) -> Result<OwnedFd, OpenError> {
    let at = at.unwrap_or(libc::AT_FDCWD);
    let c = c_path(path);
    let first = match open_at(at, &c, flags | libc::O_NOFOLLOW) {
        Ok(fd) => return Ok(fd),
        Err(e) => e,
    };
    // ELOOP (or ENOTDIR with O_DIRECTORY) may mean a symbolic link; anything else is final.
    if !matches!(
        first.raw_os_error(),
        Some(libc::ELOOP) | Some(libc::ENOTDIR)
    ) {
        return Err(OpenError::Io(first));
    }
    let lst = stat_at(at, &c, libc::AT_SYMLINK_NOFOLLOW).map_err(OpenError::Io)?;
    if lst.st_mode & libc::S_IFMT != libc::S_IFLNK {
        return Err(OpenError::Io(first));
    }
    let st = stat_at(at, &c, 0).map_err(OpenError::Io)?;
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    if lst.st_uid != 0 && lst.st_uid != me && lst.st_uid != st.st_uid {
        return Err(OpenError::Untrusted(Untrusted {
            link,
            link_uid: lst.st_uid,
            target_uid: st.st_uid,
        }));
    }
    let fd = open_at(at, &c, flags).map_err(OpenError::Io)?;
    // The link may have changed between the check and the open: only the checked file will do.
    let mut now: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat on a descriptor we own into a zeroed buffer.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut now) } != 0
        || (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino)
    {
        return Err(OpenError::Io(io::Error::from_raw_os_error(libc::EAGAIN)));
    }
    Ok(fd)
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

/// Reads a small decimal setting file (`notification-fd`, `timeout-kill`): the leading digits
/// of its first line. `Ok(None)` when the file does not exist.
pub fn read_number(path: &Path) -> io::Result<Option<u64>> {
    let text = match fs::read(path) {
        Ok(t) => t,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
        Err(e) => return Err(e),
    };
    let digits: Vec<u8> = text
        .iter()
        .copied()
        .skip_while(|b| *b == b' ' || *b == b'\t')
        .take_while(u8::is_ascii_digit)
        .collect();
    if digits.is_empty() {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    Ok(std::str::from_utf8(&digits)
        .ok()
        .and_then(|s| s.parse().ok()))
}

/// `base/name` for a relative name, as runit builds `log/supervise/...` paths.
pub fn under(base: &str, name: &str) -> PathBuf {
    if base.is_empty() {
        PathBuf::from(name)
    } else {
        Path::new(base).join(name)
    }
}

/// Bytes of a path, for messages.
pub fn display(p: &OsStr) -> String {
    String::from_utf8_lossy(p.as_bytes()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn clients_follow_trusted_links_and_report_plain_errors() {
        // A link of the caller's own, at `supervise` and at a file: followed.
        let d = tmp("client");
        fs::create_dir_all(d.join("elsewhere")).unwrap();
        std::os::unix::fs::symlink("elsewhere", d.join("supervise")).unwrap();
        fs::write(d.join("elsewhere/real"), "x").unwrap();
        std::os::unix::fs::symlink("real", d.join("elsewhere/status")).unwrap();
        let f = open_supervised(&d, "supervise/status", libc::O_RDONLY).unwrap();
        assert_eq!(std::io::read_to_string(f).unwrap(), "x");
        // Errors are the plain open's.
        let errno = |r: Result<fs::File, OpenError>| match r {
            Err(OpenError::Io(e)) => e.raw_os_error(),
            other => panic!("expected an io error, got {other:?}"),
        };
        assert_eq!(
            errno(open_supervised(&d, "supervise/ok", libc::O_RDONLY)),
            Some(libc::ENOENT)
        );
        std::os::unix::fs::symlink("nowhere", d.join("elsewhere/control")).unwrap();
        assert_eq!(
            errno(open_supervised(&d, "supervise/control", libc::O_RDONLY)),
            Some(libc::ENOENT)
        );
        make_fifo(&d.join("elsewhere/ok")).unwrap();
        assert_eq!(
            errno(open_supervised(
                &d,
                "supervise/ok",
                libc::O_WRONLY | libc::O_NONBLOCK
            )),
            Some(libc::ENXIO)
        );
        let e = tmp("client-file");
        fs::write(e.join("supervise"), "").unwrap();
        assert_eq!(
            errno(open_supervised(&e, "supervise/ok", libc::O_RDONLY)),
            Some(libc::ENOTDIR)
        );
        assert_eq!(
            errno(open_supervised(
                &e.join("none"),
                "supervise/ok",
                libc::O_RDONLY
            )),
            Some(libc::ENOENT)
        );
        let u = Untrusted {
            link: "supervise",
            link_uid: 1000,
            target_uid: 0,
        };
        assert_eq!(
            u.text(),
            "refusing symbolic link supervise of uid 1000 to a file of uid 0"
        );
        for x in [d, e] {
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
        fs::write(d.join("n"), "3\n").unwrap();
        assert_eq!(read_number(&d.join("n")).unwrap(), Some(3));
        fs::write(d.join("bad"), "x\n").unwrap();
        assert!(read_number(&d.join("bad")).is_err());
        assert_eq!(read_number(&d.join("none")).unwrap(), None);
        fs::remove_dir_all(d).unwrap();
    }
}
