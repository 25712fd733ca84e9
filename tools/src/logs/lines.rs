//! Cutting a log's bytes into lines across file boundaries, and giving every line a moment.
//!
//! svlogd can split one line over two files (its size limit cuts a write), so the tail of one
//! file and the head of the next are joined. A line's moment is its own stamp's; a line without
//! a stamp takes the moment of the line before it, or the earliest moment its file could have
//! been written at (the previous rotation), whichever is later. That keeps unstamped lines next
//! to their neighbours when several logs are merged, and lets `--since` work on unstamped logs.

use crate::localtime::{line_moment, Moment};

/// The earliest moment, for lines nothing is known about.
pub const BEGINNING: Moment = Moment {
    secs: i64::MIN,
    nanos: 0,
};

/// The splitter's state between chunks.
pub struct Lines {
    partial: Vec<u8>,
    last: Moment,
}

impl Default for Lines {
    fn default() -> Self {
        Self::new()
    }
}

impl Lines {
    /// At the start of a log.
    pub fn new() -> Lines {
        Lines {
            partial: Vec::new(),
            last: BEGINNING,
        }
    }

    /// A new file starts whose lines cannot be older than `floor`.
    pub fn file_start(&mut self, floor: Moment) {
        if floor > self.last {
            self.last = floor;
        }
    }

    fn moment(&mut self, line: &[u8]) -> Moment {
        if let Some(m) = line_moment(line) {
            self.last = m;
        }
        self.last
    }

    /// Splits `data`, calling `emit` with each complete line (newline included).
    pub fn feed(&mut self, mut data: &[u8], emit: &mut dyn FnMut(Moment, &[u8])) {
        while let Some(i) = memchr::memchr(b'\n', data) {
            let (line, rest) = data.split_at(i + 1);
            data = rest;
            if self.partial.is_empty() {
                let m = self.moment(line);
                emit(m, line);
            } else {
                self.partial.extend_from_slice(line);
                let whole = std::mem::take(&mut self.partial);
                let m = self.moment(&whole);
                emit(m, &whole);
            }
        }
        self.partial.extend_from_slice(data);
    }

    /// Emits a last line that has no newline, if there is one.
    pub fn finish(&mut self, emit: &mut dyn FnMut(Moment, &[u8])) {
        if !self.partial.is_empty() {
            let whole = std::mem::take(&mut self.partial);
            let m = self.moment(&whole);
            emit(m, &whole);
        }
    }

    /// Whether a line is waiting for its end.
    pub fn has_partial(&self) -> bool {
        !self.partial.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_across_files_and_inherits_moments() {
        let mut l = Lines::new();
        let mut got: Vec<(Moment, String)> = Vec::new();
        let mut emit = |m: Moment, b: &[u8]| got.push((m, String::from_utf8_lossy(b).into()));
        l.feed(b"first\n@400000006b0337972f6e0954 sta", &mut emit);
        l.file_start(Moment { secs: 5, nanos: 0 });
        l.feed(b"mped\nnext\n", &mut emit);
        l.feed(b"tail", &mut emit);
        l.finish(&mut emit);
        let stamped = Moment {
            secs: 1_795_372_941,
            nanos: 0x2f6e_0954,
        };
        assert_eq!(
            got,
            [
                (BEGINNING, "first\n".to_string()),
                (stamped, "@400000006b0337972f6e0954 stamped\n".to_string()),
                (stamped, "next\n".to_string()),
                (stamped, "tail".to_string()),
            ]
        );
    }
}
