//! Standard input, taken so that a SIGKILL loses nothing.
//!
//! runit's svlogd `read()`s up to `-b` bytes before it writes them, so whatever it holds when
//! it is killed is gone (about one line per kill). Here, when fd 0 is a pipe, input is
//! *peeked*: `tee(2)` duplicates the pipe's contents into a private pipe without consuming
//! them, svlogd reads its copy, writes the complete lines to every directory, and only then
//! consumes exactly those bytes from fd 0 (`splice` to /dev/null). A logger killed at any
//! moment leaves every line it did not write in the pipe, for the next svlogd that runit (or a
//! test) starts on the same pipe. A kill between the write and the consume makes the next
//! svlogd write those lines again: duplicates are possible (at most one chunk per kill), loss
//! is not. Written data needs no fsync for this: the page cache outlives the process.
//!
//! `tee` always starts at the head of the pipe, so a partial line left unconsumed is seen
//! again on every round; the bytes already held are skipped (spliced to /dev/null from the
//! private pipe). Waiting for *more* input while such a line sits in the pipe cannot use
//! poll: the pipe is never empty, so a level-triggered poll spins, and Linux does not wake an
//! edge-triggered epoll when a writer fills a non-empty pipe and blocks (that deadlocks). What
//! Linux does do for every write, blocked or not, is the `O_ASYNC` notification: fd 0 gets
//! `O_ASYNC` with svlogd as its owner, SIGIO goes to the signalfd, and while
//! [`Input::held`] is non-zero the loop waits for that signal instead of polling fd 0. EOF is
//! `tee` returning 0 (pipe empty, no writer), or POLLHUP when the only bytes left are the
//! partial line already held. If `O_ASYNC` cannot be set, the owner must not wait while
//! holding bytes ([`Input::wakes_on_write`]).
//!
//! When fd 0 is not a pipe (a file, a tty, a socket, /dev/null) or `tee` refuses it, input is
//! plain non-blocking `read(2)`.
//!
//! The buffer has ripgrep's line-buffer shape: [`Input::fill`] appends, the owner consumes and
//! [`Input::compact`]s; offsets below `unconsumed` are gone from the pipe.

use nix::libc;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// At most this many new bytes are taken per round (a chunk), whatever the pipe's size.
const CHUNK_MAX: usize = 128 * 1024;
/// The capacity svlogd gives its input pipe if it is smaller (Linux's default is 64 KiB).
/// runit's svlogd emptied the pipe a kilobyte at a time; ours leaves a chunk in the pipe until
/// it is written, so it makes the pipe larger to leave the writer as much room as before.
/// This is more buffering for the service, never less, and costs kernel memory only while
/// the pipe is full.
pub const PIPE_SIZE: usize = 256 * 1024;

/// What a fill produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// This many new bytes were appended.
    Data(usize),
    /// Nothing new yet; wait on [`Input::wait_fd`].
    Again,
    /// End of input (or a read error, after runit's warning).
    Eof,
}

/// The private pipe and friends for peeking at a pipe on fd 0.
#[derive(Debug)]
struct Tee {
    /// Read end of the private pipe.
    rd: OwnedFd,
    /// Write end of the private pipe.
    wr: OwnedFd,
    /// /dev/null, where consumed and skipped bytes are spliced.
    null: OwnedFd,
}

/// Standard input with its buffer.
#[derive(Debug)]
pub struct Input {
    /// The bytes read and not yet dropped: `buf[..end]` is valid.
    pub buf: Vec<u8>,
    /// Valid bytes in `buf`.
    pub end: usize,
    /// `buf[unconsumed..end]` is still at the head of the pipe (peek mode); before it, the
    /// bytes are gone from the pipe. In read mode it is always `end`.
    unconsumed: usize,
    /// Lines may be held back unconsumed only up to this length.
    hold_max: usize,
    /// At most this many new bytes are peeked per round.
    chunk: usize,
    tee: Option<Tee>,
    /// fd 0 has `O_ASYNC`: every write to the pipe raises SIGIO.
    async_wake: bool,
    /// The held bytes are never modified in the buffer (no `-r`/`-R`), so a peek may read
    /// them again over themselves instead of skipping them (one system call less a round).
    reread_held: bool,
}

