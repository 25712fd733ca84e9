//! Small file mechanisms runsv and the tools share: FIFOs, pipes, non-blocking descriptors and
//! the `stat` tests runit makes (does `down` exist, is `control/X` executable).

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use std::fs;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

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
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(path)?;
    Ok(f.into())
}

/// A pipe with both ends close-on-exec; the read end is non-blocking when `nonblock_read`.
pub fn pipe(nonblock_read: bool) -> io::Result<(OwnedFd, OwnedFd)> {
    let (r, w) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| io::Error::from_raw_os_error(e as i32))?;
    if nonblock_read {
        set_nonblock(&r);
    }
    Ok((r, w))
}

/// Sets O_NONBLOCK on an fd (a failure leaves it blocking, as before).
pub fn set_nonblock(fd: &impl AsFd) {
    if let Ok(fl) = fcntl(fd.as_fd(), FcntlArg::F_GETFL) {
        let fl = OFlag::from_bits_retain(fl) | OFlag::O_NONBLOCK;
        let _ = fcntl(fd.as_fd(), FcntlArg::F_SETFL(fl));
    }
}

/// Whether a file exists (a `stat` that succeeds, whatever the type), as runsv tests `down`.
pub fn exists(path: &Path) -> bool {
    fs::metadata(path).is_ok()
}

/// Whether `path` exists with the owner-execute bit (runsv's test for `control/X`).
pub fn owner_executable(path: &Path) -> io::Result<bool> {
    Ok(fs::metadata(path)?.permissions().mode() & 0o100 != 0)
}

/// Reads from `r` until `buf` is full, the end, or an error (a signal's interruption is
/// retried): how many bytes it read. For small files read whole into a fixed buffer
/// (`/proc/PID/stat`, an archive's magic bytes), where a short read is an answer.
pub fn read_full(r: &mut impl io::Read, buf: &mut [u8]) -> usize {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    got
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifos_and_pipes() {
        let d = std::env::temp_dir().join(format!("sys-fs-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        make_fifo(&d.join("f")).unwrap();
        make_fifo(&d.join("f")).unwrap();
        assert!(is_fifo(&d.join("f")).unwrap());
        assert!(exists(&d.join("f")) && !exists(&d.join("g")));
        let r = open_fifo(&d.join("f"), false).unwrap();
        let w = open_fifo(&d.join("f"), true).unwrap();
        nix::unistd::write(&w, b"x").unwrap();
        let mut b = [0u8; 1];
        assert_eq!(nix::unistd::read(&r, &mut b), Ok(1));
        let (r, _w) = pipe(true).unwrap();
        assert_eq!(
            nix::unistd::read(&r, &mut b),
            Err(nix::errno::Errno::EAGAIN)
        );
        fs::remove_dir_all(d).unwrap();
    }
}
