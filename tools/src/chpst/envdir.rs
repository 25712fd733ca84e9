//! Environment directories (`chpst -e`, `envdir`): one file per variable.
//!
//! For each entry whose name does not start with `.`: an empty file removes the variable;
//! otherwise the value is the file's first line, trailing spaces and tabs removed, NUL bytes
//! turned into newlines (`spec/supervise.md` §7).

use nix::errno::Errno;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// One variable to set (`Some`) or remove (`None`).
pub type Change = (OsString, Option<OsString>);

/// Which step of reading the directory failed.
#[derive(Debug, PartialEq, Eq)]
pub enum EnvdirError {
    /// Opening the starting directory to come back to.
    Origin(Errno),
    /// Changing into the directory.
    Chdir(Errno),
    /// Opening it for listing.
    OpenDir(Errno),
    /// Listing it.
    ReadDir(Errno),
    /// Reading one file (its name).
    Read(OsString, Errno),
    /// Changing back.
    Back(Errno),
}

/// The value a file's contents give, or `None` for an empty file.
pub fn value_of(contents: &[u8]) -> Option<OsString> {
    if contents.is_empty() {
        return None;
    }
    let line = match memchr::memchr(b'\n', contents) {
        Some(i) => &contents[..i],
        None => contents,
    };
    let mut end = line.len();
    while end > 0 && (line[end - 1] == b' ' || line[end - 1] == b'\t') {
        end -= 1;
    }
    let v: Vec<u8> = line[..end]
        .iter()
        .map(|&c| if c == 0 { b'\n' } else { c })
        .collect();
    Some(OsString::from_vec(v))
}

/// Reads the directory `dir` (changing into it and back, as runit and daemontools do, so the
/// errors are theirs). With `skip_dirs`, sub-directories are passed to `skipped` and ignored
/// (chpst -e); otherwise they are an error (envdir).
pub fn read(
    dir: &OsStr,
    skip_dirs: bool,
    mut skipped: impl FnMut(&OsStr, Errno),
) -> Result<Vec<Change>, EnvdirError> {
    let origin = crate::enter::Origin::open().map_err(EnvdirError::Origin)?;
    nix::unistd::chdir(std::path::Path::new(dir)).map_err(EnvdirError::Chdir)?;
    let result = read_here(skip_dirs, &mut skipped);
    origin.back().map_err(EnvdirError::Back)?;
    result
}

fn read_here(
    skip_dirs: bool,
    skipped: &mut impl FnMut(&OsStr, Errno),
) -> Result<Vec<Change>, EnvdirError> {
    let rd = std::fs::read_dir(".").map_err(|e| EnvdirError::OpenDir(errno(&e)))?;
    let mut changes = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| EnvdirError::ReadDir(errno(&e)))?;
        let name = entry.file_name();
        if name.as_bytes().first() == Some(&b'.') {
            continue;
        }
        match std::fs::read(&name) {
            Ok(contents) => changes.push((name, value_of(&contents))),
            Err(e) if e.raw_os_error() == Some(nix::libc::ENOENT) => changes.push((name, None)),
            Err(e) if skip_dirs && e.raw_os_error() == Some(nix::libc::EISDIR) => {
                skipped(&name, Errno::EISDIR)
            }
            Err(e) => return Err(EnvdirError::Read(name, errno(&e))),
        }
    }
    Ok(changes)
}

fn errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(formats::strerr::errno_of(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_as_spec_7_describes() {
        assert_eq!(value_of(b""), None);
        assert_eq!(value_of(b"\n"), Some("".into()));
        assert_eq!(value_of(b"hello  \t\nsecond"), Some("hello".into()));
        assert_eq!(value_of(b"a\0b"), Some("a\nb".into()));
        assert_eq!(value_of(b"  lead"), Some("  lead".into()));
        assert_eq!(value_of(b" \t "), Some("".into()));
    }
}
