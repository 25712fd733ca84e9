//! Standard output for the tools: SIGPIPE back to its default action (so `sv status | head`
//! ends quietly, as the C tools do) and one buffered writer flushed at the points where the
//! reference tools flush.

use std::io::{self, Write};

/// Restores the default SIGPIPE action, which Rust's runtime sets to "ignore" before `main`.
/// Call first thing in a tool's `main`; the default action also crosses `exec` into children.
pub fn default_sigpipe() {
    sys::signal::set(
        nix::sys::signal::Signal::SIGPIPE,
        sys::signal::Disposition::Default,
    );
}

/// Prints an optional message and a usage line to stderr; returns the usage exit code (100),
/// for the tools that follow s6's exit-code convention.
pub fn usage(message: Option<String>, usage: &str) -> i32 {
    if let Some(m) = message {
        formats::strerr::say(&[&m]);
    }
    formats::strerr::say(&[usage]);
    100
}

/// A line-oriented stdout writer: text is gathered and written out at [`Out::flush`], the
/// places where runit's `buffer_flush(buffer_1)` happens.
pub struct Out {
    buf: Vec<u8>,
}

impl Default for Out {
    fn default() -> Self {
        Self::new()
    }
}

impl Out {
    /// An empty buffer.
    pub fn new() -> Out {
        Out {
            buf: Vec::with_capacity(256),
        }
    }

    /// Appends text.
    pub fn put(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// Appends raw bytes.
    pub fn put_bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// Writes what was gathered to fd 1. Errors are ignored, as runit ignores them.
    pub fn flush(&mut self) {
        if !self.buf.is_empty() {
            let mut o = io::stdout().lock();
            let _ = o.write_all(&self.buf);
            let _ = o.flush();
            self.buf.clear();
        }
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        self.flush();
    }
}
