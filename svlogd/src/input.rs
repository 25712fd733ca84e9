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

use nix::errno::Errno;
use nix::fcntl::{fcntl, splice, FcntlArg, OFlag, SpliceFFlags};
use nix::libc;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use std::os::fd::{BorrowedFd, OwnedFd};

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
    /// The bytes read and not yet dropped: `buf[..end]` is valid. Empty (freed) while svlogd
    /// idles holding nothing; [`Input::fill`] allocates it again.
    pub buf: Vec<u8>,
    /// The buffer's size when allocated (the room [`Input::fill`] counts on).
    cap: usize,
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

fn stdin() -> BorrowedFd<'static> {
    sys::start::std_fd(0)
}

impl Input {
    /// Sets up standard input: non-blocking (as runit does, for good), peeking when it is a
    /// pipe. `linemax` sizes the buffer so that a line head always fits; `modifies` says that
    /// the owner changes bytes in the buffer (replacement), so held bytes must not be re-read.
    pub fn new(linemax: usize, modifies: bool) -> Input {
        sys::fs::set_nonblock(&stdin());
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
            let _ = fcntl(&t.wr, FcntlArg::F_SETPIPE_SZ((2 * chunk) as i32));
        }
        let cap = chunk + hold_max.max(linemax.saturating_add(1));
        let async_wake = tee.is_some() && set_async(true);
        Input {
            buf: vec![0; cap],
            cap,
            end: 0,
            unconsumed: 0,
            hold_max,
            chunk,
            tee,
            async_wake,
            reread_held: !modifies,
        }
    }

    /// Gives back what the buffer does not hold: all of it when it holds nothing (the
    /// allocator's header would keep its first page otherwise), else its pages past the
    /// valid bytes (see `sys::memory::release`). svlogd waiting for input keeps no burst's
    /// worth of it.
    pub fn release_unused(&mut self) {
        if self.end == 0 {
            self.buf = Vec::new();
            return;
        }
        let end = self.end;
        sys::memory::release(&mut self.buf[end..]);
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
        if self.end >= self.cap {
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
        allocate(&mut self.buf, self.cap);
        match nix::unistd::read(stdin(), &mut self.buf[self.end..]) {
            Ok(0) => Fill::Eof,
            Ok(n) => {
                self.end += n;
                self.unconsumed = self.end;
                Fill::Data(n)
            }
            Err(Errno::EAGAIN | Errno::EINTR) => Fill::Again,
            Err(e) => {
                crate::msg::warn1("unable to read standard input", e as i32);
                Fill::Eof
            }
        }
    }

    /// Peek mode: duplicate the pipe's head, skip what we already hold, read the rest.
    /// `Err` means tee does not work on this fd.
    fn fill_tee(&mut self) -> Result<Fill, ()> {
        let t = self.tee.as_ref().expect("peek mode");
        let held = self.end - self.unconsumed;
        let want = held + (self.cap - self.end).min(self.chunk);
        let n = match nix::fcntl::tee(stdin(), &t.wr, want, SpliceFFlags::SPLICE_F_NONBLOCK) {
            Ok(n) => n,
            Err(Errno::EAGAIN | Errno::EINTR) => return Ok(Fill::Again),
            Err(_) => return Err(()),
        };
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
        allocate(&mut self.buf, self.cap);
        let mut got = 0;
        while got < want {
            match nix::unistd::read(&t.rd, &mut self.buf[at + got..at + want]) {
                Ok(0) => return Err(()),
                Ok(r) => got += r,
                Err(Errno::EINTR) => {}
                Err(_) => return Err(()),
            }
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
                // The bytes are known to be there.
                match splice(
                    stdin(),
                    None,
                    &t.null,
                    None,
                    left,
                    SpliceFFlags::SPLICE_F_NONBLOCK,
                ) {
                    Ok(n) if n > 0 => left -= n,
                    Err(Errno::EINTR) => {}
                    _ => match consume_by_read(left) {
                        0 => break,
                        r => left -= r,
                    },
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
        let st = nix::sys::stat::fstat(stdin()).ok()?;
        if st.st_mode & libc::S_IFMT != libc::S_IFIFO {
            return None;
        }
        let (rd, wr) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK).ok()?;
        let null = nix::fcntl::open(
            "/dev/null",
            OFlag::O_WRONLY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .ok()?;
        Some(Tee { rd, wr, null })
    }
}

/// Moves `n` bytes from `rd` to `null` (skipping bytes of the private pipe we already hold).
/// Never inlined, like [`consume_by_read`]: the scratch buffer of the rare fallback would
/// otherwise sit in the callers' frames, 4 KiB deeper stack (dirty pages) for every svlogd.
#[inline(never)]
fn drain(rd: &OwnedFd, null: &OwnedFd, mut n: usize) -> bool {
    while n > 0 {
        match splice(rd, None, null, None, n, SpliceFFlags::SPLICE_F_NONBLOCK) {
            Ok(r) if r > 0 => n -= r,
            Err(Errno::EINTR) => {}
            // splice to /dev/null refused: read and throw away.
            _ => match read_away(rd, n) {
                Some(r) => n -= r,
                None => return false,
            },
        }
    }
    true
}

/// Allocates the input buffer (`cap` bytes) again if [`Input::release_unused`] freed it:
/// only when bytes come for it.
fn allocate(buf: &mut Vec<u8>, cap: usize) {
    if buf.is_empty() {
        *buf = vec![0; cap];
    }
}

/// Reads up to `n` bytes of `rd` into a scratch buffer and drops them: how many, or `None` at
/// the end or on an error. Never inlined: its buffer is on the stack only when splice fails.
#[cold]
#[inline(never)]
fn read_away(rd: &OwnedFd, n: usize) -> Option<usize> {
    let mut scratch = [0u8; 4096];
    let want = n.min(scratch.len());
    match nix::unistd::read(rd, &mut scratch[..want]) {
        Ok(r) if r > 0 => Some(r),
        _ => None,
    }
}

/// Consumes up to `n` bytes of fd 0 by reading them into a scratch buffer (when splice is not
/// possible). Returns how many were consumed.
#[cold]
#[inline(never)]
fn consume_by_read(n: usize) -> usize {
    let mut scratch = [0u8; 4096];
    let want = n.min(scratch.len());
    nix::unistd::read(stdin(), &mut scratch[..want]).unwrap_or(0)
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
    let now = fcntl(stdin(), FcntlArg::F_GETPIPE_SZ).unwrap_or(-1);
    if now >= 0 && (now as usize) < PIPE_SIZE {
        // A refusal (pipe-max-size, user limits) keeps the old size.
        if let Ok(grown) = fcntl(stdin(), FcntlArg::F_SETPIPE_SZ(PIPE_SIZE as i32)) {
            if grown > 0 {
                return grown as usize;
            }
        }
    }
    now.max(4096) as usize
}

/// Turns `O_ASYNC` (SIGIO to this process on every write to the pipe) on fd 0 on or off.
fn set_async(on: bool) -> bool {
    // Raw libc: nix has no F_SETOWN.
    // SAFETY: fcntl with integer arguments on fd 0.
    if on && unsafe { libc::fcntl(0, libc::F_SETOWN, std::process::id() as libc::c_int) } < 0 {
        return false;
    }
    let Ok(fl) = fcntl(stdin(), FcntlArg::F_GETFL) else {
        return false;
    };
    let mut fl = OFlag::from_bits_retain(fl);
    fl.set(OFlag::O_ASYNC, on);
    fcntl(stdin(), FcntlArg::F_SETFL(fl)).is_ok()
}

/// Whether fd 0's pipe has no writer left (POLLHUP).
fn writer_gone() -> bool {
    let mut p = [PollFd::new(stdin(), PollFlags::POLLIN)];
    matches!(nix::poll::poll(&mut p, PollTimeout::ZERO), Ok(n) if n > 0)
        && p[0]
            .revents()
            .is_some_and(|r| r.contains(PollFlags::POLLHUP))
}
