//! One target's thread: read lines from the spool, render them as syslog messages, send them,
//! and keep the cursor.
//!
//! Messages are rendered in batches of about [`BATCH`] bytes. Each batch is recorded with the
//! stream offset where it ends and the spool position after its last line. TCP has no
//! receipts: a collector that is stopped or killed loses what its kernel acknowledged but it
//! had not read, and what it had read but not yet written. So a batch is confirmed (its end
//! becomes the cursor) only once the collector's host has acknowledged it ([`Link::acked`],
//! from `SIOCOUTQ`) *and* either [`WINDOW`] has passed since, or [`MARGIN`] more bytes were
//! acknowledged after it. When the connection is lost, every batch not yet confirmed is sent
//! again after reconnecting: duplicates are possible (they are counted in `resent`, an upper
//! bound), losses are not, unless the collector discards what it had for longer than that.
//! Over UDP a datagram counts as acknowledged when it is sent; an ICMP "port unreachable"
//! (the collector is down) is taken as a lost connection, so the same rule resends the
//! datagrams of the last second.
//!
//! Reconnection waits 0.1 s, doubling up to [`BACKOFF_MAX`]; the wait and the outage end when
//! something is delivered (confirmed), not when a socket connects (a UDP socket always does).
//! The first failure of an outage gets a warning on stderr (one an outage); with `-v`, every
//! connection and every failed retry gets an `info:` line.

use super::config::{ForwardConfig, Target, Transport};
use super::cursor::{Cursor, FileId, Pos, PREFIX};
use super::shared::{needed_of, DirInfo, Mark, Shared, STOP_GRACE};
use super::spool::{Missing, Spool, LONG_LINE};
use super::syslog::{Renderer, Wire};
use super::transport::{wait, Link, LinkError};
use crate::msg;
use formats::archive::label_of as archive_label;
use formats::stamp;
use formats::stamp::Timestamp;
use formats::tai64n::Tai64n;
use nix::libc;
use std::collections::VecDeque;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use sys::dirfd::list;

/// Rendered bytes per batch.
pub const BATCH: usize = 64 * 1024;
/// At most this much is queued ahead of the socket.
const QUEUE_MAX: usize = 512 * 1024;
/// A batch followed by this many acknowledged bytes is taken as read by the collector.
pub const MARGIN: u64 = 256 * 1024;
/// A batch acknowledged this long ago is taken as read by the collector.
pub const WINDOW: Duration = Duration::from_secs(1);
/// The longest wait between reconnection attempts.
pub const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// The first wait.
pub const BACKOFF_MIN: Duration = Duration::from_millis(100);
/// How often the cursor is saved at most (when it moved).
pub const SAVE_EVERY: Duration = Duration::from_secs(1);

/// What a thread is given.
pub struct Job {
    /// Where to.
    pub target: Target,
    /// The `>pri` rules (the whole forwarding config).
    pub pri: ForwardConfig,
    /// The log directory (a descriptor of its own).
    pub dir: OwnedFd,
    /// About the directory.
    pub info: DirInfo,
    /// Shared with the event loop.
    pub shared: Arc<Shared>,
    /// The thread that served this target before a HUP, if it may still be saving its
    /// cursor: waited for before the cursor is read.
    pub predecessor: Option<std::thread::JoinHandle<()>>,
    /// Another target whose cursor this one continues from when it has none of its own.
    pub inherit: Option<Inherit>,
    /// Where a target with no cursor begins: the end of `current` when it was started (what
    /// is logged from then on is sent).
    pub fresh: Pos,
}

/// A cursor to continue from (a corrected address, or `from=`).
pub struct Inherit {
    /// The other target's name (`tcp-10.0.0.1-514`).
    pub from: String,
    /// Whether its cursor file is taken over (renamed), not copied: it left `config`.
    pub take: bool,
    /// Its thread, if it may still be saving that cursor.
    pub predecessor: Option<std::thread::JoinHandle<()>>,
}

/// A rendered batch in flight.
#[derive(Debug, Clone, Copy)]
struct Sent {
    /// Stream offset after it.
    end: u64,
    /// Spool position after its last line.
    pos: Pos,
    /// Lines in it.
    lines: u64,
    /// When the collector's host was first seen to have acknowledged all of it.
    acked_at: Option<Instant>,
}

