//! The control protocol: command bytes written to `supervise/control`, and the `supervise/ok`
//! liveness probe (`spec/supervise.md` §3).
//!
//! The supervisor side decodes one byte at a time with [`Command::from_byte`]. The client side
//! ([`probe`], [`send`]) opens the FIFOs write-only and non-blocking, so it never hangs on a dead
//! supervisor: ENXIO means nobody holds the read end (the supervisor is not running), and ENOENT
//! or ENOTDIR mean the directory is not (yet) supervised. Another user's symbolic link at
//! `supervise` or at a FIFO into something that user does not own is not followed
//! ([`crate::svdir::Untrusted`]). Callers choose their words and exit codes from the returned
//! [`ClientError`].

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::signal::Signal;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// A command byte runsv acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// `u`: want up, start if down.
    Up,
    /// `d`: want down, stop if running.
    Down,
    /// `o`: run once (want down, start if down).
    Once,
    /// `x`: stop the service, then exit the supervisor.
    Exit,
    /// `t`: SIGTERM.
    Term,
    /// `k`: SIGKILL.
    Kill,
    /// `p`: SIGSTOP and set paused.
    Pause,
    /// `c`: SIGCONT and clear paused.
    Cont,
    /// `h`: SIGHUP.
    Hup,
    /// `a`: SIGALRM.
    Alarm,
    /// `i`: SIGINT.
    Interrupt,
    /// `q`: SIGQUIT.
    Quit,
    /// `1`: SIGUSR1.
    Usr1,
    /// `2`: SIGUSR2.
    Usr2,
}

impl Command {
    /// Every command, in the order of runit's documentation.
    pub const ALL: [Command; 14] = [
        Command::Up,
        Command::Down,
        Command::Once,
        Command::Exit,
        Command::Term,
        Command::Kill,
        Command::Pause,
        Command::Cont,
        Command::Hup,
        Command::Alarm,
        Command::Interrupt,
        Command::Quit,
        Command::Usr1,
        Command::Usr2,
    ];

    /// Decodes a control byte; every other byte is ignored by runsv.
    pub fn from_byte(b: u8) -> Option<Command> {
        Some(match b {
            b'u' => Command::Up,
            b'd' => Command::Down,
            b'o' => Command::Once,
            b'x' => Command::Exit,
            b't' => Command::Term,
            b'k' => Command::Kill,
            b'p' => Command::Pause,
            b'c' => Command::Cont,
            b'h' => Command::Hup,
            b'a' => Command::Alarm,
            b'i' => Command::Interrupt,
            b'q' => Command::Quit,
            b'1' => Command::Usr1,
            b'2' => Command::Usr2,
            _ => return None,
        })
    }

    /// The byte written to the control FIFO.
    pub fn byte(self) -> u8 {
        match self {
            Command::Up => b'u',
            Command::Down => b'd',
            Command::Once => b'o',
            Command::Exit => b'x',
            Command::Term => b't',
            Command::Kill => b'k',
            Command::Pause => b'p',
            Command::Cont => b'c',
            Command::Hup => b'h',
            Command::Alarm => b'a',
            Command::Interrupt => b'i',
            Command::Quit => b'q',
            Command::Usr1 => b'1',
            Command::Usr2 => b'2',
        }
    }

    /// The signal a pure signal command sends (`t k p c h a i q 1 2`).
    pub fn signal(self) -> Option<Signal> {
        Some(match self {
            Command::Term => Signal::SIGTERM,
            Command::Kill => Signal::SIGKILL,
            Command::Pause => Signal::SIGSTOP,
            Command::Cont => Signal::SIGCONT,
            Command::Hup => Signal::SIGHUP,
            Command::Alarm => Signal::SIGALRM,
            Command::Interrupt => Signal::SIGINT,
            Command::Quit => Signal::SIGQUIT,
            Command::Usr1 => Signal::SIGUSR1,
            Command::Usr2 => Signal::SIGUSR2,
            _ => return None,
        })
    }
}

/// Not a runit command: asks our runsv to look again for a `log/` directory added after it
/// started (runsvdir sends it when one appears). runit's runsv ignores it, as any unknown byte.
pub const RECHECK_LOG: u8 = b'L';

/// Path of the control FIFO inside a service directory.
pub const CONTROL: &str = "supervise/control";
/// Path of the liveness FIFO inside a service directory.
pub const OK: &str = "supervise/ok";

/// How a client's open or write failed.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum ClientError {
    /// ENXIO: the FIFO exists but no supervisor holds it open.
    NotRunning,
    /// ENOENT, ENOTDIR or EISDIR: not a supervised service directory (yet).
    NotServiceDir(i32),
    /// Any other failure, with its errno.
    Io(i32),
    /// A symbolic link on the way belongs to another user and leads elsewhere.
    Untrusted(crate::svdir::Untrusted),
}

