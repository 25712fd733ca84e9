//! The line splitter: turns input chunks into runit's per-line decisions and log pieces, with
//! no I/O and no allocation (spec/svlogd.md §7).
//!
//! runit reads a line's first `len` (`-l`) bytes, decides where the line goes (patterns, stderr,
//! UDP) on that head, then copies the rest of a longer line to the log raw, up to its newline.
//! The splitter reproduces that over whole chunks: it works on offsets into the caller's
//! buffer, emits [`Event::Head`] once per line when its head is known, then one or more
//! [`Event::Body`] pieces for the log. A line that is not finished stays *pending* (its bytes
//! stay in the buffer, unwritten) until its newline arrives, it grows too long to hold
//! ([`Splitter::spill`]: what is there is written and the rest streams through), or input
//! ends ([`Splitter::finish`]: it is written with a newline added, spec §12 items 1 and 2).
//!
//! Each line carries the clock reading of the chunk that brought its first byte.

use formats::tai64n::Tai64n;
use std::ops::Range;

/// How a body piece ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnd {
    /// More of this line will follow.
    Open,
    /// The piece ends with the line's `\n`, which is inside the range.
    InBuffer,
    /// The line was cut short (end of input, or TERM): the caller adds the `\n`.
    Added,
}

/// What the splitter found, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A line's head is known: its first `len` bytes, or all of it if it is shorter. Decide
    /// where the line goes. `truncated` is true when the line is `len` bytes or longer (runit
    /// then adds `...` on stderr and UDP). Comes once per line, before its first body piece.
    Head {
        /// The head's bytes in the buffer (replace and match these).
        head: Range<usize>,
        /// The line reached `len` bytes.
        truncated: bool,
        /// The clock reading taken when the line's first byte arrived.
        stamp: Tai64n,
    },
    /// Bytes of the current line for the log.
    Body {
        /// The bytes in the buffer (may be empty for a cut line's added newline).
        bytes: Range<usize>,
        /// How many leading bytes of `bytes` are within the line's first `len` bytes and were
        /// not part of a head event: they still need `-r`/`-R` replacing. Non-zero only for a
        /// line written before its head was complete ([`Splitter::spill`] with `force`).
        replace: usize,
        /// The line's first piece: the timestamp and prefix go before it.
        first: bool,
        /// How the piece ends.
        end: LineEnd,
    },
}

/// Where the line being read stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No line started.
    Between,
    /// A line started at `start`; nothing of it has been written. `decided`: its head event
    /// was emitted.
    Pending {
        start: usize,
        stamp: Tai64n,
        decided: bool,
    },
    /// Part of the line was written; the rest goes to the log as it comes. `seen` counts the
    /// line's bytes so far (for replacing within the first `len`).
    Streaming { seen: usize },
}

/// The splitting state between chunks.
#[derive(Debug, Clone)]
pub struct Splitter {
    linemax: usize,
    state: State,
}

impl Splitter {
    /// A splitter for `-l linemax` (at least 1).
    pub fn new(linemax: usize) -> Splitter {
        Splitter {
            linemax: linemax.max(1),
            state: State::Between,
        }
    }

    /// The buffer offset where the pending (unwritten) line starts, if there is one.
    pub fn pending_start(&self) -> Option<usize> {
        match self.state {
            State::Pending { start, .. } => Some(start),
            _ => None,
        }
    }

    /// Whether the pending line's head has been decided (so it can be spilled).
    pub fn pending_decided(&self) -> bool {
        matches!(self.state, State::Pending { decided: true, .. })
    }

    /// Whether a line has started and not ended (pending or streaming).
    pub fn in_line(&self) -> bool {
        self.state != State::Between
    }

    /// Splits the new bytes `buf[from..]`, which arrived at clock reading `now`; bytes before
    /// `from` are the pending line's, already seen. Events are appended to `out`.
    pub fn feed(&mut self, buf: &[u8], from: usize, now: Tai64n, out: &mut Vec<Event>) {
        self.feed_with(buf, from, now, |e| out.push(e));
    }