struct Sender {
    target: Target,
    pri: ForwardConfig,
    info: DirInfo,
    shared: Arc<Shared>,
    cursor_name: Vec<u8>,
    spool: Spool,
    renderer: Renderer,
    link: Option<Link>,
    /// Batches not yet confirmed, oldest first.
    flight: VecDeque<Sent>,
    /// Where sending resumes after a lost connection.
    confirmed: Pos,
    /// What the cursor file says.
    saved: Option<Pos>,
    last_save: Instant,
    backoff: Duration,
    next_try: Instant,
    /// An outage is in progress (its warning was printed).
    outage: bool,
    /// Rendered messages of the batch being built.
    plain: Vec<u8>,
    /// Receipt marks (no stamps).
    marks: VecDeque<Mark>,
    /// The time of the last stamped line (for lines that have none, e.g. svlogd's own).
    last_time: Option<Tai64n>,
    /// The PRI when no `>pri` line has a pattern.
    fixed_pri: Option<u8>,
    /// Pruned labels the event loop already counted.
    pruned: Vec<[u8; 24]>,
    /// UDP pacing (`rate=`, `burst=`): datagrams that may go at once, and when last counted.
    pace: Option<Pace>,
}

/// A token bucket: `rate` datagrams a second, at most `burst` back to back.
#[derive(Debug, Clone, Copy)]
struct Pace {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
    /// Out of tokens: the next datagram may go at this time.
    blocked_until: Option<Instant>,
}

impl Pace {
    /// Takes a token if one is there; else notes when one will be.
    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.blocked_until = None;
            return true;
        }
        let wait = (1.0 - self.tokens) / self.rate;
        self.blocked_until = Some(now + Duration::from_secs_f64(wait));
        false
    }
}

/// The thread's body.
pub fn run(job: Job) {
    let Job {
        target,
        pri,
        dir,
        info,
        shared,
        fresh,
        predecessor,
        mut inherit,
    } = job;
    if let Some(p) = predecessor {
        let _ = p.join();
    }
    if let Some(p) = inherit.as_mut().and_then(|i| i.predecessor.take()) {
        let _ = p.join();
    }
    let cursor_name = format!("{PREFIX}{}", target.id()).into_bytes();
    let host = target
        .hostname
        .clone()
        .map(String::into_bytes)
        .unwrap_or_else(host_name);
    let app = target
        .app
        .clone()
        .map(String::into_bytes)
        .unwrap_or_else(|| info.service.clone());
    let renderer = Renderer::new(
        target.format,
        Wire::of(target.transport, target.framing),
        target.max,
        &host,
        &app,
    );
    let start = Pos {
        file: FileId::Current(0),
        offset: 0,
    };
    let fixed_pri = (!pri.pri_varies()).then(|| pri.pri_for(b""));
    let pace = target.pace().map(|(rate, burst)| Pace {
        rate: f64::from(rate),
        burst: f64::from(burst),
        tokens: f64::from(burst),
        at: Instant::now(),
        blocked_until: None,
    });
    let mut s = Sender {
        target,
        pri,
        info,
        shared,
        cursor_name,
        spool: Spool::new(dir, start),
        renderer,
        link: None,
        flight: VecDeque::new(),
        confirmed: start,
        saved: None,
        last_save: Instant::now(),
        backoff: BACKOFF_MIN,
        next_try: Instant::now(),
        outage: false,
        plain: Vec::with_capacity(BATCH + 4096),
        marks: VecDeque::new(),
        last_time: None,
        fixed_pri,
        pruned: Vec::new(),
        pace,
    };
    s.take_inbox();
    let pos = s.starting_position(fresh, inherit.as_ref());
    s.confirmed = pos;
    s.position(pos);
    s.publish_needed();
    s.main_loop();
}

fn host_name() -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    nix::unistd::gethostname()
        .map(|h| h.as_bytes().to_vec())
        .unwrap_or_else(|_| b"localhost".to_vec())
}

impl Sender {
    fn what(&self) -> Vec<u8> {
        [&self.info.name[..], b": ", self.target.id().as_bytes()].concat()
    }

    /// Takes what the event loop passed on.
    fn take_inbox(&mut self) {
        let mut inbox = self.shared.inbox();
        for (ino, label) in inbox.renames.drain(..) {
            self.spool.renamed(ino, label);
        }
        self.marks.extend(inbox.marks.drain(..));
        let pruned = !inbox.pruned.is_empty();
        self.pruned.append(&mut inbox.pruned);
        drop(inbox);
        if pruned && self.link.is_none() {
            self.skip_pruned();
        }
    }