impl ClientError {
    fn classify(e: &io::Error) -> ClientError {
        use nix::libc::*;
        match e.raw_os_error() {
            Some(ENXIO) => ClientError::NotRunning,
            Some(n @ (ENOENT | ENOTDIR | EISDIR)) => ClientError::NotServiceDir(n),
            Some(n) => ClientError::Io(n),
            None => ClientError::Io(EIO),
        }
    }

    fn from_open(e: crate::svdir::OpenError) -> ClientError {
        match e {
            crate::svdir::OpenError::Io(e) => ClientError::classify(&e),
            crate::svdir::OpenError::Untrusted(u) => ClientError::Untrusted(u),
        }
    }

    /// The errno behind the failure (ENXIO for NotRunning, EPERM for a refused link).
    pub fn errno(self) -> i32 {
        match self {
            ClientError::NotRunning => nix::libc::ENXIO,
            ClientError::NotServiceDir(n) | ClientError::Io(n) => n,
            ClientError::Untrusted(_) => nix::libc::EPERM,
        }
    }

    /// The error text for a message (`file does not exist`, or why a link was refused).
    pub fn text(self) -> String {
        match self {
            ClientError::Untrusted(u) => u.text(),
            e => crate::strerr::errstr(e.errno()).to_string(),
        }
    }
}

/// Opens a FIFO write-only and non-blocking (ENXIO when nobody reads it), for clients that
/// word an open failure and a write failure differently (`sv`) or look at the FIFO before
/// writing.
pub fn open_writer(path: &Path) -> Result<File, ClientError> {
    open_fifo_nonblocking(path)
}

fn open_fifo_nonblocking(path: &Path) -> Result<File, ClientError> {
    OpenOptions::new()
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| ClientError::classify(&e))
}

/// Opens one of the FIFOs of `svdir`'s supervise directory (`rel` is [`OK`] or [`CONTROL`])
/// write-only and non-blocking, with the symlink rule of [`crate::svdir::open_supervised`].
fn open_supervise_fifo(svdir: &Path, rel: &'static str) -> Result<File, ClientError> {
    crate::svdir::open_supervised(svdir, rel, nix::libc::O_WRONLY | nix::libc::O_NONBLOCK)
        .map_err(ClientError::from_open)
}

/// Checks that a supervisor runs for the service directory `svdir` (its `supervise/ok` FIFO
/// has a reader).
pub fn probe(svdir: &Path) -> Result<(), ClientError> {
    open_supervise_fifo(svdir, OK).map(drop)
}

/// Opens `svdir/supervise/control` write-only and non-blocking (ENXIO when no supervisor
/// reads it), for clients that write it themselves (`sv`, `svc`).
pub fn open_control(svdir: &Path) -> Result<File, ClientError> {
    open_supervise_fifo(svdir, CONTROL)
}

/// Opens `svdir/supervise/control` without blocking and writes `bytes` in one blocking write,
/// as runit's `sv` and daemontools' `svc` do.
pub fn send(svdir: &Path, bytes: &[u8]) -> Result<(), ClientError> {
    write_blocking(open_control(svdir)?, bytes)
}

/// Writes `bytes` to a FIFO opened non-blocking, in one blocking write.
fn write_blocking(mut f: File, bytes: &[u8]) -> Result<(), ClientError> {
    // Back to blocking for the write: a full FIFO waits rather than losing commands.
    let _ = fcntl(&f, FcntlArg::F_SETFL(OFlag::empty()));
    f.write_all(bytes).map_err(|e| ClientError::classify(&e))
}

/// Like [`send`], for a control FIFO given by its own path.
pub fn send_to(fifo: &Path, bytes: &[u8]) -> Result<(), ClientError> {
    write_blocking(open_fifo_nonblocking(fifo)?, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip() {
        for c in Command::ALL {
            assert_eq!(Command::from_byte(c.byte()), Some(c));
        }
        for b in [b'e', b's', b'\n', 0u8, b'U'] {
            assert_eq!(Command::from_byte(b), None);
        }
        assert_eq!(Command::Pause.signal(), Some(Signal::SIGSTOP));
        assert_eq!(Command::Up.signal(), None);
    }

    #[test]
    fn probe_without_reader_is_not_running() {
        let dir = std::env::temp_dir().join(format!("control-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("supervise")).unwrap();
        assert_eq!(
            probe(&dir.join("nonexistent")),
            Err(ClientError::NotServiceDir(nix::libc::ENOENT))
        );
        nix::unistd::mkfifo(
            &dir.join(OK),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        assert_eq!(probe(&dir), Err(ClientError::NotRunning));
        let reader = OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(dir.join(OK))
            .unwrap();
        assert_eq!(probe(&dir), Ok(()));
        drop(reader);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
