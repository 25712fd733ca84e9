//! What keeps one runsv per service directory even when `supervise/` is removed or replaced
//! while it runs (issue 17 item 8): a lock on the service directory itself, which no removal
//! inside it can take away (honoured only when its holder is trusted: anyone who can read a
//! directory can flock it), and the test that the lock and FIFOs runsv holds are still the
//! ones `supervise/` names, so runsv can make them again.
//!
//! runit's tools never look at the directory lock; they still see `supervise/lock`, which
//! runsv holds as runit's does.

use nix::fcntl::OFlag;
use nix::libc;
use nix::sys::stat::Mode;
use std::fs;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Opens the directory `dir` and flocks it (exclusive, without waiting: a held lock fails
/// with EWOULDBLOCK).
pub fn lock_dir(dir: &Path) -> io::Result<OwnedFd> {
    let fd = nix::fcntl::open(
        dir,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| io::Error::from_raw_os_error(e as i32))?;
    sys::lock::exclusive(&fd, false).map_err(|e| io::Error::from_raw_os_error(e as i32))?;
    Ok(fd)
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
    let me = nix::unistd::geteuid().as_raw();
    euid.is_some_and(|u| u == me || u == 0)
}

/// Whether `path` (symbolic links followed) is the file `fd` has open.
pub fn same_file(path: &Path, fd: &OwnedFd) -> bool {
    let Ok(m) = fs::metadata(path) else {
        return false;
    };
    nix::sys::stat::fstat(fd).is_ok_and(|st| m.dev() == st.st_dev && m.ino() == st.st_ino)
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
        // A child another test thread forks between our open and its exec holds a copy of
        // the descriptor (and so the lock) until its exec closes it: wait for that, bounded.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let again = loop {
            match lock_dir(&d) {
                Err(e) if is_held(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10))
                }
                r => break r,
            }
        };
        assert!(again.is_ok(), "{again:?}");
        fs::remove_dir_all(&d).unwrap();
    }
}