    /// The pruner deleted the file the cursor is in, and counted and reported the loss:
    /// while the collector is away, the cursor moves past it and is saved, so an svlogd
    /// started later does not count and report the same loss again.
    fn skip_pruned(&mut self) {
        let mut moved = false;
        while let FileId::Archive(l) = self.spool.resolve(self.confirmed.file) {
            if !self.pruned.contains(&l) {
                break;
            }
            self.confirmed = match self.first_archive(|x| x > l) {
                Some(next) => Pos {
                    file: FileId::Archive(next),
                    offset: 0,
                },
                None => Pos {
                    file: FileId::Current(current_ino(self.spool.dir()).unwrap_or(0)),
                    offset: 0,
                },
            };
            moved = true;
        }
        if moved {
            self.flight.clear();
            let pos = self.confirmed;
            self.position(pos);
            self.save(self.confirmed);
        }
    }

    /// Tells the event loop where the cursor is: what the pruner must keep, and where the
    /// backlog starts.
    fn publish_needed(&self) {
        let file = self.spool.resolve(self.confirmed.file);
        let mut inbox = self.shared.inbox();
        inbox.needed = needed_of(file);
        inbox.confirmed = Some(Pos {
            file,
            offset: self.confirmed.offset,
        });
    }

    /// Where to begin: the saved cursor, found again in the directory; without one, the end
    /// of `current` (a new target sends what is logged from now on).
    fn starting_position(&mut self, fresh: Pos, inherit: Option<&Inherit>) -> Pos {
        let mut loaded = self.load_cursor(&self.cursor_name.clone());
        if let (None, Some(i)) = (loaded, inherit) {
            let other = format!("{PREFIX}{}", i.from).into_bytes();
            loaded = self.load_cursor(&other);
            if let Some(c) = loaded {
                msg::info(&[
                    b"forward continues from the cursor of ",
                    i.from.as_bytes(),
                    b": ",
                    &self.what(),
                ]);
                match c.save(self.spool.dir(), &self.cursor_name) {
                    Ok(()) if i.take => {
                        let _ = sys::dirfd::unlinkat(self.spool.dir(), &other);
                    }
                    Ok(()) => {}
                    Err(e) => msg::warn(
                        "unable to save forward cursor",
                        &[&self.info.name[..], b"/", &self.cursor_name].concat(),
                        e,
                    ),
                }
            }
        }
        let Some(c) = loaded else {
            return fresh;
        };
        match self.spool.seek(c.pos) {
            Ok(()) => self.spool.pos(),
            Err(_) => {
                // Rotated and compressed (or pruned) since: the first file rotated after the
                // cursor was saved is the one it was in.
                let saved = {
                    let mut hex = [0u8; 24];
                    c.saved.write_hex(&mut hex);
                    hex
                };
                match c.pos.file {
                    FileId::Current(_) => match self.first_archive(|l| l >= saved) {
                        Some(l) => Pos {
                            file: FileId::Archive(l),
                            offset: c.pos.offset,
                        },
                        None => self.after_gap(c.pos.file),
                    },
                    FileId::Archive(_) => self.after_gap(c.pos.file),
                }
            }
        }
    }

    /// Reads the cursor file `name` (`None` when there is none; a warning when it cannot be
    /// read).
    fn load_cursor(&self, name: &[u8]) -> Option<Cursor> {
        match Cursor::load(self.spool.dir(), name) {
            Ok(c) => c,
            Err(e) => {
                msg::warn(
                    "unable to read forward cursor",
                    &[&self.info.name[..], b"/", name].concat(),
                    e,
                );
                None
            }
        }
    }

    /// The oldest rotated file whose label satisfies `ok`.
    fn first_archive(&self, ok: impl Fn([u8; 24]) -> bool) -> Option<[u8; 24]> {
        let names = list(self.spool.dir()).ok()?;
        names
            .iter()
            .filter(|n| n.get(26) != Some(&b't'))
            .filter_map(archive_label)
            .filter(|l| ok(*l))
            .min()
    }

