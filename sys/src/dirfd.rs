//! Files reached through a directory descriptor: a program that keeps a directory open (svlogd
//! its log directories) never changes its working directory to reach the files in it, and
//! keeps working when the directory is renamed. Errors are plain errno values, for runit's
//! messages.

use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{FchmodatFlags, FileStat, Mode, SFlag};
use std::os::fd::{AsFd, OwnedFd};

/// `openat(dir, name, flags | O_CLOEXEC | O_NOFOLLOW, 0600)`. A symbolic link planted under
/// the name is never followed (it fails with ELOOP), so nothing is written into, created in or
/// read from another directory through it.
pub fn openat(dir: &impl AsFd, name: &[u8], flags: i32) -> Result<OwnedFd, i32> {
    openat_follow(dir, name, flags | nix::libc::O_NOFOLLOW)
}

/// `openat(dir, name, flags | O_CLOEXEC, 0600)`, following a symbolic link: only for what an
/// admin may link on purpose (a log directory itself, its `config`).
pub fn openat_follow(dir: &impl AsFd, name: &[u8], flags: i32) -> Result<OwnedFd, i32> {
    let flags = OFlag::from_bits_retain(flags) | OFlag::O_CLOEXEC;
    nix::fcntl::openat(dir.as_fd(), name, flags, Mode::from_bits_truncate(0o600))
        .map_err(|e| e as i32)
}

/// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`: the whole `stat` (of a link itself, not of
/// what it points to).
pub fn metaat(dir: &impl AsFd, name: &[u8]) -> Result<FileStat, i32> {
    nix::sys::stat::fstatat(dir.as_fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW).map_err(|e| e as i32)
}

/// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`: the file's mode and size, or the errno.
pub fn statat(dir: &impl AsFd, name: &[u8]) -> Result<(u32, u64), i32> {
    metaat(dir, name).map(|st| (st.st_mode, st.st_size as u64))
}

fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
}

/// Whether `name` in `dir` is a symbolic link.
pub fn is_link(dir: &impl AsFd, name: &[u8]) -> bool {
    metaat(dir, name).is_ok_and(|st| kind(&st) == SFlag::S_IFLNK)
}

/// Whether `name` in `dir` is a regular file (not a link to one).
pub fn is_file(dir: &impl AsFd, name: &[u8]) -> bool {
    metaat(dir, name).is_ok_and(|st| kind(&st) == SFlag::S_IFREG)
}

/// `renameat(dir, from, dir, to)`.
pub fn renameat(dir: &impl AsFd, from: &[u8], to: &[u8]) -> Result<(), i32> {
    nix::fcntl::renameat(dir.as_fd(), from, dir.as_fd(), to).map_err(|e| e as i32)
}

/// `unlinkat(dir, name, 0)`.
pub fn unlinkat(dir: &impl AsFd, name: &[u8]) -> Result<(), i32> {
    nix::unistd::unlinkat(dir.as_fd(), name, nix::unistd::UnlinkatFlags::NoRemoveDir)
        .map_err(|e| e as i32)
}

/// `fchmodat(dir, name, mode, 0)`.
pub fn chmodat(dir: &impl AsFd, name: &[u8], mode: u32) -> Result<(), i32> {
    nix::sys::stat::fchmodat(
        dir.as_fd(),
        name,
        Mode::from_bits_truncate(mode),
        FchmodatFlags::FollowSymlink,
    )
    .map_err(|e| e as i32)
}

/// The names of a directory's entries, all in one buffer (see [`list`]).
#[derive(Debug, Default)]
pub struct Names {
    /// Each name followed by a NUL (which no name holds).
    bytes: Vec<u8>,
}

impl Names {
    /// Each name, in the order the directory gave them.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.bytes.split(|&b| b == 0).filter(|n| !n.is_empty())
    }
}

