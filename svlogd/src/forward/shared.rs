//! What a forwarder thread and the event loop share: the wake-up, the stop flag, the inbox of
//! rotations and receipt marks, and the counters; and what a thread is told about its
//! directory when it starts.

use super::cursor::{FileId, Pos};
use formats::stamp::Timestamp;
use formats::tai64n::Tai64n;
use nix::sys::eventfd::{EfdFlags, EventFd};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Mutex;
use std::time::Duration;

/// How long a stopping forwarder may wait for the collector to acknowledge what is in flight.
pub const STOP_GRACE: Duration = Duration::from_secs(1);
/// At most this many receipt-time marks are kept per target (older ones merge).
pub const MARKS_MAX: usize = 65_536;
/// Marks closer together than this merge into one.
pub const MARK_STEP_NANOS: u64 = 10_000_000;

/// A target's counters, shared between its thread and the event loop. (The backlog is not
/// one: the event loop works it out from [`Inbox::confirmed`] when it writes the status file.)
#[derive(Debug, Default)]
pub struct Stats {
    /// Lines sent (resent ones included).
    pub sent: AtomicU64,
    /// Lines sent again after a reconnection (at most this many duplicates).
    pub resent: AtomicU64,
    /// Failed connection attempts and lost connections.
    pub failed: AtomicU64,
    /// Rotated files deleted before they were sent.
    pub lost_files: AtomicU64,
    /// Their size.
    pub lost_bytes: AtomicU64,
    /// 1 while connected.
    pub connected: AtomicU64,
}

/// Where a forwarder needs the spool to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needed {
    /// Not known yet: keep every rotated file.
    Unknown,
    /// The rotated file with this label and every later one.
    From([u8; 24]),
    /// `current` with this inode (or the rotated file it became) and every later one.
    Current(u64),
}

/// A time of receipt for bytes of `current` up to an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    /// The inode of `current` then.
    pub ino: u64,
    /// Bytes of it written by then.
    pub end: u64,
    /// When.
    pub time: Tai64n,
}

/// What the event loop tells a forwarder thread.
#[derive(Debug)]
pub struct Inbox {
    /// Rotations: inode of the former `current`, label of the file it became.
    pub renames: Vec<(u64, [u8; 24])>,
    /// Receipt times (only for directories without stamps).
    pub marks: VecDeque<Mark>,
    /// What the thread still needs.
    pub needed: Needed,
    /// Where the thread's cursor is (what the collector surely has), once it has read it;
    /// resolved to a rotated file's label where the thread knows of the rotation.
    pub confirmed: Option<Pos>,
    /// Labels whose deletion the pruner already counted as lost.
    pub pruned: Vec<[u8; 24]>,
}

/// State shared by one target's thread and the event loop.
#[derive(Debug)]
pub struct Shared {
    /// An eventfd that wakes the thread.
    pub wake: EventFd,
    /// Set by the thread before it waits: only then is the eventfd written.
    pub sleeping: AtomicBool,
    /// Set to make the thread stop.
    pub stop: AtomicBool,
    /// Messages both ways.
    pub inbox: Mutex<Inbox>,
    /// Counters.
    pub stats: Stats,
}

impl Shared {
    /// A target's shared state, with its wake-up eventfd.
    pub fn new() -> std::io::Result<Shared> {
        let wake = EventFd::from_value_and_flags(0, EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC)
            .map_err(|e| std::io::Error::from_raw_os_error(e as i32))?;
        Ok(Shared {
            wake,
            sleeping: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            inbox: Mutex::new(Inbox {
                renames: Vec::new(),
                marks: VecDeque::new(),
                needed: Needed::Unknown,
                confirmed: None,
                pruned: Vec::new(),
            }),
            stats: Stats::default(),
        })
    }

    /// Wakes the thread.
    pub fn wake(&self) {
        let _ = self.wake.write(1);
    }

    /// Empties the eventfd after a wake-up.
    pub fn drain(&self) {
        let _ = self.wake.read();
    }

    /// The inbox, locked (a thread that panicked holding it left it usable).
    pub fn inbox(&self) -> std::sync::MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Everything a forwarder thread needs to know about its directory.
#[derive(Debug, Clone)]
pub struct DirInfo {
    /// The directory's name as given (messages).
    pub name: Vec<u8>,
    /// The service's name (default APP-NAME).
    pub service: Vec<u8>,
    /// The stamp svlogd writes (`-t` ...).
    pub stamp: Timestamp,
    /// `p`: the prefix after the stamp.
    pub prefix: Vec<u8>,
    /// `-l`: bytes of a line the `>pri` patterns see.
    pub linemax: usize,
    /// `-v`.
    pub verbose: bool,
}

/// The identity of a position's file, for [`Needed`].
pub fn needed_of(file: FileId) -> Needed {
    match file {
        FileId::Archive(l) => Needed::From(l),
        FileId::Current(ino) => Needed::Current(ino),
    }
}