    /// The file `gone` is no longer there: count the loss (unless the pruner did) and go on
    /// with the next file.
    fn after_gap(&mut self, gone: FileId) -> Pos {
        let gone = self.spool.resolve(gone);
        let counted = match gone {
            FileId::Archive(l) => self.pruned.contains(&l),
            FileId::Current(_) => false,
        };
        if !counted {
            self.shared.stats.lost_files.fetch_add(1, Ordering::Relaxed);
            msg::warnx("forward lost unsent log file", &self.what());
        }
        let next = match gone {
            FileId::Archive(l) => self.first_archive(|x| x > l),
            FileId::Current(_) => self.first_archive(|_| true),
        };
        match next {
            Some(l) => Pos {
                file: FileId::Archive(l),
                offset: 0,
            },
            None => Pos {
                file: FileId::Current(current_ino(self.spool.dir()).unwrap_or(0)),
                offset: 0,
            },
        }
    }

    /// Puts the spool at `pos`, skipping files that are gone.
    fn position(&mut self, mut pos: Pos) {
        for _ in 0..1000 {
            match self.spool.seek(pos) {
                Ok(()) => return,
                Err(Missing::Gone) => {
                    pos = self.after_gap(pos.file);
                    self.confirmed = pos;
                }
                Err(Missing::Sys(e)) => {
                    msg::warn("unable to read log file for forwarding", &self.what(), e);
                    return;
                }
            }
        }
    }

    fn stopping(&self) -> bool {
        self.shared.stop.load(Ordering::SeqCst)
    }

    fn main_loop(&mut self) {
        loop {
            self.shared.drain();
            self.take_inbox();
            if self.stopping() {
                self.finish();
                return;
            }
            let now = Instant::now();
            if self.link.is_none() {
                if now < self.next_try {
                    wait(None, 0, self.shared.wake.as_fd(), Some(self.next_try));
                    continue;
                }
                self.connect();
                continue;
            }
            let produced = match self.produce() {
                Ok(p) => p,
                Err(()) => {
                    // The spool could not be read: try again a little later.
                    self.next_try = Instant::now() + BACKOFF_MAX;
                    wait(None, 0, self.shared.wake.as_fd(), Some(self.next_try));
                    false
                }
            };
            let link = self.link.as_mut().expect("connected");
            let flushed = match link.flush().and_then(|f| link.pump_input().map(|_| f)) {
                Ok(f) => f,
                Err(e) => {
                    self.lost(e);
                    continue;
                }
            };
            self.confirm(now);
            if produced && flushed {
                continue;
            }
            // Nothing more to send now, or the socket is full: wait.
            let events = libc::POLLIN | if flushed { 0 } else { libc::POLLOUT };
            self.shared.sleeping.store(true, Ordering::SeqCst);
            let paced = self.pace.and_then(|p| p.blocked_until);
            if flushed && paced.is_none() && self.spool_has_more() {
                self.shared.sleeping.store(false, Ordering::SeqCst);
                continue;
            }
            // Wake up while batches wait to be confirmed or the cursor to be saved; then sleep
            // until svlogd or the socket says something (no periodic wake-ups when idle).
            let deadline = if !self.flight.is_empty() || self.saved != Some(self.confirmed) {
                Some(Instant::now() + Duration::from_millis(100))
            } else {
                None
            };
            // Paced: wake when the next datagram may go.
            let deadline = match (deadline, paced) {
                (Some(d), Some(p)) => Some(d.min(p)),
                (d, p) => d.or(p),
            };
            let fd = self.link.as_ref().map(|l| l.fd());
            let rev = wait(fd, events, self.shared.wake.as_fd(), deadline);
            self.shared.sleeping.store(false, Ordering::SeqCst);
            if rev & (libc::POLLIN | libc::POLLERR | libc::POLLHUP) != 0 {
                if let Some(link) = self.link.as_mut() {
                    if let Err(e) = link.pump_input() {
                        self.lost(e);
                    }
                }
            }
        }
    }

    /// Whether the spool holds a complete line not yet sent (reading more if needed).
    fn spool_has_more(&mut self) -> bool {
        if memchr::memchr(b'\n', self.spool.data()).is_some() || self.spool.is_full() {
            return true;
        }
        matches!(self.spool.fill(), Ok(true))
    }

    fn connect(&mut self) {
        let shared = self.shared.clone();
        self.connect_with(&move || shared.stop.load(Ordering::SeqCst), None);
    }

