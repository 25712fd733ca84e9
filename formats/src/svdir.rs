//! The service-directory layout as every program names it (`spec/supervise.md` §1.1, §2.1):
//! the file names, runit's one-level `supervise` symlink rule as clients follow it, and the
//! small number files (`notification-fd`, `timeout-kill`).
//!
//! Paths are relative: runsv works from inside the service directory (so it keeps working if
//! the directory is renamed), and the log service's files are the same names under `log/`.
//! Setting the directory up (creating `supervise/`, its lock and FIFOs) is runsv's and lives
//! there.

use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag, AT_FDCWD};
use nix::libc;
use nix::sys::stat::{fstatat, FileStat, Mode};
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
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
    let fd = open_checked(Some(dir.as_fd()), Path::new(name), rel, flags)?;
    Ok(fd.into())
}

/// `openat2` with `RESOLVE_NO_SYMLINKS`: fails with ELOOP if any component is a link.
fn open_no_symlinks(path: &Path, flags: libc::c_int) -> io::Result<OwnedFd> {
    let how = OpenHow::new()
        .flags(OFlag::from_bits_retain(flags) | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_NO_SYMLINKS);
    loop {
        match nix::fcntl::openat2(AT_FDCWD, path, how) {
            Ok(fd) => return Ok(fd),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(io::Error::from_raw_os_error(e as i32)),
        }
    }
}

fn stat_at(at: BorrowedFd<'_>, path: &Path, flags: AtFlags) -> io::Result<FileStat> {
    fstatat(at, path, flags).map_err(|e| io::Error::from_raw_os_error(e as i32))
}

fn open_at(at: BorrowedFd<'_>, path: &Path, flags: libc::c_int) -> io::Result<OwnedFd> {
    let flags = OFlag::from_bits_retain(flags) | OFlag::O_CLOEXEC;
    loop {
        match nix::fcntl::openat(at, path, flags, Mode::empty()) {
            Ok(fd) => return Ok(fd),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(io::Error::from_raw_os_error(e as i32)),
        }
    }
}

/// Opens `path` (relative to the directory `at`, or to the working directory) with `flags`;
/// a final symbolic link is followed only if trusted, and only to the file that was checked.
fn open_checked(
    at: Option<BorrowedFd<'_>>,
    path: &Path,
    link: &'static str,
    flags: libc::c_int,
) -> Result<OwnedFd, OpenError> {
    let at = at.unwrap_or(AT_FDCWD);
    let first = match open_at(at, path, flags | libc::O_NOFOLLOW) {
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
    let lst = stat_at(at, path, AtFlags::AT_SYMLINK_NOFOLLOW).map_err(OpenError::Io)?;
    if lst.st_mode & libc::S_IFMT != libc::S_IFLNK {
        return Err(OpenError::Io(first));
    }
    let st = stat_at(at, path, AtFlags::empty()).map_err(OpenError::Io)?;
    let me = nix::unistd::geteuid().as_raw();
    if lst.st_uid != 0 && lst.st_uid != me && lst.st_uid != st.st_uid {
        return Err(OpenError::Untrusted(Untrusted {
            link,
            link_uid: lst.st_uid,
            target_uid: st.st_uid,
        }));
    }
    let fd = open_at(at, path, flags).map_err(OpenError::Io)?;
    // The link may have changed between the check and the open: only the checked file will do.
    let same = nix::sys::stat::fstat(&fd)
        .is_ok_and(|now| (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino));
    if !same {
        return Err(OpenError::Io(io::Error::from_raw_os_error(libc::EAGAIN)));
    }
    Ok(fd)
}

/// Reads a small decimal setting file (`notification-fd`, `timeout-kill`, `sv-timeout`): see
/// [`parse_number`]. `Ok(None)` when the file does not exist; a file without a number is
/// `EINVAL`, a number beyond 64 bits `ERANGE`.
pub fn read_number(path: &Path) -> io::Result<Option<u64>> {
    let text = match fs::read(path) {
        Ok(t) => t,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
        Err(e) => return Err(e),
    };
    match parse_number(&text) {
        Ok(n) => Ok(Some(n)),
        Err(NumberError::NoDigits) => Err(io::Error::from_raw_os_error(libc::EINVAL)),
        Err(NumberError::TooLarge) => Err(io::Error::from_raw_os_error(libc::ERANGE)),
    }
}

/// Why a setting file's text is not a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberError {
    /// No digit after the leading blanks.
    NoDigits,
    /// The digits make a number beyond 64 bits.
    TooLarge,
}

/// The number a setting file says: after any spaces and tabs, its leading decimal digits
/// (what follows them, a newline or anything else, is ignored). Unlike [`crate::scan`]'s
/// options, a number too large is refused rather than wrapped.
pub fn parse_number(text: &[u8]) -> Result<u64, NumberError> {
    let start = text
        .iter()
        .position(|b| *b != b' ' && *b != b'\t')
        .unwrap_or(text.len());
    let digits = &text[start..];
    let n = digits
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    if n == 0 {
        return Err(NumberError::NoDigits);
    }
    digits[..n].iter().try_fold(0u64, |v, d| {
        v.checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or(NumberError::TooLarge)
    })
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
        nix::unistd::mkfifo(
            &d.join("elsewhere/ok"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
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
    fn numbers() {
        let d = tmp("numbers");
        fs::write(d.join("n"), "3\n").unwrap();
        assert_eq!(read_number(&d.join("n")).unwrap(), Some(3));
        fs::write(d.join("bad"), "x\n").unwrap();
        assert!(read_number(&d.join("bad")).is_err());
        assert_eq!(read_number(&d.join("none")).unwrap(), None);
        // Beyond 64 bits is an error, not a missing file (it was read as one).
        fs::write(d.join("big"), "18446744073709551616\n").unwrap();
        let e = read_number(&d.join("big")).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ERANGE));
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn number_texts() {
        assert_eq!(parse_number(b"3\n"), Ok(3));
        assert_eq!(parse_number(b" \t 0042 trailing"), Ok(42));
        assert_eq!(parse_number(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            parse_number(b"18446744073709551616"),
            Err(NumberError::TooLarge)
        );
        assert_eq!(parse_number(b""), Err(NumberError::NoDigits));
        assert_eq!(parse_number(b"\n3"), Err(NumberError::NoDigits));
        assert_eq!(parse_number(b"-3"), Err(NumberError::NoDigits));
        assert_eq!(parse_number(b"+3"), Err(NumberError::NoDigits));
    }
}
