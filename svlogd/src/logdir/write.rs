//! The write path: a directory's pending output into `current`, with runit's size rules
//! (spec/svlogd.md §2.5), runit's disk-full rule, and what happens when a write fails: a pause
//! and a retry in block mode, dropping in drop mode (see `overload`), giving up after TERM.

use super::{Ctx, LogDir, Progress, RETRY};
use crate::faults::clock_now;
use crate::msg;
use formats::stamp::Stamper;
use formats::strerr::errno_of;
use nix::libc;
use std::io::{IoSlice, Write};
use std::time::Instant;

/// At most this many slices per `writev`. Linux takes 1024 (IOV_MAX), but the array is on
/// the stack below the loop that runs for svlogd's whole life, and every page it reaches
/// stays dirty in every svlogd: 1024 slices are 16 KiB, 64 are 1 KiB. A batch is mostly one
/// or two segments (plain runs point into the input, stamped lines are copied together);
/// only selection alternating line by line makes many, and 64 still writes 32 such lines a
/// call.
const IOV_MAX: usize = 64;

impl LogDir {
    /// Writes the pending output (see `progress`); true while the directory holds
    /// the input (output still pending, or a rotation in the middle). In drop mode it never
    /// holds it before TERM: what it cannot take now is shed.
    pub fn flush(&mut self, input: &[u8], ctx: &Ctx) -> Progress {
        let p = self.progress(input, ctx);
        if p == Progress::Yield {
            return p;
        }
        if p == Progress::Done && !self.busy() {
            return Progress::Done;
        }
        if self.add.drop_mode && !ctx.term {
            if !self.out.batch.is_done() {
                self.shed(input, ctx.now);
            }
            return Progress::Done;
        }
        Progress::Blocked
    }

    /// Drop mode: the directory cannot take its pending lines now. They are counted and
    /// dropped, and so is every later line until the directory works again.
    fn shed(&mut self, input: &[u8], now: Instant) {
        let batch = &mut self.out.batch;
        let lines = batch.newlines_left(input);
        // Lines of the batch that did go out before the directory stopped.
        let went = batch.lines().saturating_sub(lines);
        batch.clear();
        self.cut_open_line();
        self.add.lines_written(went, now);
        if self.add.dropping(lines, clock_now(), now) {
            msg::warnx("dropping lines, directory cannot keep up", &self.name);
        }
    }

    /// When a write stopped in the middle of a line (a disk filling up takes the part of a
    /// write that fits) and the line will not be finished here, the part of it already in
    /// `current` is cut off again, so the log holds whole lines only: in drop mode the line
    /// is dropped and counted with the rest (if the cut fails, the part stays and the marker
    /// goes on a line of its own after it); after TERM the input is not consumed, and the
    /// next svlogd writes the whole line.
    fn cut_open_line(&mut self) {
        if !self.line_open || self.open_bytes == 0 || self.open_bytes > self.size {
            return;
        }
        let Some(cur) = &self.current else { return };
        let keep = self.size - self.open_bytes;
        if cur.set_len(keep).is_ok() {
            self.add.unwritten(self.open_bytes);
            self.size = keep;
            self.line_open = false;
            self.open_bytes = 0;
        }
    }

    /// A step failed (its message is printed): wait [`RETRY`], or give up after TERM.
    ///
    /// A directory that was removed while open (no links left) cannot work again: waiting
    /// would only block the other directories for ever (runit pauses for ever). It is closed
    /// with a warning, as if it had failed to open, until the next HUP; when no directory is
    /// left, svlogd exits 111 (see `Logger::run`).
    pub(crate) fn failed(&mut self, ctx: &Ctx) -> Progress {
        if self.dir.as_ref().is_some_and(sys::dirfd::removed) {
            msg::warnx("log directory removed, giving it up", &self.name);
            self.out.batch.clear();
            self.close(ctx);
            return Progress::Done;
        }
        if ctx.term {
            self.abandon();
            return Progress::Done;
        }
        self.retry_at = Some(ctx.now + RETRY);
        Progress::Blocked
    }

    /// Gives up the pending output and rotation after TERM; `current` stays without u+x.
    pub(super) fn abandon(&mut self) {
        self.cut_open_line();
        self.out.batch.clear();
        self.rotation = None;
        self.retry_at = None;
        self.unclean = true;
    }