    /// Connects, giving up at `until` if given (else after the usual connect timeout).
    fn connect_with(&mut self, stop: &dyn Fn() -> bool, until: Option<Instant>) {
        let wake = self.shared.wake.as_fd();
        let dir = self.spool.dir().as_fd();
        let link = match until {
            Some(t) => Link::connect_by(&self.target, dir, wake, stop, t),
            None => Link::connect(&self.target, dir, wake, stop),
        };
        match link {
            Ok(link) => {
                if self.info.verbose {
                    msg::info(&[b"forward connected: ", &self.what()]);
                }
                // The outage (and the backoff) ends when something is delivered, not here: a
                // UDP socket always connects, and a collector may accept and hang up at once.
                self.shared.stats.connected.store(1, Ordering::Relaxed);
                self.link = Some(link);
                let pos = self.confirmed;
                self.position(pos);
            }
            Err(LinkError::Stopped) => {}
            Err(e) => {
                self.shared.stats.failed.fetch_add(1, Ordering::Relaxed);
                // One warning an outage; with -v, each retry that fails is an info line.
                let what = [&self.what()[..], b": ", e.text().as_bytes()].concat();
                if !self.outage {
                    msg::warnx("unable to connect to forward target", &what);
                } else if self.info.verbose {
                    msg::info(&[b"forward retry failed: ", &what]);
                }
                self.outage = true;
                self.next_try = Instant::now() + self.backoff;
                self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
            }
        }
    }

    /// The connection failed: after reconnecting, everything still in flight goes again.
    fn lost(&mut self, e: LinkError) {
        if self.link.take().is_none() {
            return;
        }
        self.shared.stats.connected.store(0, Ordering::Relaxed);
        self.shared.stats.failed.fetch_add(1, Ordering::Relaxed);
        let again: u64 = self.flight.iter().map(|b| b.lines).sum();
        self.shared.stats.resent.fetch_add(again, Ordering::Relaxed);
        self.flight.clear();
        if !self.outage {
            let what = [&self.what()[..], b": ", e.text().as_bytes()].concat();
            msg::warnx("forward connection lost", &what);
        }
        self.outage = true;
        self.next_try = Instant::now() + self.backoff;
        self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
        let pos = self.confirmed;
        self.position(pos);
    }

    /// Confirms the batches the collector has surely taken in: acknowledged at least
    /// [`WINDOW`] ago, or followed by [`MARGIN`] acknowledged bytes. Saves the cursor when due.
    fn confirm(&mut self, now: Instant) {
        let Some(link) = self.link.as_ref() else {
            return;
        };
        let acked = link.acked();
        for b in self.flight.iter_mut() {
            if b.end > acked {
                break;
            }
            b.acked_at.get_or_insert(now);
        }
        let before = self.confirmed;
        while let Some(b) = self.flight.front() {
            let settled = b.acked_at.is_some_and(|t| now.duration_since(t) >= WINDOW)
                || b.end + MARGIN <= acked;
            if !settled {
                break;
            }
            self.confirmed = b.pos;
            self.flight.pop_front();
            // Delivered: the collector is back (if it was away).
            self.outage = false;
            self.backoff = BACKOFF_MIN;
        }
        if self.confirmed != before {
            self.publish_needed();
        }
        if self.saved != Some(self.confirmed) && now.duration_since(self.last_save) >= SAVE_EVERY {
            self.save(self.confirmed);
        }
    }

    fn save(&mut self, pos: Pos) {
        let pos = Pos {
            file: self.spool.resolve(pos.file),
            offset: pos.offset,
        };
        let c = Cursor {
            pos,
            saved: Tai64n::now(),
        };
        self.last_save = Instant::now();
        match c.save(self.spool.dir(), &self.cursor_name) {
            Ok(()) => self.saved = Some(pos),
            Err(e) => msg::warn(
                "unable to save forward cursor",
                &[&self.info.name[..], b"/", &self.cursor_name].concat(),
                e,
            ),
        }
        self.publish_needed();
    }