/// The names in the directory (`.` and `..` left out), or the errno of opening or reading it.
///
/// One buffer, reserved before the directory is opened: glibc's `opendir` takes a 32 KiB
/// buffer from the heap, and a name allocated on its own while that is open, freed later,
/// would wait in the allocator's per-thread cache above it, keeping the heap from shrinking
/// back (the pages an idle svlogd would otherwise give back stay dirty).
pub fn list(dir: &impl AsFd) -> Result<Names, i32> {
    let mut bytes = Vec::with_capacity(4096);
    let fd = openat(dir, b".", nix::libc::O_RDONLY | nix::libc::O_DIRECTORY)?;
    let mut d = nix::dir::Dir::from_fd(fd).map_err(|e| e as i32)?;
    for entry in d.iter() {
        let entry = entry.map_err(|e| e as i32)?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            bytes.extend_from_slice(name);
            bytes.push(0);
        }
    }
    Ok(Names { bytes })
}

/// Whether the open directory `dir` was removed (`fstat` shows no links left).
pub fn removed(dir: &impl AsFd) -> bool {
    nix::sys::stat::fstat(dir.as_fd()).is_ok_and(|st| st.st_nlink == 0)
}

/// The open directory's modification time, which every change of its entries moves
/// (`(0, 0)` if it cannot be told).
pub fn mtime(dir: &impl AsFd) -> (i64, i64) {
    match nix::sys::stat::fstat(dir.as_fd()) {
        Ok(st) => (st.st_mtime, st.st_mtime_nsec),
        Err(_) => (0, 0),
    }
}

/// The clock the kernel stamps file changes with (`CLOCK_REALTIME_COARSE`: it moves once a
/// tick), as (seconds, nanoseconds): a file time not below it may still be shared by a later
/// change.
pub fn file_clock() -> (i64, i64) {
    match nix::time::clock_gettime(nix::time::ClockId::CLOCK_REALTIME_COARSE) {
        Ok(t) => (t.tv_sec(), t.tv_nsec()),
        Err(_) => (i64::MAX, 0),
    }
}

/// Whether `a` and `b` are open on the same file.
pub fn same_file(a: &impl AsFd, b: &impl AsFd) -> bool {
    match (
        nix::sys::stat::fstat(a.as_fd()),
        nix::sys::stat::fstat(b.as_fd()),
    ) {
        (Ok(x), Ok(y)) => (x.st_dev, x.st_ino) == (y.st_dev, y.st_ino),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_through_the_directory() {
        let p = std::env::temp_dir().join(format!("sys-dirfd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        let dir = std::fs::File::open(&p).unwrap();
        let f = openat(&dir, b"a", nix::libc::O_WRONLY | nix::libc::O_CREAT).unwrap();
        drop(f);
        assert!(is_file(&dir, b"a"));
        renameat(&dir, b"a", b"b").unwrap();
        assert_eq!(statat(&dir, b"a"), Err(nix::libc::ENOENT));
        chmodat(&dir, b"b", 0o744).unwrap();
        assert_eq!(statat(&dir, b"b").unwrap().0 & 0o777, 0o744);
        std::os::unix::fs::symlink("b", p.join("l")).unwrap();
        assert!(is_link(&dir, b"l"));
        assert_eq!(
            openat(&dir, b"l", nix::libc::O_RDONLY).err(),
            Some(nix::libc::ELOOP)
        );
        assert!(openat_follow(&dir, b"l", nix::libc::O_RDONLY).is_ok());
        let listed = list(&dir).unwrap();
        let mut names: Vec<&[u8]> = listed.iter().collect();
        names.sort();
        assert_eq!(names, [&b"b"[..], b"l"]);
        let before = mtime(&dir);
        unlinkat(&dir, b"l").unwrap();
        assert!(mtime(&dir) >= before);
        assert!(!removed(&dir));
        std::fs::remove_dir_all(&p).unwrap();
        assert!(removed(&dir));
    }
}
