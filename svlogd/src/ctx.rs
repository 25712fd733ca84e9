//! What every part of a log directory needs to know about the logger in one turn of the
//! event loop: the options that shape its work, the time, and whether TERM came.

use formats::stamp::Timestamp;
use std::time::Instant;

/// What the directory's operations need to know about the logger.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// `-v`.
    pub verbose: bool,
    /// `-l`, for the rotate-at-`s - len` rule.
    pub linemax: u64,
    /// The time of this turn of the event loop.
    pub now: Instant,
    /// TERM was received: do not pause, give up instead.
    pub term: bool,
    /// After TERM: output still pending at this time is given up (left in the pipe for the
    /// next svlogd), so that TERM always ends svlogd within `logger::TERM_LIMIT`.
    pub give_up_at: Option<Instant>,
    /// The command line's timestamp format (a directory's `T` line overrides it).
    pub stamp: Timestamp,
    /// `-L`: directories without an `overload` line drop.
    pub lossy: bool,
}
