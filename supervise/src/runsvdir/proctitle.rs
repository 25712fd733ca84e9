//! runsvdir's `log` argument (`spec/supervise.md` §4.4): the stderr of runsvdir, of every
//! runsv and of every service that does not redirect it scrolls through the text of that
//! argument inside runsvdir's own argv, so `ps` (and `/proc/PID/cmdline`) shows recent errors.
//!
//! The argument's first five characters stay; the rest is a window onto the last bytes read.
//! The original argv strings are found from `/proc/self/stat` (`arg_start`) and
//! `/proc/self/cmdline`, and written in place.

use std::fs;

/// The writable window inside the original argv area.
pub struct Proctitle {
    /// Start of the window (the LOG argument's sixth byte).
    ptr: *mut u8,
    /// Its length (the LOG argument's length minus five).
    len: usize,
}

/// The `arg_start` address of this process (field 48 of `/proc/self/stat`).
fn arg_start() -> Option<usize> {
    let stat = fs::read("/proc/self/stat").ok()?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    // Fields after the command start at field 3.
    rest.split_ascii_whitespace().nth(48 - 3)?.parse().ok()
}

impl Proctitle {
    /// Finds argument number `index` (argv\[0\] is 0) in the original argv area, if it still
    /// holds `expected`, and returns the window after its first five bytes.
    pub fn locate(index: usize, expected: &[u8]) -> Option<Proctitle> {
        if expected.len() < 7 {
            return None;
        }
        let cmdline = fs::read("/proc/self/cmdline").ok()?;
        let mut offset = 0;
        for (i, arg) in cmdline.split(|&b| b == 0).enumerate() {
            if i == index {
                if arg != expected {
                    return None;
                }
                let base = arg_start()?;
                return Some(Proctitle {
                    ptr: (base + offset + 5) as *mut u8,
                    len: expected.len() - 5,
                });
            }
            offset += arg.len() + 1;
        }
        None
    }

    /// Scrolls `bytes` in at the end (NUL bytes are dropped: they would cut the argument).
    pub fn push(&mut self, bytes: &[u8]) {
        // SAFETY: ptr..ptr+len lies inside this process's original argv strings (checked
        // against /proc/self/cmdline in `locate`), which stay mapped and writable for the
        // process's life and which nothing else in the program reads.
        let window = unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) };
        scroll(window, bytes);
    }
}

/// Shifts `window` left by the number of non-NUL `bytes` and puts them at its end.
pub fn scroll(window: &mut [u8], bytes: &[u8]) {
    for &b in bytes.iter().filter(|&&b| b != 0) {
        window.copy_within(1.., 0);
        if let Some(last) = window.last_mut() {
            *last = b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrolls_left_and_drops_nul() {
        let mut w = *b"......";
        scroll(&mut w, b"ab\0c");
        assert_eq!(&w, b"...abc");
        scroll(&mut w, b"0123456789");
        assert_eq!(&w, b"456789");
    }
}
