//! runsv's set-up of a service directory's `supervise/` (`spec/supervise.md` §2.1, §2.4):
//! runit's one-level `supervise` symlink rule, the `lock` file and the FIFOs. The names are
//! `formats::svdir`'s.

use formats::svdir::SUPERVISE;
use nix::libc;
use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt;
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
}