fn errno() -> i32 {
    nix::errno::Errno::last_raw()
}

fn stdin() -> BorrowedFd<'static> {
    // SAFETY: fd 0 stays open for the life of the process.
    unsafe { BorrowedFd::borrow_raw(0) }
}

impl Input {
    /// Sets up standard input: non-blocking (as runit does, for good), peeking when it is a
    /// pipe. `linemax` sizes the buffer so that a line head always fits; `modifies` says that
    /// the owner changes bytes in the buffer (replacement), so held bytes must not be re-read.
    pub fn new(linemax: usize, modifies: bool) -> Input {
        // SAFETY: fcntl on fd 0.
        unsafe {
            let fl = libc::fcntl(0, libc::F_GETFL);
            if fl >= 0 {
                libc::fcntl(0, libc::F_SETFL, fl | libc::O_NONBLOCK);
            }
        }
        let tee = Tee::new();
        let pipe_size = match &tee {
            Some(_) => grow_pipe(),
            None => 2 * CHUNK_MAX,
        };
        // Peek at most half the pipe's capacity per round: the writer fills the other half
        // while this part is written, so both sides keep working.
        let chunk = (pipe_size / 2).clamp(1, CHUNK_MAX);
        let hold_max = (chunk / 2).max(1);
        if let Some(t) = &tee {
            // The private pipe must hold the held bytes and a chunk.
            // SAFETY: fcntl on our own pipe.
            unsafe { libc::fcntl(t.wr.as_raw_fd(), libc::F_SETPIPE_SZ, (2 * chunk) as i32) };
        }
        let cap = chunk + hold_max.max(linemax.saturating_add(1));
        let async_wake = tee.is_some() && set_async(true);
        Input {
            buf: vec![0; cap],
            end: 0,
            unconsumed: 0,
            hold_max,
            chunk,
            tee,
            async_wake,
            reread_held: !modifies,
        }
    }

    /// Whether a write to the pipe raises SIGIO, so svlogd may wait while holding bytes.
    pub fn wakes_on_write(&self) -> bool {
        self.async_wake
    }

    /// Whether input is peeked (fd 0 is a pipe) rather than read.
    pub fn peeking(&self) -> bool {
        self.tee.is_some()
    }

    /// How long a pending line may grow before it must be written or taken out of the pipe.
    pub fn hold_max(&self) -> usize {
        self.hold_max
    }

    /// How many bytes at the end of the buffer are still in the pipe (not yet consumed).
    pub fn held(&self) -> usize {
        self.end - self.unconsumed
    }

