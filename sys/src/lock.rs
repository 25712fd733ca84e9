//! `flock`, the locks of runit's files (`supervise/lock`, a log directory's `lock`, runsv's
//! lock on the service directory): held for as long as the descriptor stays open.

use nix::errno::Errno;
use nix::fcntl::FlockArg;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Takes an exclusive lock on `fd`: waiting for it (`blocking`), or failing at once with
/// EWOULDBLOCK ("temporary failure") when another holder has it. EINTR is retried.
pub fn exclusive(fd: &impl AsFd, blocking: bool) -> Result<(), Errno> {
    let arg = if blocking {
        FlockArg::LockExclusive
    } else {
        FlockArg::LockExclusiveNonblock
    };
    loop {
        // nix deprecates this call for an owning guard; here the descriptor is the guard (the
        // lock lives exactly as long as the fd), which is how every runit lock works.
        #[allow(deprecated)]
        match nix::fcntl::flock(fd.as_fd().as_raw_fd(), arg) {
            Err(Errno::EINTR) => continue,
            r => return r,
        }
    }
}

/// Opens (creating, mode 0600) and locks a lock file as runsv locks `supervise/lock`.
pub fn open(path: &Path, blocking: bool) -> io::Result<OwnedFd> {
    let f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(path)?;
    exclusive(&f, blocking).map_err(|e| io::Error::from_raw_os_error(e as i32))?;
    Ok(f.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused() {
        let p = std::env::temp_dir().join(format!("sys-lock-{}", std::process::id()));
        let l = open(&p, false).unwrap();
        let e = open(&p, false).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(nix::libc::EAGAIN));
        drop(l);
        assert!(open(&p, false).is_ok());
        std::fs::remove_file(p).unwrap();
    }
}
