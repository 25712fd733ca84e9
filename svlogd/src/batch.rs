//! A directory's pending output: the bytes one chunk of input produced for its `current`.
//!
//! Plain lines stay where they are: segments point into the input buffer, and a run of lines
//! is one segment, written with no copy. Lines that get a timestamp or prefix are copied, with
//! it, into the batch's own buffer, so a chunk still goes out in one or two large writes
//! (a `writev` of a thousand 26-byte stamps and 100-byte lines costs the kernel twice as much
//! as one contiguous buffer).
//!
//! A batch can be written in several goes (short writes, a rotation in the middle, a full
//! disk): the batch knows how much of it is done. Segments hold offsets, not borrows, so a
//! half-written batch survives across turns of the event loop while the input buffer stays
//! untouched.

use std::io::IoSlice;

/// Where a segment's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seg {
    /// `len` bytes of the input buffer from `start`.
    Input { start: usize, len: usize },
    /// `len` bytes of the batch's own buffer from `start`.
    Extra { start: usize, len: usize },
    /// A `\n` that is not in the input (a line cut by end of input).
    Newline,
}

/// Room for `n` more elements in `v`, and for `least` in all.
#[cold]
#[inline(never)]
fn grow<T>(v: &mut Vec<T>, n: usize, least: usize) {
    let want = (v.len() + n).max(least);
    v.reserve(want - v.len());
}

fn seg_len(seg: Seg) -> usize {
    match seg {
        Seg::Input { len, .. } | Seg::Extra { len, .. } => len,
        Seg::Newline => 1,
    }
}

/// The least room either buffer of a batch starts with, in bytes: more than glibc's
/// per-thread cache takes (chunks up to 1032 bytes). A small buffer outgrown or freed would
/// sit in that cache, and one near the top of the heap keeps every page below it from being
/// given back while svlogd idles (`sys::memory::trim_heap`); a larger one goes back to the
/// heap's free space.
const START_BYTES: usize = 2048;

/// One directory's pending output.
#[derive(Debug, Default)]
pub struct Batch {
    segs: Vec<Seg>,
    extra: Own,
    total: usize,
    /// Bytes already written.
    pos: usize,
    /// Lines the batch ends (see [`Batch::count_line`]).
    lines: u64,
    /// The segment holding byte `pos`, and the offset of `pos` in it.
    cursor: (usize, usize),
}

impl Batch {
    /// Whether every byte has been written (or there were none).
    pub fn is_done(&self) -> bool {
        self.pos >= self.total
    }

    /// Bytes not yet written.
    pub fn remaining(&self) -> usize {
        self.total - self.pos
    }

    /// Forgets everything (after it was written, or when it is abandoned).
    pub fn clear(&mut self) {
        self.segs.clear();
        self.extra.clear();
        self.total = 0;
        self.pos = 0;
        self.cursor = (0, 0);
        self.lines = 0;
    }

    /// Frees the buffers when everything is written: an idle svlogd keeps none (a smaller
    /// buffer kept would be moved to new heap pages, which then stay dirty), and the next
    /// chunk allocates them again, once.
    pub fn shrink(&mut self) {
        if self.is_done() {
            self.clear();
            self.segs = Vec::new();
            self.extra = Own::default();
        }
    }

    /// Notes that the bytes pushed so far end a line (for the status file's count).
    #[inline]
    pub fn count_line(&mut self) {
        self.lines += 1;
    }

    /// Lines ended by the batch's bytes.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The last byte written so far, if any.
    pub fn last_written(&self, input: &[u8]) -> Option<u8> {
        let (i, off) = self.cursor;
        if off > 0 {
            return self.bytes(self.segs[i], input).get(off - 1).copied();
        }
        self.segs[..i.min(self.segs.len())]
            .iter()
            .rev()
            .find_map(|&seg| self.bytes(seg, input).last().copied())
    }

    /// How many `\n` the unwritten bytes hold.
    pub fn newlines_left(&self, input: &[u8]) -> u64 {
        let (mut i, mut off) = self.cursor;
        let mut n = 0;
        while i < self.segs.len() {
            n += memchr::memchr_iter(b'\n', &self.bytes(self.segs[i], input)[off..]).count() as u64;
            i += 1;
            off = 0;
        }
        n
    }

    /// Appends `len` input bytes from `start`, merging with the previous segment when they
    /// follow it in the buffer (a run of plain lines becomes one segment).
    pub fn push_input(&mut self, start: usize, len: usize) {
        if len == 0 {
            return;
        }
        if let Some(Seg::Input { start: s, len: l }) = self.segs.last_mut() {
            if *s + *l == start {
                *l += len;
                self.total += len;
                return;
            }
        }
        self.push_seg(Seg::Input { start, len });
        self.total += len;
    }