    /// Whether output was given up (then the input must not be consumed).
    pub fn gave_up(&self) -> bool {
        self.unclean
    }

    /// At the end (EOF or TERM), drop mode: the directory may work again before its retry
    /// time came; one more try writes the marker, so the count of the dropped lines is not
    /// lost with the process (it was, when no line came after the directory recovered). When
    /// the marker cannot be written (the disk is still full), its text goes to stderr as a
    /// warning instead: the count is never lost silently.
    pub(super) fn write_final_marker(&mut self, ctx: &Ctx) {
        if self.add.marker_due().is_none() || !self.is_open() {
            return;
        }
        if self.rotation.is_none() && !self.unclean {
            self.retry_at = None;
            let _ = self.write_marker(ctx);
        }
        if let Some(d) = self.add.marker_due() {
            self.add.marker_done(0, ctx.now);
            let text = d.marker();
            let what = format!(
                "{}, unable to write the marker",
                text.trim_end().trim_start_matches("svlogd: ")
            );
            msg::warnx(&what, &self.name);
        }
    }

    /// Drop mode, after lines were dropped: writes the marker line (with the directory's
    /// stamp), rotating first if it would not fit under `s`. The marker goes in whole or not
    /// at all: the part of it a full disk took is cut off again, so that nothing is glued to
    /// a fragment later.
    fn write_marker(&mut self, ctx: &Ctx) -> Progress {
        let Some(d) = self.add.marker_due() else {
            return Progress::Done;
        };
        // On a line of its own, after the stamp the directory's lines get.
        let mut text = if self.line_open {
            b"\n".to_vec()
        } else {
            Vec::new()
        };
        text.extend_from_slice(Stamper::new(self.stamp).render(clock_now()));
        text.extend_from_slice(d.marker().as_bytes());
        let sizemax = self.cfg.sizemax;
        if sizemax > 0 && self.size > 0 && self.size + text.len() as u64 > sizemax {
            self.start_rotation(ctx);
            return Progress::Done;
        }
        let before = self.size;
        let mut done = 0;
        loop {
            let Some(cur) = &self.current else {
                return Progress::Done;
            };
            let errno = match (&*cur).write(&text[done..]) {
                Ok(w) if done + w == text.len() => break,
                Ok(w) => {
                    done += w;
                    continue;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => errno_of(&e),
            };
            if errno == libc::ENOSPC && self.delete_for_space() {
                continue;
            }
            let cut = self
                .current
                .as_ref()
                .is_some_and(|c| c.set_len(before).is_ok());
            if done > 0 && !cut {
                // The part stays; what follows must start on a line of its own.
                self.size = before + done as u64;
                self.line_open = true;
                self.open_bytes = 0;
            }
            self.pause("unable to write to current", errno);
            return self.failed(ctx);
        }
        self.size = before + text.len() as u64;
        self.add.marker_done(text.len() as u64, ctx.now);
        self.line_open = false;
        self.open_bytes = 0;
        Progress::Done
    }

    /// Writes as much of the batch as possible, rotating where the size rules say. `input`
    /// is the buffer the batch's segments point into.
    fn progress(&mut self, input: &[u8], ctx: &Ctx) -> Progress {
        // After output was given up nothing more goes to `current` (not the unfinished line
        // svlogd writes on its way out, now that the cut may have made room): the input stays
        // in the pipe for the next svlogd.
        if !self.is_open() || self.unclean {
            self.out.batch.clear();
            return Progress::Done;
        }
        if let Some(t) = self.retry_at {
            if t > ctx.now && !ctx.term {
                return Progress::Blocked;
            }
            self.retry_at = None;
        }
        let started = Instant::now();
        loop {
            // A failed step after TERM gives the output up (see `failed`), and a directory
            // removed while open is closed: nothing more is tried here.
            if !self.is_open() || self.unclean {
                self.out.batch.clear();
                return Progress::Done;
            }
            let now = Instant::now();
            if ctx.give_up_at.is_some_and(|t| now >= t) {
                self.give_up_at_exit();
                return Progress::Done;
            }
            if now.duration_since(started) >= super::SLICE {
                return Progress::Yield;
            }
            if self.rotation.is_some() && self.advance_rotation(ctx) == Progress::Blocked {
                return Progress::Blocked;
            }
            if self.add.marker_due().is_some() {
                match self.write_marker(ctx) {
                    Progress::Done => continue,
                    p => return p,
                }
            }
            let batch = &mut self.out.batch;
            if batch.is_done() {
                if !batch.is_empty() {
                    self.add.lines_written(batch.lines(), ctx.now);
                }
                batch.clear();
                return Progress::Done;
            }
            let sizemax = self.cfg.sizemax;
            if sizemax > 0 && self.size >= sizemax {
                self.start_rotation(ctx);
                continue;
            }
            let Some(cur) = &self.current else {
                // Only after output was given up.
                return Progress::Done;
            };
            let batch = &mut self.out.batch;
            let mut allow = batch.remaining();
            let mut rotate_after = false;
            if sizemax > 0 {
                allow = allow.min(usize::try_from(sizemax - self.size).unwrap_or(usize::MAX));
                // Rotate after the first newline that brings the size to `s - len` or more
                // (the subtraction wraps as in runit: with s < len only the hard cap applies).
                let threshold = sizemax.wrapping_sub(ctx.linemax);
                let from = threshold.saturating_sub(self.size).saturating_sub(1);
                if let Ok(from) = usize::try_from(from) {
                    if from < allow {
                        if let Some(q) = batch.find_newline(input, from, allow) {
                            allow = q + 1;
                            rotate_after = true;
                        }
                    }
                }
            }
            let (result, wanted, open_bytes) = write_out(cur, batch, input, allow, self.open_bytes);
            match result {
                Ok(w) => {
                    batch.advance(input, w);
                    if w > 0 {
                        self.line_open = batch.last_written(input) != Some(b'\n');
                        self.open_bytes = open_bytes;
                    }
                    self.size += w as u64;
                    self.add.written(w as u64, self.size);
                    if rotate_after && w == wanted && wanted == allow {
                        self.start_rotation(ctx);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let errno = errno_of(&e);
                    if errno == libc::ENOSPC && self.delete_for_space() {
                        continue;
                    }
                    self.pause("unable to write to current", errno);
                    return self.failed(ctx);
                }
            }
        }
    }
}

/// One `writev` of the batch's next `allow` bytes (at most [`IOV_MAX`] segments): what it
/// returned, how many bytes it was given, and the unfinished line's length afterwards if it
/// wrote any (`open` before). Never inlined, so its slice array is on the stack only during
/// the call, below the main loop, not under every other call the loop makes.
#[inline(never)]
fn write_out(
    cur: &std::fs::File,
    batch: &crate::batch::Batch,
    input: &[u8],
    allow: usize,
    open: u64,
) -> (std::io::Result<usize>, usize, u64) {
    let mut iov = [IoSlice::new(&[]); IOV_MAX];
    let n = batch.slices(input, allow, &mut iov);
    let wanted: usize = iov[..n].iter().map(|s| s.len()).sum();
    let result = (&*cur).write_vectored(&iov[..n]);
    let open = match result {
        Ok(w) => open_tail(&iov[..n], w, open),
        Err(_) => open,
    };
    (result, wanted, open)
}

/// The bytes of an unfinished line at the end of what a write put out (the first `w` bytes of
/// `iov`): those after its last newline, plus `open` (the line's earlier part) when it has
/// none.
fn open_tail(iov: &[IoSlice], w: usize, open: u64) -> u64 {
    let mut left = w;
    let mut tail = open;
    for s in iov {
        if left == 0 {
            break;
        }
        let part = &s[..s.len().min(left)];
        left -= part.len();
        tail = match memchr::memrchr(b'\n', part) {
            Some(p) => (part.len() - p - 1) as u64,
            None => tail + part.len() as u64,
        };
    }
    tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_tail_is_what_follows_the_last_newline_written() {
        let (a, b) = (IoSlice::new(b"12 12\n13 1"), IoSlice::new(b"3\n14 14\n"));
        // All written: the line is closed.
        assert_eq!(open_tail(&[a, b], 18, 0), 0);
        // Stopped inside the first slice: `13 1` is open.
        assert_eq!(open_tail(&[a, b], 10, 0), 4);
        // Stopped in the second slice after its newline: `14` is open.
        assert_eq!(open_tail(&[a, b], 14, 0), 2);
        // No newline at all: added to the part already open.
        assert_eq!(open_tail(&[IoSlice::new(b"abc")], 3, 5), 8);
    }
}