    /// [`Splitter::feed`], handing each event to `out` as it is found (the hot path: no
    /// event list in between).
    #[inline]
    pub fn feed_with(&mut self, buf: &[u8], from: usize, now: Tai64n, mut out: impl FnMut(Event)) {
        let end = buf.len();
        let mut pos = from;
        loop {
            match self.state {
                State::Between => {
                    if pos >= end {
                        return;
                    }
                    self.state = State::Pending {
                        start: pos,
                        stamp: now,
                        decided: false,
                    };
                }
                State::Pending {
                    start,
                    stamp,
                    decided,
                } => {
                    let nl = memchr::memchr(b'\n', &buf[pos..end]).map(|i| pos + i);
                    if !decided {
                        let line_len = nl.unwrap_or(end) - start;
                        if line_len >= self.linemax {
                            out(Event::Head {
                                head: start..start + self.linemax,
                                truncated: true,
                                stamp,
                            });
                        } else if let Some(p) = nl {
                            out(Event::Head {
                                head: start..p,
                                truncated: false,
                                stamp,
                            });
                        } else {
                            return;
                        }
                        self.state = State::Pending {
                            start,
                            stamp,
                            decided: true,
                        };
                    }
                    match nl {
                        Some(p) => {
                            out(Event::Body {
                                bytes: start..p + 1,
                                replace: 0,
                                first: true,
                                end: LineEnd::InBuffer,
                            });
                            self.state = State::Between;
                            pos = p + 1;
                        }
                        None => return,
                    }
                }
                State::Streaming { seen } => {
                    if pos >= end {
                        return;
                    }
                    let nl = memchr::memchr(b'\n', &buf[pos..end]);
                    let stop = nl.map_or(end, |i| pos + i + 1);
                    let body = stop - pos - usize::from(nl.is_some());
                    out(Event::Body {
                        bytes: pos..stop,
                        replace: self.linemax.saturating_sub(seen).min(body),
                        first: false,
                        end: if nl.is_some() {
                            LineEnd::InBuffer
                        } else {
                            LineEnd::Open
                        },
                    });
                    if nl.is_some() {
                        self.state = State::Between;
                    } else {
                        self.state = State::Streaming {
                            seen: seen.saturating_add(body),
                        };
                    }
                    pos = stop;
                }
            }
        }
    }

    /// Writes out what is held of the pending line and lets the rest stream: the line grew
    /// too long to hold back, or svlogd is about to wait with it unfinished. An undecided
    /// line is only spilled with `force` (the caller knows no directory needs its head: no
    /// patterns, no UDP); it then gets an empty head event first, and its bytes within the
    /// first `len` are marked for replacing. Returns false (and does nothing) otherwise.
    pub fn spill(&mut self, end: usize, force: bool, out: &mut Vec<Event>) -> bool {
        let State::Pending {
            start,
            stamp,
            decided,
        } = self.state
        else {
            return false;
        };
        if !decided && !force {
            return false;
        }
        let len = end - start;
        if !decided {
            out.push(Event::Head {
                head: start..start,
                truncated: false,
                stamp,
            });
        }
        out.push(Event::Body {
            bytes: start..end,
            replace: if decided { 0 } else { len },
            first: true,
            end: LineEnd::Open,
        });
        self.state = State::Streaming { seen: len };
        true
    }

    /// Input ends (EOF, or the wait after TERM is over): the unfinished line, if any, is
    /// decided if need be and written with a newline added. `end` is the buffer's end.
    pub fn finish(&mut self, end: usize, out: &mut Vec<Event>) {
        match self.state {
            State::Between => {}
            State::Pending {
                start,
                stamp,
                decided,
            } => {
                if !decided {
                    out.push(Event::Head {
                        head: start..end,
                        truncated: end - start >= self.linemax,
                        stamp,
                    });
                }
                out.push(Event::Body {
                    bytes: start..end,
                    replace: 0,
                    first: true,
                    end: LineEnd::Added,
                });
            }
            State::Streaming { .. } => out.push(Event::Body {
                bytes: end..end,
                replace: 0,
                first: false,
                end: LineEnd::Added,
            }),
        }
        self.state = State::Between;
    }