    /// Appends a copy of `parts` (a stamped line, or svlogd's own text such as a UDP
    /// warning), merging with the previous copy.
    pub fn push_text(&mut self, parts: &[&[u8]]) {
        let Some((start, len)) = self.copy_in(parts) else {
            return;
        };
        self.total += len;
        if let Some(Seg::Extra { start: s, len: l }) = self.segs.last_mut() {
            if *s + *l == start {
                *l += len;
                return;
            }
        }
        self.push_seg(Seg::Extra { start, len });
    }

    /// Appends a copy of a stamped line: stamp, prefix, text, newline (any may be empty).
    #[inline]
    pub fn push_line(&mut self, stamp: &[u8], prefix: &[u8], text: &[u8], newline: &[u8]) {
        let start = self.extra.len();
        let len = stamp.len() + prefix.len() + text.len() + newline.len();
        if len == 0 {
            return;
        }
        self.extra.reserve(len);
        // Every part through `append`: the stamp (26 bytes for -tt) and the one-byte newline
        // would each be a call of musl's memcpy per line.
        self.extra.append(stamp);
        self.extra.append(prefix);
        self.extra.append(text);
        self.extra.append(newline);
        self.total += len;
        if let Some(Seg::Extra { start: s, len: l }) = self.segs.last_mut() {
            if *s + *l == start {
                *l += len;
                return;
            }
        }
        self.push_seg(Seg::Extra { start, len });
    }

    /// Appends a segment.
    #[inline]
    fn push_seg(&mut self, seg: Seg) {
        self.reserve_segs(1);
        self.segs.push(seg);
    }

    /// Room for `n` more segments, at least [`START_BYTES`] of them in all.
    #[inline]
    fn reserve_segs(&mut self, n: usize) {
        if self.segs.capacity() - self.segs.len() < n {
            let least = START_BYTES.div_ceil(std::mem::size_of::<Seg>());
            grow(&mut self.segs, n, least);
        }
    }

    /// Copies `parts` to the end of the batch's own buffer: (offset, length), or `None` when
    /// they are empty.
    fn copy_in(&mut self, parts: &[&[u8]]) -> Option<(usize, usize)> {
        let start = self.extra.len();
        self.extra.reserve(parts.iter().map(|p| p.len()).sum());
        for p in parts {
            self.extra.append(p);
        }
        let len = self.extra.len() - start;
        (len > 0).then_some((start, len))
    }

    /// How many bytes the batch holds in all (written or not).
    pub fn len(&self) -> usize {
        self.total
    }

    /// Whether the batch holds nothing at all.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Inserts a copy of `parts` at byte offset `at` of a batch nothing of which has been
    /// written yet (a UDP failure warning goes before the line it is about).
    pub fn insert_text(&mut self, at: usize, parts: &[&[u8]]) {
        debug_assert_eq!(self.pos, 0);
        let Some((start, len)) = self.copy_in(parts) else {
            return;
        };
        let ins = Seg::Extra { start, len };
        self.reserve_segs(2);
        let mut off = 0;
        let mut i = 0;
        while i < self.segs.len() && off < at {
            let seg_len = seg_len(self.segs[i]);
            if off + seg_len > at {
                // Split this segment at `at`.
                let k = at - off;
                let (a, b) = match self.segs[i] {
                    Seg::Input { start, len } => (
                        Seg::Input { start, len: k },
                        Seg::Input {
                            start: start + k,
                            len: len - k,
                        },
                    ),
                    Seg::Extra { start, len } => (
                        Seg::Extra { start, len: k },
                        Seg::Extra {
                            start: start + k,
                            len: len - k,
                        },
                    ),
                    Seg::Newline => unreachable!("a newline has no inside"),
                };
                self.segs[i] = a;
                self.segs.insert(i + 1, b);
                i += 1;
                break;
            }
            off += seg_len;
            i += 1;
        }
        self.segs.insert(i, ins);
        self.total += len;
    }

    /// Appends a `\n` that is not in the input.
    pub fn push_newline(&mut self) {
        self.push_seg(Seg::Newline);
        self.total += 1;
    }

    fn bytes<'a>(&'a self, seg: Seg, input: &'a [u8]) -> &'a [u8] {
        match seg {
            Seg::Input { start, len } => &input[start..start + len],
            Seg::Extra { start, len } => &self.extra.bytes()[start..start + len],
            Seg::Newline => b"\n",
        }
    }

