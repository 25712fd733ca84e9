//! daemontools' filters: `tai64n` puts a TAI64N label in front of every line; `tai64nlocal`
//! turns labels at the start of lines into local time (and, as an addition, svlogd's `-tt` and
//! `-ttt` UTC stamps too; see [`crate::localtime`]).
//!
//! Both read standard input in large chunks straight from fd 0 and write everything they have
//! before reading again, so they work in live pipelines (`tail -f current | tai64nlocal`). A
//! read or write error ends them silently with 111, as daemontools' do. Unlike daemontools'
//! `tai64nlocal`, a malformed label is left as it is (daemontools' crashes) and a last line
//! holding only a label is converted (daemontools' drops it).

use crate::localtime::{Renderer, DECIDE_LEN};
use formats::tai64n::Tai64n;
use nix::errno::Errno;

/// Exit code on a read or write error.
pub const EXIT_IO: i32 = 111;
/// Size of the input buffer.
const CHUNK: usize = 64 * 1024;

fn read_in(buf: &mut [u8]) -> Result<usize, Errno> {
    loop {
        match nix::unistd::read(std::io::stdin(), buf) {
            Err(Errno::EINTR) => continue,
            r => return r,
        }
    }
}

/// Writes all of `data` to fd 1.
pub fn write_out(mut data: &[u8]) -> Result<(), Errno> {
    while !data.is_empty() {
        match nix::unistd::write(std::io::stdout(), data) {
            Ok(n) => data = &data[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `tai64n`: runs the labelling filter and returns the exit code.
pub fn main_tai64n(_argv: Vec<std::ffi::OsString>) -> i32 {
    let mut buf = vec![0u8; CHUNK];
    let mut out = Vec::with_capacity(CHUNK * 2);
    let mut at_line_start = true;
    let mut label = [0u8; 24];
    loop {
        let n = match read_in(&mut buf) {
            Ok(0) => return 0,
            Ok(n) => n,
            Err(_) => return EXIT_IO,
        };
        // Every line whose first byte arrived in this read gets this read's time.
        Tai64n::now().write_hex(&mut label);
        out.clear();
        for &c in &buf[..n] {
            if at_line_start {
                out.push(b'@');
                out.extend_from_slice(&label);
                out.push(b' ');
            }
            out.push(c);
            at_line_start = c == b'\n';
        }
        if write_out(&out).is_err() {
            return EXIT_IO;
        }
    }
}

/// Converts a stream chunk by chunk: a line's start is held back only until it is known
/// whether it begins with a stamp.
#[derive(Default)]
pub struct LocalFilter {
    renderer: Renderer,
    /// The undecided start of the current line.
    pending: Vec<u8>,
    /// Whether the current line's start has already been written.
    mid_line: bool,
}

impl LocalFilter {
    /// A filter at the start of a line.
    pub fn new() -> LocalFilter {
        LocalFilter::default()
    }

    /// Converts `chunk`, appending what can be written now to `out`.
    pub fn feed(&mut self, mut chunk: &[u8], out: &mut Vec<u8>) {
        while !chunk.is_empty() {
            if self.mid_line {
                match memchr::memchr(b'\n', chunk) {
                    Some(i) => {
                        out.extend_from_slice(&chunk[..=i]);
                        chunk = &chunk[i + 1..];
                        self.mid_line = false;
                    }
                    None => {
                        out.extend_from_slice(chunk);
                        return;
                    }
                }
                continue;
            }
            // At a line start: gather enough to decide.
            let nl = memchr::memchr(b'\n', chunk);
            let want = DECIDE_LEN.saturating_sub(self.pending.len());
            let take = match nl {
                Some(i) if i < want => i + 1,
                _ => want.min(chunk.len()),
            };
            self.pending.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            let complete = self.pending.last() == Some(&b'\n');
            if complete || self.pending.len() >= DECIDE_LEN {
                self.renderer.line(&self.pending, out);
                self.pending.clear();
                self.mid_line = !complete;
            }
        }
    }

    /// Converts whatever is left at the end of the input.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.pending.is_empty() {
            self.renderer.line(&self.pending, out);
            self.pending.clear();
        }
        self.mid_line = false;
    }
}

/// `tai64nlocal`: runs the converting filter and returns the exit code.
pub fn main_tai64nlocal(_argv: Vec<std::ffi::OsString>) -> i32 {
    let mut buf = vec![0u8; CHUNK];
    let mut out = Vec::with_capacity(CHUNK * 2);
    let mut filter = LocalFilter::new();
    loop {
        let n = match read_in(&mut buf) {
            Ok(n) => n,
            Err(_) => return EXIT_IO,
        };
        out.clear();
        if n == 0 {
            filter.finish(&mut out);
        } else {
            filter.feed(&buf[..n], &mut out);
        }
        if write_out(&out).is_err() {
            return EXIT_IO;
        }
        if n == 0 {
            return 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_chunking_gives_the_same_output() {
        std::env::set_var("TZ", "UTC");
        let input = b"@400000006b0337972f6e0954 hello\nplain\n\n2026-11-22_18:42:17.03672 x\n@400000006b0337972f6e0954";
        let whole = {
            let mut out = Vec::new();
            let mut f = LocalFilter::new();
            f.feed(input, &mut out);
            f.finish(&mut out);
            out
        };
        for step in 1..40 {
            let mut out = Vec::new();
            let mut f = LocalFilter::new();
            for piece in input.chunks(step) {
                f.feed(piece, &mut out);
            }
            f.finish(&mut out);
            assert_eq!(out, whole, "pieces of {step} bytes");
        }
        let mut out = Vec::new();
        let mut f = LocalFilter::new();
        f.feed(input, &mut out);
        f.finish(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-11-22 18:42:21.795740500 hello\nplain\n\n2026-11-22 18:42:17.03672 x\n2026-11-22 18:42:21.795740500"
        );
    }
}