    /// The caller dropped the first `by` bytes of its buffer: move the pending line's offset.
    pub fn shift(&mut self, by: usize) {
        if let State::Pending { start, .. } = &mut self.state {
            *start -= by;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Tai64n = Tai64n { secs: 1, nanos: 0 };
    const T1: Tai64n = Tai64n { secs: 2, nanos: 0 };

    fn head(r: Range<usize>, truncated: bool, stamp: Tai64n) -> Event {
        Event::Head {
            head: r,
            truncated,
            stamp,
        }
    }

    fn body(r: Range<usize>, first: bool, end: LineEnd) -> Event {
        Event::Body {
            bytes: r,
            replace: 0,
            first,
            end,
        }
    }

    #[test]
    fn complete_lines_in_one_chunk() {
        let mut s = Splitter::new(1000);
        let mut ev = Vec::new();
        s.feed(b"ab\n\ncd\n", 0, T0, &mut ev);
        assert_eq!(
            ev,
            vec![
                head(0..2, false, T0),
                body(0..3, true, LineEnd::InBuffer),
                head(3..3, false, T0),
                body(3..4, true, LineEnd::InBuffer),
                head(4..6, false, T0),
                body(4..7, true, LineEnd::InBuffer),
            ]
        );
        assert!(!s.in_line());
    }

    #[test]
    fn a_pending_line_keeps_its_first_stamp() {
        let mut s = Splitter::new(1000);
        let mut ev = Vec::new();
        s.feed(b"a\npar", 0, T0, &mut ev);
        assert_eq!(s.pending_start(), Some(2));
        ev.clear();
        s.feed(b"a\npartial\n", 5, T1, &mut ev);
        assert_eq!(
            ev,
            vec![head(2..9, false, T0), body(2..10, true, LineEnd::InBuffer)]
        );
    }

    #[test]
    fn long_lines_are_decided_at_len() {
        // spec §7: a line of exactly len bytes is "truncated" too (runit adds `...`).
        let mut s = Splitter::new(3);
        let mut ev = Vec::new();
        s.feed(b"abc\nabcdef\nab\n", 0, T0, &mut ev);
        assert_eq!(
            ev,
            vec![
                head(0..3, true, T0),
                body(0..4, true, LineEnd::InBuffer),
                head(4..7, true, T0),
                body(4..11, true, LineEnd::InBuffer),
                head(11..13, false, T0),
                body(11..14, true, LineEnd::InBuffer),
            ]
        );
        // Decided while still pending: the head comes at once, the body when the line ends.
        let mut s = Splitter::new(3);
        ev.clear();
        s.feed(b"abcd", 0, T0, &mut ev);
        assert_eq!(ev, vec![head(0..3, true, T0)]);
        assert!(s.pending_decided());
    }

    #[test]
    fn spill_then_stream() {
        let mut s = Splitter::new(2);
        let mut ev = Vec::new();
        s.feed(b"abcd", 0, T0, &mut ev);
        assert!(s.spill(4, false, &mut ev));
        assert_eq!(s.pending_start(), None);
        ev.clear();
        s.feed(b"ef\ngh", 0, T1, &mut ev);
        assert_eq!(
            ev,
            vec![body(0..3, false, LineEnd::InBuffer), head(3..5, true, T1),]
        );
        // Undecided lines spill only when forced; their head bytes are then replaced as
        // they come.
        let mut s = Splitter::new(5);
        s.feed(b"abc", 0, T0, &mut ev);
        assert!(!s.spill(3, false, &mut ev));
        ev.clear();
        assert!(s.spill(3, true, &mut ev));
        assert_eq!(
            ev,
            vec![
                head(0..0, false, T0),
                Event::Body {
                    bytes: 0..3,
                    replace: 3,
                    first: true,
                    end: LineEnd::Open
                }
            ]
        );
        ev.clear();
        s.feed(
            b"defgh
", 0, T1, &mut ev,
        );
        assert_eq!(
            ev,
            vec![Event::Body {
                bytes: 0..6,
                replace: 2,
                first: false,
                end: LineEnd::InBuffer
            }]
        );
    }

    #[test]
    fn finish_adds_the_missing_newline() {
        // spec §12 item 1: `printf 'a\nb-partial'` keeps b-partial.
        let mut s = Splitter::new(1000);
        let mut ev = Vec::new();
        s.feed(b"a\nb-partial", 0, T0, &mut ev);
        ev.clear();
        s.finish(11, &mut ev);
        assert_eq!(
            ev,
            vec![head(2..11, false, T0), body(2..11, true, LineEnd::Added)]
        );
        // A streaming line gets its newline too.
        let mut s = Splitter::new(1);
        s.feed(b"abc", 0, T0, &mut ev);
        s.spill(3, false, &mut ev);
        ev.clear();
        s.finish(0, &mut ev);
        assert_eq!(ev, vec![body(0..0, false, LineEnd::Added)]);
        ev.clear();
        s.finish(0, &mut ev);
        assert!(ev.is_empty());
    }

    #[test]
    fn shift_moves_the_pending_line() {
        let mut s = Splitter::new(100);
        let mut ev = Vec::new();
        s.feed(b"xx\nab", 0, T0, &mut ev);
        s.shift(3);
        assert_eq!(s.pending_start(), Some(0));
        ev.clear();
        s.feed(b"abc\n", 2, T1, &mut ev);
        assert_eq!(
            ev,
            vec![head(0..3, false, T0), body(0..4, true, LineEnd::InBuffer)]
        );
    }
}