    /// The thread was asked to stop: for at most [`STOP_GRACE`], send what svlogd has
    /// written (connecting once more if the collector was not known to be away) and wait for it
    /// to be acknowledged; then save the cursor.
    fn finish(&mut self) {
        let deadline = Instant::now() + STOP_GRACE;
        if self.link.is_none() && !self.outage {
            self.connect_with(&|| Instant::now() >= deadline, Some(deadline));
        }
        let mut final_pos = self.confirmed;
        while self.link.is_some() {
            self.take_inbox();
            if self.produce().is_err() || self.link.is_none() {
                final_pos = self.confirmed;
                break;
            }
            let Some(link) = self.link.as_mut() else {
                break;
            };
            let flushed = match link.flush().and_then(|f| link.pump_input().map(|_| f)) {
                Ok(f) => f,
                Err(e) => {
                    self.lost(e);
                    final_pos = self.confirmed;
                    break;
                }
            };
            let acked = link.acked();
            // Delivered to the collector's host, which hands it on after we are gone.
            for b in &self.flight {
                if b.end <= acked {
                    final_pos = b.pos;
                }
            }
            let all = flushed && acked >= link.queued();
            if (all && !self.spool_has_more()) || Instant::now() >= deadline {
                break;
            }
            let link = self.link.as_ref().expect("still connected");
            let events = libc::POLLIN | if flushed { 0 } else { libc::POLLOUT };
            wait(
                Some(link.fd()),
                events,
                self.shared.wake.as_fd(),
                Some((Instant::now() + Duration::from_millis(5)).min(deadline)),
            );
        }
        if let Some(link) = self.link.take() {
            link.close();
        }
        self.shared.stats.connected.store(0, Ordering::Relaxed);
        self.confirmed = final_pos;
        // Files pruned meanwhile (counted already) are skipped in the cursor saved.
        self.take_inbox();
        if self.saved != Some(self.confirmed) {
            self.save(self.confirmed);
        }
        self.publish_needed();
        if self.info.verbose {
            let st = &self.shared.stats;
            let counts = format!(
                ": sent {} resent {} failed {} lost {}",
                st.sent.load(Ordering::Relaxed),
                st.resent.load(Ordering::Relaxed),
                st.failed.load(Ordering::Relaxed),
                st.lost_files.load(Ordering::Relaxed),
            );
            msg::info(&[b"forward stopped: ", &self.what(), counts.as_bytes()]);
        }
    }

    /// Renders lines from the spool into the link, while its queue has room. `Ok(true)` if
    /// anything was queued.
    fn produce(&mut self) -> Result<bool, ()> {
        let mut any = false;
        loop {
            let room = self.link.as_ref().is_some_and(|l| l.pending() < QUEUE_MAX);
            if !room {
                return Ok(any);
            }
            let lines = self.render_batch()?;
            if lines == 0 {
                return Ok(any);
            }
            any = true;
            let link = self.link.as_mut().expect("connected");
            let queued = if link.is_datagram() {
                Ok(())
            } else {
                link.queue(&self.plain)
            };
            if let Err(e) = queued {
                self.lost(e);
                return Ok(false);
            }
            let end = self.link.as_ref().map(|l| l.queued()).unwrap_or(0);
            self.flight.push_back(Sent {
                end,
                pos: self.spool.pos(),
                lines,
                acked_at: None,
            });
            self.shared.stats.sent.fetch_add(lines, Ordering::Relaxed);
        }
    }

    /// Renders up to [`BATCH`] bytes of messages into `plain` (datagrams go to the link one
    /// by one). Returns how many lines.
    fn render_batch(&mut self) -> Result<u64, ()> {
        self.plain.clear();
        let mut lines = 0u64;
        let datagram = self.target.transport == Transport::Udp;
        while self.plain.len() < BATCH {
            let data = self.spool.data();
            let (len, consumed, piece) = match memchr::memchr(b'\n', data) {
                Some(i) => (i, i + 1, false),
                None if self.spool.is_full() => (LONG_LINE, LONG_LINE, true),
                None => match self.spool.fill() {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(Missing::Gone) => {
                        let pos = self.spool.pos();
                        let next = self.after_gap(pos.file);
                        self.position(next);
                        continue;
                    }
                    Err(Missing::Sys(e)) => {
                        msg::warn("unable to read log file for forwarding", &self.what(), e);
                        return if lines > 0 { Ok(lines) } else { Err(()) };
                    }
                },
            };
            let continuation = self.spool.in_long_line();
            if !continuation && datagram {
                if let Some(p) = self.pace.as_mut() {
                    if !p.take(Instant::now()) {
                        break;
                    }
                }
            }
            if !continuation {
                let after = self.spool.pos_at(consumed);
                let line = &self.spool.data()[..len];
                let start = self.plain.len();
                render_line(
                    &mut self.renderer,
                    &mut self.plain,
                    &self.info,
                    &self.pri,
                    self.fixed_pri,
                    &mut self.marks,
                    &mut self.last_time,
                    self.spool.file_info(),
                    after,
                    line,
                );
                lines += 1;
                if datagram {
                    let link = self.link.as_mut().expect("connected");
                    if let Err(e) = link.queue(&self.plain[start..]) {
                        self.spool.consume(consumed, piece);
                        self.lost(e);
                        return Ok(0);
                    }
                }
            }
            self.spool.consume(consumed, piece);
        }
        Ok(lines)
    }
}