    /// Slices for the next `max` unwritten bytes (at most `iov.len()` slices); returns how
    /// many slices were filled.
    pub fn slices<'a>(&'a self, input: &'a [u8], max: usize, iov: &mut [IoSlice<'a>]) -> usize {
        let (mut i, mut off) = self.cursor;
        let mut left = max;
        let mut n = 0;
        while left > 0 && n < iov.len() && i < self.segs.len() {
            let b = &self.bytes(self.segs[i], input)[off..];
            let take = b.len().min(left);
            if take > 0 {
                iov[n] = IoSlice::new(&b[..take]);
                n += 1;
                left -= take;
            }
            i += 1;
            off = 0;
        }
        n
    }

    /// Marks `n` more bytes as written.
    pub fn advance(&mut self, input: &[u8], mut n: usize) {
        self.pos += n;
        let (mut i, mut off) = self.cursor;
        while n > 0 && i < self.segs.len() {
            let len = self.bytes(self.segs[i], input).len() - off;
            if n < len {
                off += n;
                n = 0;
            } else {
                n -= len;
                i += 1;
                off = 0;
            }
        }
        // Skip segments that are empty (a zero-length prefix cannot occur, but be safe).
        while i < self.segs.len() && off == 0 && self.bytes(self.segs[i], input).is_empty() {
            i += 1;
        }
        self.cursor = (i, off);
    }

    /// The offset, counted from the first unwritten byte, of the first `\n` at or after
    /// offset `from` and before `limit`.
    pub fn find_newline(&self, input: &[u8], from: usize, limit: usize) -> Option<usize> {
        let (mut i, mut off) = self.cursor;
        let mut base = 0; // offset (from the cursor) of the current segment's byte `off`
        while i < self.segs.len() && base < limit {
            let b = &self.bytes(self.segs[i], input)[off..];
            let seg_end = base + b.len();
            if seg_end > from {
                let lo = from.saturating_sub(base);
                let hi = b.len().min(limit - base);
                if lo < hi {
                    if let Some(k) = memchr::memchr(b'\n', &b[lo..hi]) {
                        return Some(base + lo + k);
                    }
                }
            }
            base = seg_end;
            i += 1;
            off = 0;
        }
        None
    }
}

/// The batch's own bytes, with zeroed room after them that a copy writes into as a slice: a
/// `Vec`'s spare capacity is not one, and filling it piece by piece through
/// `extend_from_slice` checks the capacity at every piece.
#[derive(Debug, Default)]
struct Own {
    /// `buf[..len]` are the bytes; the rest of `buf` is room.
    buf: Vec<u8>,
    len: usize,
}

impl Own {
    fn len(&self) -> usize {
        self.len
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Room for `n` more bytes, at least [`START_BYTES`] in all.
    #[inline]
    fn reserve(&mut self, n: usize) {
        if self.buf.len() - self.len < n {
            self.grow(n);
        }
    }

    /// Doubles the room (or more, as `n` needs), zeroing the new part once.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, n: usize) {
        let want = (self.len + n).max(START_BYTES).max(2 * self.buf.len());
        self.buf.resize(want, 0);
    }

    /// Appends `src` (a line, its stamp, prefix or newline) into room [`Own::reserve`]d
    /// before.
    #[inline]
    fn append(&mut self, src: &[u8]) {
        let end = self.len + src.len();
        copy(&mut self.buf[self.len..end], src);
        self.len = end;
    }
}

/// Copies `src` over `dst` (the same length). On musl, lines up to 256 bytes are copied
/// inline: musl's `memcpy` (`rep movsq`) takes tens of cycles to start, as long as the whole
/// copy of a short line, and svlogd -tt copies every line (measured: a quarter of the static
/// musl build's time was in it). Elsewhere the C library's `memcpy` is the faster.
#[inline(always)]
fn copy(dst: &mut [u8], src: &[u8]) {
    if cfg!(target_env = "musl") && src.len() <= 256 {
        copy_inline(dst, src);
    } else {
        dst.copy_from_slice(src);
    }
}

