//! Finding a service directory from what the user typed, and coming back from it.
//!
//! runit's `sv` and daemontools' `svc`/`svok`/`svstat` all work by `chdir`ing into the service
//! directory and using relative paths (`supervise/ok`, `supervise/control`, `down`, `check`),
//! so their error texts name the step that failed. These tools are single-threaded and do the
//! same: [`enter_sv`] and [`enter_daemontools`] change into a service directory by their rule,
//! and [`Origin`] brings the process back to where it started.

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{chdir, fchdir};
use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The default service directory: Void's and busybox's `/var/service` (runit upstream uses
/// `/service/`, Debian `/etc/service/`); `SVDIR` overrides it.
pub const DEFAULT_SVDIR: &str = "/var/service";

/// The service directory from the environment (`SVDIR`), or [`DEFAULT_SVDIR`].
pub fn svdir_from_env() -> std::ffi::OsString {
    std::env::var_os("SVDIR").unwrap_or_else(|| DEFAULT_SVDIR.into())
}

/// The directory the process started in, held open so it can always come back.
pub struct Origin {
    fd: OwnedFd,
}

impl Origin {
    /// Opens `.`; fails as runit's tools do when the current directory cannot be opened.
    pub fn open() -> Result<Origin, Errno> {
        let fd = open(
            ".",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Origin { fd })
    }

    /// Changes back to the starting directory.
    pub fn back(&self) -> Result<(), Errno> {
        fchdir(&self.fd)
    }
}

/// Whether `sv` looks a name up under the service directory: it does not start with `/` or
/// `.`, is not empty, and does not end with `/` (`spec/supervise.md` §5.2).
pub fn sv_is_relative_to_svdir(name: &OsStr) -> bool {
    let b = name.as_bytes();
    !b.is_empty() && b[0] != b'/' && b[0] != b'.' && b[b.len() - 1] != b'/'
}

/// Changes into the service `name` the way `sv` does: `SVDIR` then `name` for a bare name,
/// otherwise `name` relative to the current directory. The wait loop uses the same rule (runit
/// 2.1.2 forgets the trailing-slash case there, `spec/supervise.md` §9 item 14).
pub fn enter_sv(name: &OsStr, svdir: &OsStr) -> Result<(), Errno> {
    if sv_is_relative_to_svdir(name) {
        chdir(Path::new(svdir))?;
    }
    chdir(Path::new(name))
}

/// Whether a daemontools-style tool looks `name` up under the service directory: it has no
/// `/` and is not `.` or `..`.
pub fn daemontools_is_bare(name: &OsStr) -> bool {
    let b = name.as_bytes();
    !b.is_empty() && b != b"." && b != b".." && !b.contains(&b'/')
}

/// Changes into `name` for `svc`, `svok` and `svstat`: a bare name is taken relative to the
/// service directory; if it does not exist there, relative to the current directory, as
/// daemontools does (so `cd /service && svc -u foo` keeps working). Other names are relative to
/// the current directory. The error is the first lookup's unless it was "does not exist".
pub fn enter_daemontools(name: &OsStr, svdir: &OsStr, origin: &Origin) -> Result<(), Errno> {
    if daemontools_is_bare(name) {
        let first = chdir(Path::new(svdir)).and_then(|_| chdir(Path::new(name)));
        match first {
            Ok(()) => return Ok(()),
            Err(Errno::ENOENT) => origin.back()?,
            Err(e) => {
                origin.back()?;
                return Err(e);
            }
        }
    }
    chdir(Path::new(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sv_rule() {
        assert!(sv_is_relative_to_svdir(OsStr::new("foo")));
        assert!(sv_is_relative_to_svdir(OsStr::new("foo/log")));
        assert!(!sv_is_relative_to_svdir(OsStr::new("foo/")));
        assert!(!sv_is_relative_to_svdir(OsStr::new("./foo")));
        assert!(!sv_is_relative_to_svdir(OsStr::new(".hidden")));
        assert!(!sv_is_relative_to_svdir(OsStr::new("/etc/sv/foo")));
        assert!(!sv_is_relative_to_svdir(OsStr::new("")));
    }

    #[test]
    fn daemontools_rule() {
        assert!(daemontools_is_bare(OsStr::new("foo")));
        assert!(daemontools_is_bare(OsStr::new(".foo")));
        assert!(!daemontools_is_bare(OsStr::new(".")));
        assert!(!daemontools_is_bare(OsStr::new("..")));
        assert!(!daemontools_is_bare(OsStr::new("foo/log")));
        assert!(!daemontools_is_bare(OsStr::new("foo/")));
    }
}