/// Renders one line of the spool (`after` = the position after it) as a message.
#[allow(clippy::too_many_arguments)]
pub(crate) fn render_line(
    renderer: &mut Renderer,
    out: &mut Vec<u8>,
    info: &DirInfo,
    pri: &ForwardConfig,
    fixed_pri: Option<u8>,
    marks: &mut VecDeque<Mark>,
    last_time: &mut Option<Tai64n>,
    file: Option<(u64, i64)>,
    after: Pos,
    line: &[u8],
) {
    let (time, body) = match info.stamp {
        Timestamp::None => (receipt_time(marks, file, after), line),
        kind => match stamp::parse_as(kind, line) {
            Some((m, n)) if line.get(n) == Some(&b' ') => {
                let t = Tai64n::from_unix(m.secs, m.nanos);
                *last_time = Some(t);
                (t, &line[n + 1..])
            }
            // svlogd's own lines (UDP warnings) have no stamp.
            _ => (last_time.unwrap_or_else(Tai64n::now), line),
        },
    };
    let p = match fixed_pri {
        Some(p) => p,
        None => {
            let text = body.strip_prefix(&info.prefix[..]).unwrap_or(body);
            pri.pri_for(&text[..text.len().min(info.linemax)])
        }
    };
    renderer.push(out, p, time, body);
}

/// The time of receipt of a line of an unstamped directory, from the event loop's marks.
fn receipt_time(marks: &mut VecDeque<Mark>, file: Option<(u64, i64)>, after: Pos) -> Tai64n {
    let Some((ino, mtime)) = file else {
        return Tai64n::now();
    };
    // Marks of files already finished come first: drop them once this file has marks.
    while let Some(m) = marks.front() {
        if m.ino == ino {
            if m.end < after.offset {
                marks.pop_front();
                continue;
            }
            return m.time;
        }
        if marks.iter().any(|m| m.ino == ino) {
            marks.pop_front();
            continue;
        }
        break;
    }
    Tai64n::from_unix(mtime, 0)
}

/// The inode of the directory's `current`.
pub fn current_ino(dir: &OwnedFd) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let fd = sys::dirfd::openat(dir, b"current", libc::O_RDONLY).ok()?;
    std::fs::File::from(fd).metadata().ok().map(|m| m.ino())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_times_follow_offsets() {
        let t = |s| Tai64n::from_unix(s, 0);
        let mut marks: VecDeque<Mark> = [
            Mark {
                ino: 1,
                end: 10,
                time: t(100),
            },
            Mark {
                ino: 2,
                end: 5,
                time: t(200),
            },
            Mark {
                ino: 2,
                end: 50,
                time: t(300),
            },
        ]
        .into_iter()
        .collect();
        let at = |ino, offset| Pos {
            file: FileId::Current(ino),
            offset,
        };
        assert_eq!(receipt_time(&mut marks, Some((1, 7)), at(1, 4)), t(100));
        assert_eq!(receipt_time(&mut marks, Some((1, 7)), at(1, 10)), t(100));
        // Past the marks of file 1: its mtime.
        assert_eq!(receipt_time(&mut marks, Some((1, 7)), at(1, 12)), t(7));
        assert_eq!(receipt_time(&mut marks, Some((2, 9)), at(2, 5)), t(200));
        assert_eq!(receipt_time(&mut marks, Some((2, 9)), at(2, 6)), t(300));
        assert_eq!(marks.len(), 1);
        // An old file with no marks.
        assert_eq!(receipt_time(&mut marks, Some((9, 77)), at(9, 1)), t(77));
        assert_eq!(marks.len(), 1);
    }
}