    /// The descriptor to poll for readability before the next [`Input::fill`]. Only wait
    /// on it when [`Input::held`] is 0.
    pub fn wait_fd(&self) -> BorrowedFd<'static> {
        stdin()
    }

    /// Appends whatever input is available now, without blocking.
    pub fn fill(&mut self) -> Fill {
        if self.end >= self.buf.len() {
            return Fill::Again;
        }
        if self.tee.is_some() {
            match self.fill_tee() {
                Ok(f) => return f,
                Err(_) => {
                    // tee refused this pipe: fall back to reading, keeping what we hold.
                    self.consume_to(self.end);
                    self.tee = None;
                    if self.async_wake {
                        set_async(false);
                        self.async_wake = false;
                    }
                }
            }
        }
        let room = &mut self.buf[self.end..];
        // SAFETY: read into our own buffer.
        let n = unsafe { libc::read(0, room.as_mut_ptr().cast(), room.len()) };
        match n {
            0 => Fill::Eof,
            n if n > 0 => {
                self.end += n as usize;
                self.unconsumed = self.end;
                Fill::Data(n as usize)
            }
            _ => match errno() {
                libc::EAGAIN | libc::EINTR => Fill::Again,
                e => {
                    crate::msg::warn1("unable to read standard input", e);
                    Fill::Eof
                }
            },
        }
    }

    /// Peek mode: duplicate the pipe's head, skip what we already hold, read the rest.
    /// `Err` means tee does not work on this fd.
    fn fill_tee(&mut self) -> Result<Fill, ()> {
        let t = self.tee.as_ref().expect("peek mode");
        let held = self.end - self.unconsumed;
        let want = held + (self.buf.len() - self.end).min(self.chunk);
        // SAFETY: tee between fd 0 and our private pipe.
        let n = unsafe { libc::tee(0, t.wr.as_raw_fd(), want, libc::SPLICE_F_NONBLOCK) };
        if n < 0 {
            return match errno() {
                libc::EAGAIN | libc::EINTR => Ok(Fill::Again),
                _ => Err(()),
            };
        }
        let n = n as usize;
        if n == 0 {
            return Ok(Fill::Eof);
        }
        let skip = n.min(held);
        let fresh = n - skip;
        if fresh == 0 {
            if !drain(&t.rd, &t.null, skip) {
                return Err(());
            }
            // Only the partial line we already hold: has the writer gone?
            return Ok(if writer_gone() {
                Fill::Eof
            } else {
                Fill::Again
            });
        }
        // Where the read goes: over the held bytes (they are the same bytes), or after them
        // once they are skipped.
        let at = if self.reread_held && skip == held {
            self.unconsumed
        } else {
            if skip > 0 && !drain(&t.rd, &t.null, skip) {
                return Err(());
            }
            self.end
        };
        let want = self.end + fresh - at;
        let mut got = 0;
        while got < want {
            let dst = &mut self.buf[at + got..at + want];
            // SAFETY: read from our private pipe into our own buffer.
            let r = unsafe { libc::read(t.rd.as_raw_fd(), dst.as_mut_ptr().cast(), dst.len()) };
            if r <= 0 {
                if r < 0 && errno() == libc::EINTR {
                    continue;
                }
                return Err(());
            }
            got += r as usize;
        }
        self.end += fresh;
        Ok(Fill::Data(fresh))
    }

    /// Consumes from the pipe every byte before buffer offset `upto` that is still in it
    /// (nothing in read mode). Call only once those bytes are written (or deliberately taken
    /// out of the pipe to be held in memory).
    pub fn consume_to(&mut self, upto: usize) {
        if upto <= self.unconsumed {
            return;
        }
        if let Some(t) = &self.tee {
            let mut left = upto - self.unconsumed;
            while left > 0 {
                // SAFETY: splice from fd 0 to /dev/null; the bytes are known to be there.
                let n = unsafe {
                    libc::splice(
                        0,
                        std::ptr::null_mut(),
                        t.null.as_raw_fd(),
                        std::ptr::null_mut(),
                        left,
                        libc::SPLICE_F_NONBLOCK,
                    )
                };
                if n > 0 {
                    left -= n as usize;
                } else if n < 0 && errno() == libc::EINTR {
                    continue;
                } else {
                    match consume_by_read(left) {
                        0 => break,
                        r => left -= r,
                    }
                }
            }
        }
        self.unconsumed = upto;
    }

    /// Drops `buf[..from]` (already consumed) and moves the rest to the front. Returns how
    /// far offsets moved.
    pub fn compact(&mut self, from: usize) -> usize {
        debug_assert!(from <= self.unconsumed || self.tee.is_none());
        if from == 0 {
            return 0;
        }
        self.buf.copy_within(from..self.end, 0);
        self.end -= from;
        self.unconsumed = self.unconsumed.saturating_sub(from);
        from
    }
}

