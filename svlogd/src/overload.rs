//! `overload drop` (and `-L`): a directory that cannot keep up drops lines instead of making
//! the writer wait, and says so.
//!
//! "Cannot keep up" is any state in which runit's svlogd would stop reading: a write or a
//! rotation step failed and waits for its retry (disk full beyond what `N` may delete, a
//! read-only or failing disk), or a rotation waits for the processor because the `queue` is
//! full. In block mode (the default) svlogd stops reading, as runit does. In drop mode it
//! keeps reading: that directory's pending lines and every later line are dropped and counted
//! (other directories, and the directory's `copy` stream, are not affected), and a warning
//! goes to stderr when dropping starts
//! (runsvdir shows it in its process title). Once the directory works again, the first thing
//! written to it is a marker line, with the directory's usual stamp:
//! `svlogd: dropped N lines between T1 and T2`, T1 and T2 being when the first and the last
//! dropped line came in (RFC 3339, UTC). The count is also in the status file
//! (`svlogd_lines_dropped_total`). Nothing is dropped without both.
//!
//! A write that is merely slow (the kernel blocks svlogd inside `write(2)`) cannot be told
//! apart from one that works: svlogd has one thread for all writing, so it waits for that
//! write in either mode.
//!
//! `-L` is upstream runit's option name for its lossy mode (g-pape/runit #25, 2026); its
//! text was not available to us, so ours is documented here rather than claimed equal: with
//! `-L`, every directory without an `overload` line drops.

use formats::stamp::rfc3339_utc;
use formats::tai64n::Tai64n;

/// Lines dropped since the last marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    /// How many.
    pub lines: u64,
    /// When the first came in.
    pub first: Tai64n,
    /// When the last came in.
    pub last: Tai64n,
}

impl Dropped {
    /// A period that starts with `lines` lines at `now`.
    pub fn new(lines: u64, now: Tai64n) -> Dropped {
        Dropped {
            lines,
            first: now,
            last: now,
        }
    }

    /// `lines` more at `now`.
    pub fn add(&mut self, lines: u64, now: Tai64n) {
        self.lines += lines;
        self.last = now;
    }

    /// The marker line's text after the stamp, newline included.
    pub fn marker(&self) -> String {
        format!(
            "svlogd: dropped {} lines between {} and {}\n",
            self.lines,
            rfc3339_utc(self.first),
            rfc3339_utc(self.last)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_text() {
        let mut d = Dropped::new(3, Tai64n::from_unix(1_795_372_937, 500));
        d.add(4, Tai64n::from_unix(1_795_372_999, 1_000_500));
        assert_eq!(
            d.marker(),
            "svlogd: dropped 7 lines between 2026-11-22T18:42:17.000000Z and \
             2026-11-22T18:43:19.001000Z\n"
        );
    }
}
