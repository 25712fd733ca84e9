//! `copy stdout` / `copy stderr`: the lines a directory selects for its log also go to
//! svlogd's standard output or error, each after a prefix (by default the service's name and
//! ` | `), while the directory is still written and rotated as usual. This is the container
//! pattern (`docker logs` shows every service, the files keep the history) without a `tee`
//! and `sed` pipeline.
//!
//! A copy is the line as it came in (no timestamp, no `p` prefix: the container runtime
//! stamps it), up to its newline; a line cut at the end of input gets its newline. Copies of
//! one input chunk go out together after the chunk, directory by directory.
//!
//! In block mode a copy waits for the stream like everything else. In drop mode (see
//! `overload`) a stream that is not ready is not waited for: whole lines that do not fit are
//! dropped and counted (`svlogd_copy_lines_dropped_total`); a line is never cut in the middle.

use nix::poll::{PollFd, PollFlags, PollTimeout};
use std::os::fd::{AsFd, OwnedFd};

/// What a pipe takes in one write without splitting it (POSIX `PIPE_BUF` on Linux).
const PIPE_BUF: usize = 4096;

/// One directory's copy stream.
#[derive(Debug)]
pub struct CopyOut {
    /// svlogd's stdout or stderr (a duplicate of it).
    fd: OwnedFd,
    /// Written before each line.
    prefix: Vec<u8>,
    /// Copies of the chunk being handled.
    buf: Vec<u8>,
    /// A line's beginning went out and its end has not: the rest must follow.
    mid_line: bool,
}

impl CopyOut {
    /// A copy to `fd` (a duplicate of svlogd's stdout or stderr) with `prefix`.
    pub fn new(fd: OwnedFd, prefix: Vec<u8>) -> CopyOut {
        CopyOut {
            fd,
            prefix,
            buf: Vec::new(),
            mid_line: false,
        }
    }

    /// Adds a piece of a line: `first` puts the prefix before it; `newline` ends the line
    /// with a `\n` that is not in `text`.
    #[inline]
    pub fn push(&mut self, first: bool, text: &[u8], newline: bool) {
        if first {
            self.buf.extend_from_slice(&self.prefix);
        }
        self.buf.extend_from_slice(text);
        if newline {
            self.buf.push(b'\n');
        }
    }

    /// Writes what the chunk produced: all of it (`lossy` false), or what the stream takes
    /// now in whole lines. Returns how many lines were dropped.
    pub fn flush(&mut self, lossy: bool) -> u64 {
        if self.buf.is_empty() {
            return 0;
        }
        let mut off = 0;
        let mut dropped = 0;
        while off < self.buf.len() {
            let rest = &self.buf[off..];
            let piece = if lossy && !self.mid_line {
                if !writable(&self.fd) {
                    dropped = memchr::memchr_iter(b'\n', rest).count() as u64;
                    // A line without its newline yet: its end comes with a later chunk, and
                    // is dropped then.
                    self.mid_line = false;
                    break;
                }
                // Whole lines that fit in one atomic pipe write, or one longer line.
                let head = &rest[..rest.len().min(PIPE_BUF)];
                match memchr::memrchr(b'\n', head) {
                    Some(i) => i + 1,
                    None => memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1),
                }
            } else {
                // Finish the line in progress (or, blocking, everything).
                if lossy {
                    memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1)
                } else {
                    rest.len()
                }
            };
            match write_all(&self.fd, &rest[..piece]) {
                Ok(()) => {
                    off += piece;
                    self.mid_line = self.buf[off - 1] != b'\n';
                }
                Err(()) => {
                    // A closed or broken stream: nothing more can go there now.
                    dropped = memchr::memchr_iter(b'\n', rest).count() as u64;
                    self.mid_line = false;
                    break;
                }
            }
        }
        self.buf.clear();
        dropped
    }
}

/// Whether a write to `fd` would not block now.
fn writable(fd: &impl AsFd) -> bool {
    let mut p = [PollFd::new(fd.as_fd(), PollFlags::POLLOUT)];
    matches!(nix::poll::poll(&mut p, PollTimeout::ZERO), Ok(n) if n > 0)
        && p[0]
            .revents()
            .is_some_and(|r| r.contains(PollFlags::POLLOUT))
}

/// Writes all of `data` to `fd` (blocking as the descriptor does).
fn write_all(fd: &impl AsFd, data: &[u8]) -> Result<(), ()> {
    let mut off = 0;
    while off < data.len() {
        match nix::unistd::write(fd, &data[off..]) {
            Ok(0) => return Err(()),
            Ok(n) => off += n,
            Err(nix::errno::Errno::EINTR) => {}
            Err(nix::errno::Errno::EAGAIN) => {
                // A non-blocking stream (set so by someone else): wait for room.
                let mut p = [PollFd::new(fd.as_fd(), PollFlags::POLLOUT)];
                let _ = nix::poll::poll(&mut p, PollTimeout::from(1000u16));
            }
            Err(_) => return Err(()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn lossy_copies_drop_whole_lines_when_the_pipe_is_full() {
        let (rd, wr) = nix::unistd::pipe().unwrap();
        // One page.
        nix::fcntl::fcntl(&wr, nix::fcntl::FcntlArg::F_SETPIPE_SZ(4096)).unwrap();
        let mut c = CopyOut::new(wr.try_clone().unwrap(), b"svc | ".to_vec());
        let line = [b'x'; 99];
        for _ in 0..200 {
            c.push(true, &line, true);
        }
        let dropped = c.flush(true);
        assert!(dropped > 0 && dropped < 200, "{dropped}");
        let mut got = Vec::new();
        drop(c);
        drop(wr);
        std::fs::File::from(rd).read_to_end(&mut got).unwrap();
        assert_eq!(got.len() % 106, 0, "whole lines only");
        assert_eq!(got.len() / 106 + dropped as usize, 200);
        assert!(got.starts_with(b"svc | xxx"));
    }
}