impl Tee {
    fn new() -> Option<Tee> {
        // SAFETY: fstat of fd 0 into a zeroed buffer.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(0, &mut st) } < 0 || st.st_mode & libc::S_IFMT != libc::S_IFIFO {
            return None;
        }
        let mut fds = [0i32; 2];
        // SAFETY: pipe2 into a local array; the fds are owned right after.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
            return None;
        }
        // SAFETY: just created, owned by nobody else.
        let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let null = {
            // SAFETY: open of a constant path.
            let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
            if fd < 0 {
                return None;
            }
            // SAFETY: just opened.
            unsafe { OwnedFd::from_raw_fd(fd) }
        };
        Some(Tee { rd, wr, null })
    }
}

/// Moves `n` bytes from `rd` to `null` (skipping bytes of the private pipe we already hold).
fn drain(rd: &OwnedFd, null: &OwnedFd, mut n: usize) -> bool {
    while n > 0 {
        // SAFETY: splice between our own descriptors.
        let r = unsafe {
            libc::splice(
                rd.as_raw_fd(),
                std::ptr::null_mut(),
                null.as_raw_fd(),
                std::ptr::null_mut(),
                n,
                libc::SPLICE_F_NONBLOCK,
            )
        };
        if r > 0 {
            n -= r as usize;
        } else if r < 0 && errno() == libc::EINTR {
            continue;
        } else {
            // splice to /dev/null refused: read and throw away.
            let mut scratch = [0u8; 4096];
            let want = n.min(scratch.len());
            // SAFETY: read into a local buffer.
            let r = unsafe { libc::read(rd.as_raw_fd(), scratch.as_mut_ptr().cast(), want) };
            if r <= 0 {
                return false;
            }
            n -= r as usize;
        }
    }
    true
}

/// Consumes up to `n` bytes of fd 0 by reading them into a scratch buffer (when splice is not
/// possible). Returns how many were consumed.
fn consume_by_read(n: usize) -> usize {
    let mut scratch = [0u8; 4096];
    let want = n.min(scratch.len());
    // SAFETY: read into a local buffer.
    let r = unsafe { libc::read(0, scratch.as_mut_ptr().cast(), want) };
    r.max(0) as usize
}

impl Drop for Input {
    fn drop(&mut self) {
        if self.async_wake {
            set_async(false);
        }
    }
}

/// Grows fd 0's pipe to [`PIPE_SIZE`] if it is smaller; returns its capacity.
fn grow_pipe() -> usize {
    // SAFETY: fcntl on fd 0.
    let now = unsafe { libc::fcntl(0, libc::F_GETPIPE_SZ) };
    if now >= 0 && (now as usize) < PIPE_SIZE {
        // SAFETY: as above; a refusal (pipe-max-size, user limits) keeps the old size.
        let grown = unsafe { libc::fcntl(0, libc::F_SETPIPE_SZ, PIPE_SIZE as i32) };
        if grown > 0 {
            return grown as usize;
        }
    }
    now.max(4096) as usize
}

/// Turns `O_ASYNC` (SIGIO to this process on every write to the pipe) on fd 0 on or off.
fn set_async(on: bool) -> bool {
    // SAFETY: fcntl on fd 0.
    unsafe {
        if on && libc::fcntl(0, libc::F_SETOWN, libc::getpid()) < 0 {
            return false;
        }
        let fl = libc::fcntl(0, libc::F_GETFL);
        if fl < 0 {
            return false;
        }
        let fl = if on {
            fl | libc::O_ASYNC
        } else {
            fl & !libc::O_ASYNC
        };
        libc::fcntl(0, libc::F_SETFL, fl) >= 0
    }
}

/// Whether fd 0's pipe has no writer left (POLLHUP).
fn writer_gone() -> bool {
    let mut p = libc::pollfd {
        fd: 0,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: poll on one local pollfd, no timeout.
    let r = unsafe { libc::poll(&mut p, 1, 0) };
    r > 0 && p.revents & libc::POLLHUP != 0
}