/// [`copy`] without a call or a loop (a loop of block copies is turned back into a `memcpy`
/// call by the compiler): a block of the largest power of two not over the length from the
/// start, and another that ends at the end, overlapping it (those bytes are written twice,
/// the same), as glibc copies short lengths.
#[inline(always)]
fn copy_inline(dst: &mut [u8], src: &[u8]) {
    let dst = &mut dst[..src.len()];
    match src.len() {
        0 => {}
        1 => dst[0] = src[0],
        2..=3 => copy_ends::<2>(dst, src),
        4..=7 => copy_ends::<4>(dst, src),
        8..=15 => copy_ends::<8>(dst, src),
        16..=31 => copy_ends::<16>(dst, src),
        32..=63 => copy_ends::<32>(dst, src),
        64..=127 => copy_ends::<64>(dst, src),
        128..=256 => copy_ends::<128>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}

/// Copies the first and the last `W` bytes of `src` (at least `W`, at most `2 * W` long) over
/// `dst` (as long): all of it.
#[inline(always)]
fn copy_ends<const W: usize>(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    dst[..W].copy_from_slice(&src[..W]);
    dst[n - W..].copy_from_slice(&src[n - W..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_start_past_the_allocators_small_chunk_cache() {
        let mut b = Batch::default();
        b.push_line(b"stamp ", b"", b"one line", b"\n");
        b.push_input(100, 10);
        assert!(b.extra.capacity() >= START_BYTES);
        assert!(b.segs.capacity() * std::mem::size_of::<Seg>() >= START_BYTES);
        let mut t = Batch::default();
        t.insert_text(0, &[b"warning\n"]);
        assert!(t.segs.capacity() * std::mem::size_of::<Seg>() >= START_BYTES);
        assert!(t.extra.capacity() >= START_BYTES);
        // And growth past it keeps every byte.
        for i in 0..1000 {
            b.push_line(b"s ", b"", format!("line {i}").as_bytes(), b"\n");
        }
        assert_eq!(b.segs.len(), 3, "copy, input, copy");
        assert!(b.extra.bytes().ends_with(b"s line 999\n"));
    }

    #[test]
    fn the_inline_copy_copies_exactly_the_bytes() {
        let src: Vec<u8> = (0..600u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..=600 {
            let mut a = vec![0xee; len + 8];
            super::copy_inline(&mut a[4..4 + len], &src[..len]);
            assert_eq!(&a[4..4 + len], &src[..len], "{len}");
            assert!(
                a[..4].iter().chain(&a[4 + len..]).all(|&b| b == 0xee),
                "{len}"
            );
            let mut own = Own::default();
            own.reserve(4 + len);
            own.append(b"head");
            own.append(&src[..len]);
            assert_eq!(&own.bytes()[4..], &src[..len], "{len}");
        }
    }

    fn collect(b: &Batch, input: &[u8]) -> Vec<u8> {
        let mut iov = [IoSlice::new(&[]); 64];
        let n = b.slices(input, usize::MAX, &mut iov);
        iov[..n].iter().flat_map(|s| s.iter().copied()).collect()
    }

    #[test]
    fn segments_merge_and_resolve() {
        let input = b"one\ntwo\nthree\n";
        let mut b = Batch::default();
        b.push_input(0, 4);
        b.push_input(4, 4);
        assert_eq!(b.segs.len(), 1);
        b.push_text(&[b"STAMP ", b"P:", &input[8..14]]);
        b.push_text(&[b"warn", b"ing\n"]);
        assert_eq!(b.segs.len(), 2);
        b.push_newline();
        let all = collect(&b, input);
        let want = b"one\ntwo\nSTAMP P:three\nwarning\n\n".to_vec();
        assert_eq!(all, want);
        assert_eq!(b.remaining(), want.len());

        // Partial progress and newline search from the cursor.
        b.advance(input, 5);
        assert_eq!(collect(&b, input), want[5..].to_vec());
        assert_eq!(b.find_newline(input, 0, usize::MAX), Some(2));
        assert_eq!(b.find_newline(input, 3, usize::MAX), Some(3 + 6 + 2 + 5));
        assert_eq!(b.find_newline(input, 3, 10), None);
        b.advance(input, b.remaining());
        assert!(b.is_done());
        b.clear();
        assert!(b.is_done() && b.remaining() == 0);
    }

    #[test]
    fn insert_splits_a_merged_segment() {
        let input = b"aaaa\nbbbb\n";
        let mut b = Batch::default();
        b.push_input(0, 10);
        b.insert_text(5, &[b"W\n"]);
        b.insert_text(0, &[b"V\n"]);
        b.insert_text(b.len(), &[b"Z\n"]);
        assert_eq!(collect(&b, input), b"V\naaaa\nW\nbbbb\nZ\n");
        assert_eq!(b.remaining(), 16);
    }

    #[test]
    fn slices_respect_max() {
        let input = b"abcdef";
        let mut b = Batch::default();
        b.push_input(0, 3);
        b.push_newline();
        b.push_input(3, 3);
        let mut iov = [IoSlice::new(&[]); 8];
        let n = b.slices(input, 4, &mut iov);
        let got: Vec<u8> = iov[..n].iter().flat_map(|s| s.iter().copied()).collect();
        assert_eq!(got, b"abc\n");
        b.advance(input, 2);
        let mut iov = [IoSlice::new(&[]); 8];
        let n = b.slices(input, 3, &mut iov);
        let got: Vec<u8> = iov[..n].iter().flat_map(|s| s.iter().copied()).collect();
        assert_eq!(got, b"c\nd");
    }
}
