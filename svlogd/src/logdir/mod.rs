//! One log directory: its lock, config, `current`, and the write path with runit's size rules
//! (spec/svlogd.md §2).
//!
//! Opening (startup and every HUP): open the directory, lock `lock` without waiting (a second
//! svlogd skips the directory), read `config`, then either recover a `current` that was not
//! closed cleanly (non-empty, not u+x) as `.u`, or append to it. Closing: flush, fsync, mark
//! `current` u+x ("closed cleanly"), release the lock.
//!
//! Writing ([`LogDir::progress`]) applies runit's two size rules to a byte stream in which
//! every `\n` ends a line: a file never grows past `s` bytes (a line is split across files),
//! and after a `\n` that brings the size to `s - len` or more, the file is rotated. On ENOSPC
//! old files are deleted while more than `N` remain (if `N` < `n`); any other failure pauses
//! the directory for three seconds, during which svlogd reads no input, so the writer feels
//! the back-pressure and nothing is dropped.
//!
//! After TERM, a paused directory is retried once at once; if it still fails, its pending
//! output is given up (the part of a line a failing write left is cut off again) and
//! `current` is left without u+x (so the next svlogd recovers it as
//! `.u`), and svlogd exits instead of pausing forever (spec §12 item 10). Input that was
//! taken without being consumed (see `input`) stays in the pipe for the next svlogd.
//!
//! Our additions hang off the same structure: when a directory is opened it is surveyed once
//! ([`LogDir::survey`]: the newest archive label, crash leftovers of compression and of the
//! processor hand-over); the effective settings (timestamp format, overload policy, copy) are
//! fixed; in drop mode a directory that cannot keep up sheds its lines ([`LogDir::shed`]) and
//! writes the marker first when it works again; counters feed the status file.

mod files;

use crate::archive::{Name, Suffix};
use crate::batch::Batch;
use crate::compress::DirShared;
use crate::config::{self, Config};
use crate::copy::CopyOut;
use crate::dirfd::{list, metaat, openat, openat_follow, renameat, statat, unlinkat};
use crate::extras::{Overload, Stream};
use crate::forward::{self, Forwarders};
use crate::metrics::{self, Metrics, Stats};
use crate::msg;
use crate::options::Timestamp;
use crate::overload::Dropped;
use crate::processor::{self, Job, Processor};
use crate::prune::Census;
use crate::rotate::{Kind, Outcome, Rotation};
use crate::stamp::{clock_now, Stamper};
use crate::udp::UdpOut;
use nix::libc;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{IoSlice, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use supervise::strerr::{errno_of, errstr};

/// The status file is written at most this often.
pub const METRICS_EVERY: Duration = Duration::from_secs(1);

/// How long a failed operation waits before it is retried (runit's `sleep(3)`).
pub const RETRY: Duration = Duration::from_secs(3);
/// At most this many slices per `writev` (Linux's IOV_MAX).
const IOV_MAX: usize = 1024;

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
    /// The command line's timestamp format (a directory's `T` line overrides it).
    pub stamp: Timestamp,
    /// `-L`: directories without an `overload` line drop.
    pub lossy: bool,
}

/// One log directory given on the command line.
#[derive(Debug)]
pub struct LogDir {
    /// The name as given, for messages.
    pub name: Vec<u8>,
    /// The settings from `config` (defaults when there is none).
    pub cfg: Config,
    /// The open directory; `None` when it is not functional.
    pub(crate) dir: Option<OwnedFd>,
    lock: Option<OwnedFd>,
    /// `current`, open for appending (absent in the middle of a rotation).
    pub(crate) current: Option<File>,
    /// Bytes in `current`.
    pub size: u64,
    /// When `t` next rotates (monotonic, spec §12 item 12).
    pub deadline: Option<Instant>,
    /// A rotation in progress.
    pub(crate) rotation: Option<Rotation>,
    /// A failed step or write waits until then.
    retry_at: Option<Instant>,
    /// Output given up after TERM: leave `current` without u+x.
    unclean: bool,
    /// The processor slot (kept across HUP).
    pub processor: Processor,
    /// Output not yet written.
    pub batch: Batch,
    /// Whether the line being read goes to this directory's log (runit's `match == '+'`).
    pub selected: bool,
    /// The UDP sender.
    pub udp: UdpOut,
    /// Opened successfully once (runit's `-v` failure path prints the name only then).
    ever_opened: bool,
    /// Rotated files waiting for the processor, oldest first (kept across HUP).
    pub queue: VecDeque<Job>,
    /// The greatest archive label seen in the directory (see `archive::next_label`).
    pub(crate) newest: Option<[u8; 24]>,
    /// Archives this svlogd made, and when (for `maxage`).
    pub(crate) made: Vec<([u8; 24], Instant)>,
    /// What the last look at the archives found.
    pub census: Census,
    /// When `maxage` next wants a look.
    pub(crate) prune_at: Option<Instant>,
    /// What the compression worker and this directory share.
    pub gz: Arc<DirShared>,
    /// A rotation or processor made a `.s`: ask the compressor to look.
    pub(crate) gz_wanted: bool,
    /// Counters for the status file (kept across HUP).
    pub stats: Stats,
    /// The directory's real path (for the status file and the service name).
    pub path: Vec<u8>,
    /// This directory's timestamp format.
    pub stamp: Timestamp,
    /// Its slot in the logger's table of rendered stamps.
    pub stamp_slot: usize,
    /// `overload drop` (or `-L`) is in effect.
    pub drop_mode: bool,
    /// Lines dropped and not yet reported by a marker.
    pub(crate) dropped: Option<Dropped>,
    /// `current` ends in the middle of a line (a write stopped there).
    pub(crate) line_open: bool,
    /// How many bytes of that line are in `current` (0 when none, or not known).
    pub(crate) open_bytes: u64,
    /// `copy`: the stream and its pending copies.
    pub copy: Option<CopyOut>,
    /// The status file is due at this time (something changed).
    pub(crate) metrics_due: Option<Instant>,
    /// When it was last written.
    metrics_last: Option<Instant>,
    /// The last write of it failed (and said so).
    metrics_failing: bool,
    /// `autoreload`: reload at this time (the config changed).
    pub reload_at: Option<Instant>,
    /// Syslog forwarding (`>` lines): one thread per target.
    pub forward: Forwarders,
    /// When the forwarders' counters were last looked at, and what they were.
    forward_checked: Option<Instant>,
    forward_seen: u64,
}

/// What a call to [`LogDir::progress`] (or a step of it) achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Everything pending is written (or given up).
    Done,
    /// It waits: for a retry time, or for the processor to finish.
    Blocked,
}

/// How many times (10 ms apart) a busy `lock` is tried again before the directory is given up.
const LOCK_TRIES: u32 = 30;

impl LogDir {
    /// A directory slot for `name`, not yet opened.
    pub fn new(name: &std::ffi::OsStr) -> LogDir {
        LogDir {
            name: name.as_bytes().to_vec(),
            cfg: Config::default(),
            dir: None,
            lock: None,
            current: None,
            size: 0,
            deadline: None,
            rotation: None,
            retry_at: None,
            unclean: false,
            processor: Processor::Idle,
            batch: Batch::default(),
            selected: true,
            udp: UdpOut::default(),
            ever_opened: false,
            queue: VecDeque::new(),
            newest: None,
            made: Vec::new(),
            census: Census::default(),
            prune_at: None,
            gz: Arc::new(DirShared::default()),
            gz_wanted: false,
            stats: Stats::default(),
            path: name.as_bytes().to_vec(),
            stamp: Timestamp::None,
            stamp_slot: 0,
            drop_mode: false,
            dropped: None,
            line_open: false,
            open_bytes: 0,
            copy: None,
            metrics_due: None,
            metrics_last: None,
            metrics_failing: false,
            reload_at: None,
            forward: Forwarders::default(),
            forward_checked: None,
            forward_seen: 0,
        }
    }

    /// runit's failure path after the directory was opened calls its close routine, which
    /// with `-v` prints `info: close: ` and the name it had from the last successful open
    /// (nothing the first time).
    fn verbose_failed_close(&self, ctx: &Ctx) {
        if ctx.verbose {
            let name: &[u8] = if self.ever_opened { &self.name } else { b"" };
            msg::info(&[b"close: ", name]);
        }
    }

    /// Whether the directory is functional (opened and locked).
    pub fn is_open(&self) -> bool {
        self.dir.is_some()
    }

    /// Whether it has work that must finish before more input is taken: unwritten output or
    /// a rotation in progress.
    pub fn busy(&self) -> bool {
        self.is_open() && (!self.batch.is_done() || self.rotation.is_some())
    }

    /// The earliest time the directory wants attention (retry, `t`, processor, `maxage`,
    /// the status file, a reload), if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.retry_at,
            self.deadline,
            self.processor.deadline(),
            self.prune_at,
            self.metrics_due,
            self.reload_at,
            self.forward_check_at(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Opens the directory as runit does at startup and on HUP (spec §2.2). Returns false,
    /// after runit's warning, when it cannot be used until the next HUP.
    ///
    /// `held` is the lock this directory held before a HUP (see [`LogDir::close_keeping_lock`]).
    pub fn open(&mut self, cwd: &OwnedFd, held: Option<OwnedFd>, ctx: &Ctx) -> bool {
        self.retry_at = None;
        self.unclean = false;
        self.rotation = None;
        let dir = match openat_follow(cwd, &self.name, libc::O_RDONLY | libc::O_NDELAY) {
            Ok(d) => d,
            Err(e) => {
                msg::warn("unable to open log directory", &self.name, e);
                return false;
            }
        };
        // runit fchdir()s into the directory: that is what says "not a directory" or
        // "access denied" for a directory we cannot enter.
        // SAFETY: plain syscalls; svlogd is single-threaded and goes straight back.
        let entered = unsafe { libc::fchdir(dir.as_raw_fd()) };
        let err = nix::errno::Errno::last_raw();
        // SAFETY: as above.
        unsafe { libc::fchdir(cwd.as_raw_fd()) };
        if entered < 0 {
            self.verbose_failed_close(ctx);
            msg::warn("unable to change directory", &self.name, err);
            return false;
        }
        // Links planted where svlogd creates and writes files: removed, never followed.
        remove_link(&dir, &self.name, b"lock");
        let Some(lock) = self.take_lock(&dir, held, ctx) else {
            return false;
        };
        remove_link(&dir, &self.name, b"current");
        self.ever_opened = true;
        self.cfg = self.read_config(&dir, ctx);
        self.size = 0;
        self.selected = true;
        self.settle(&dir, ctx);
        self.deadline = if self.cfg.tmax > 0 {
            ctx.now.checked_add(Duration::from_secs(self.cfg.tmax))
        } else {
            None
        };
        let kind = match statat(&dir, b"current") {
            Ok((mode, size)) if size > 0 && mode & libc::S_IXUSR == 0 => Kind::Recover,
            Ok((_, size)) => {
                self.size = size;
                Kind::Open { existed: true }
            }
            Err(libc::ENOENT) => Kind::Open { existed: false },
            Err(e) => {
                self.verbose_failed_close(ctx);
                msg::warn("unable to stat current", &self.name, e);
                return false;
            }
        };
        self.dir = Some(dir);
        self.lock = Some(lock);
        self.survey(ctx);
        self.rotation = Some(Rotation::new(kind));
        self.advance_rotation(ctx);
        self.gz_wanted = self.cfg.extras.gzip.is_some();
        self.touch_metrics(ctx.now);
        self.start_forwarding(ctx);
        true
    }

    /// The directory's lock. After a HUP it is the lock still held from before, when `lock` is
    /// still the same file: runit releases and retakes it, which fails while a processor child
    /// shares the lock between its fork and its exec (and would let another svlogd take the
    /// directory in between). Otherwise `lock` is opened and flocked without waiting (§2.2).
    fn take_lock(&self, dir: &OwnedFd, held: Option<OwnedFd>, ctx: &Ctx) -> Option<OwnedFd> {
        if let Some(h) = held {
            // SAFETY: fstat into a zeroed buffer on an fd we own.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            let ok = unsafe { libc::fstat(h.as_raw_fd(), &mut st) } == 0;
            if let (true, Ok(now)) = (ok, metaat(dir, b"lock")) {
                if now.st_dev == st.st_dev && now.st_ino == st.st_ino {
                    return Some(h);
                }
            }
        }
        let lock = match openat(
            dir,
            b"lock",
            libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_NDELAY,
        ) {
            Ok(l) => l,
            Err(e) => {
                self.verbose_failed_close(ctx);
                msg::warn("unable to lock directory", &self.name, e);
                return None;
            }
        };
        // A logger killed while forking a processor leaves the lock shared with that child
        // until its exec (microseconds, longer under load): the next logger started on the
        // directory retries for a moment before it gives the directory up as runit does.
        let mut tries = 0;
        loop {
            // SAFETY: flock on an fd we own.
            if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Some(lock);
            }
            let e = nix::errno::Errno::last_raw();
            tries += 1;
            if e != libc::EWOULDBLOCK || tries > LOCK_TRIES {
                self.verbose_failed_close(ctx);
                msg::warn("unable to lock directory", &self.name, e);
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Fixes the settings that depend on more than `config`: the real path, the timestamp
    /// format, the overload policy, the copy stream.
    fn settle(&mut self, dir: &OwnedFd, ctx: &Ctx) {
        if let Ok(p) = std::fs::read_link(format!("/proc/self/fd/{}", dir.as_raw_fd())) {
            self.path = p.as_os_str().as_bytes().to_vec();
        }
        let x = &self.cfg.extras;
        self.stamp = x.stamp.unwrap_or(ctx.stamp);
        let lossy = if ctx.lossy {
            Overload::Drop
        } else {
            Overload::Block
        };
        self.drop_mode = x.overload.unwrap_or(lossy) == Overload::Drop;
        self.copy = x.copy.as_ref().map(|c| {
            let prefix = c.prefix.clone().unwrap_or_else(|| {
                let mut p = forward::service_name(std::path::Path::new(
                    std::ffi::OsStr::from_bytes(&self.path),
                ));
                p.extend_from_slice(b" | ");
                p
            });
            let fd = match c.to {
                Stream::Stdout => 1,
                Stream::Stderr => 2,
            };
            CopyOut::new(fd, prefix)
        });
    }

    /// Looks at the directory once when it is opened: the newest label (so that new names
    /// sort after every old one), and what a crash may have left half done: a compression
    /// whose `.s.gz` is complete but whose `.s` is still there (the `.s` goes), a processor
    /// output renamed to `.s` whose `.u` is still there (the `.u` goes), and rotated `.u`
    /// files (mode u+x; a `current` recovered after a crash is not) that were waiting for the
    /// processor (queued again, oldest first, when a processor is configured).
    pub(crate) fn survey(&mut self, ctx: &Ctx) {
        let Some(dir) = &self.dir else { return };
        let Ok(raw) = list(dir) else { return };
        let mut names: Vec<Name> = raw.iter().filter_map(|n| Name::parse(n)).collect();
        names.sort();
        let has = |label: &[u8; 24], suffix: Suffix| {
            names
                .binary_search(&Name {
                    label: *label,
                    suffix,
                })
                .is_ok()
        };
        let busy = *self.gz.busy();
        let mut requeue = Vec::new();
        for n in &names {
            if self.newest.is_none_or(|m| n.label > m) {
                self.newest = Some(n.label);
            }
            if busy == Some(n.label) {
                continue;
            }
            match n.suffix {
                Suffix::Saved if has(&n.label, Suffix::SavedGz) => {
                    // Under the compressor's lock: it may have started on this file since.
                    let busy = self.gz.busy();
                    if *busy != Some(n.label) {
                        let _ = unlinkat(dir, &n.to_bytes());
                    }
                }
                Suffix::Unfinished
                    if (has(&n.label, Suffix::Saved) || has(&n.label, Suffix::SavedGz))
                        && !self.processor_holds(&n.label) =>
                {
                    let _ = unlinkat(dir, &n.to_bytes());
                }
                Suffix::Unfinished if self.cfg.processor.is_some() => {
                    // A link with an archive's name is not ours: never processed.
                    let rotated = metaat(dir, &n.to_bytes()).is_ok_and(|st| {
                        st.st_mode & libc::S_IFMT == libc::S_IFREG
                            && st.st_mode & libc::S_IXUSR != 0
                    });
                    if rotated && !self.processor_holds(&n.label) {
                        requeue.push(n.label);
                    }
                }
                _ => {}
            }
        }
        if let Some(cmd) = self.cfg.processor.clone() {
            for label in requeue {
                let Ok(dup) = dir.try_clone() else { break };
                if ctx.verbose {
                    msg::info(&[
                        b"requeue: ",
                        &self.name,
                        b"/",
                        &Name {
                            label,
                            suffix: Suffix::Unfinished,
                        }
                        .to_bytes(),
                    ]);
                }
                self.queue.push_back(Job::new(
                    dup,
                    &self.name,
                    crate::archive::short_name(&label, b'u'),
                    &cmd,
                ));
            }
        }
    }

    /// Whether the archive label is a processor job's, running or queued.
    pub(crate) fn processor_holds(&self, label: &[u8; 24]) -> bool {
        self.processor.holds_label(label) || self.queue.iter().any(|j| j.name()[1..25] == label[..])
    }

    /// Runs the pending rotation as far as it goes now (see `rotate`).
    pub(crate) fn advance_rotation(&mut self, ctx: &Ctx) -> Progress {
        let Some(mut rot) = self.rotation.take() else {
            return Progress::Done;
        };
        if self.dir.is_none() {
            return Progress::Done;
        }
        let outcome = rot.advance(&mut files::Files { d: self, ctx });
        let (kind, name) = (rot.kind(), *rot.name());
        match outcome {
            Outcome::Done => {
                if kind == Kind::Rotate {
                    self.rotated(name, ctx);
                }
                Progress::Done
            }
            Outcome::Waiting => {
                self.rotation = Some(rot);
                Progress::Blocked
            }
            Outcome::Failed((what, errno)) => {
                self.rotation = Some(rot);
                self.pause(what, errno);
                self.failed(ctx)
            }
        }
    }

    /// A rotation of `current` into `name` is complete.
    pub(crate) fn rotated(&mut self, name: [u8; 27], ctx: &Ctx) {
        self.stats.rotations += 1;
        let mut label = [0u8; 24];
        label.copy_from_slice(&name[1..25]);
        self.made.push((label, ctx.now));
        if name[26] == b's' {
            self.gz_wanted = self.cfg.extras.gzip.is_some();
        }
        self.advance_processor(ctx);
        self.touch_metrics(ctx.now);
    }

    /// Runs the processor slot: restarts and finishing steps that are due, then the next
    /// queued file once the slot is free. A finished job's files are no longer protected, so
    /// the limits are applied again.
    pub fn advance_processor(&mut self, ctx: &Ctx) {
        let (now, verbose) = (ctx.now, ctx.verbose);
        if self.processor.advance(now, verbose) {
            self.stats.processed += 1;
            self.gz_wanted = self.cfg.extras.gzip.is_some();
            self.touch_metrics(now);
            if self.rotation.is_none() {
                self.prune(None, ctx);
            }
        }
        // After TERM, files still queued wait for the next svlogd (which queues them again),
        // so that TERM is not held up by a queue runit never had.
        if !self.processor.busy() && !ctx.term {
            if let Some(job) = self.queue.pop_front() {
                self.processor = processor::start(job, verbose, now);
                self.touch_metrics(now);
            }
        }
    }

    /// The processor child ended with wait status `status`.
    pub fn processor_exited(&mut self, status: i32, now: Instant, give_up: bool) {
        if !self.processor.exited(status, now, give_up) {
            self.stats.processor_failures += 1;
            self.touch_metrics(now);
        }
    }

    /// Whether a processor job runs, or (before TERM) waits in the queue.
    pub fn processing(&self, term: bool) -> bool {
        self.processor.busy() || (!term && !self.queue.is_empty())
    }

    /// Prints runit's `pausing:` message and keeps it as the last error.
    pub(crate) fn pause(&mut self, what: &str, errno: i32) {
        msg::pause(what, &self.name, errno);
        self.stats.last_error = Some((SystemTime::now(), format!("{what}: {}", errstr(errno))));
    }

    /// Something the status file shows changed: write it within [`METRICS_EVERY`].
    pub(crate) fn touch_metrics(&mut self, now: Instant) {
        if !self.cfg.extras.metrics || self.metrics_due.is_some() {
            return;
        }
        let due = match self.metrics_last {
            Some(last) => (last + METRICS_EVERY).max(now),
            None => now,
        };
        self.metrics_due = Some(due);
    }

    /// When the forwarders' counters should next be looked at: every [`METRICS_EVERY`] while
    /// the status file is on and a target is behind or away (its threads change them; nothing
    /// else would wake the event loop).
    fn forward_check_at(&self) -> Option<Instant> {
        if !self.cfg.extras.metrics || !self.forward.is_active() || !self.forward.unsettled() {
            return None;
        }
        self.forward_checked.map(|t| t + METRICS_EVERY)
    }

    /// Looks at the forwarders' counters: the status file is due when they changed.
    pub fn check_forward_metrics(&mut self, now: Instant) {
        if !self.forward.is_active() {
            return;
        }
        if self
            .forward_checked
            .is_some_and(|t| now < t + METRICS_EVERY)
        {
            return;
        }
        self.forward_checked = Some(now);
        let f = self.forward.fingerprint();
        if f != self.forward_seen {
            self.forward_seen = f;
            self.touch_metrics(now);
        }
    }

    /// Writes the status file if it is due (or at once with `force`).
    pub fn write_metrics_if_due(&mut self, now: Instant, force: bool) {
        let due = self.metrics_due.is_some_and(|t| t <= now);
        if !self.cfg.extras.metrics || !(due || force && self.metrics_due.is_some()) {
            return;
        }
        self.metrics_due = None;
        self.metrics_last = Some(now);
        let Some(dir) = &self.dir else { return };
        let text = self.metrics_text();
        let written = openat(
            dir,
            metrics::FILE_NEW,
            libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
        )
        .and_then(|fd| {
            let mut f = File::from(fd);
            let _ = f.set_permissions(std::fs::Permissions::from_mode(0o644));
            f.write_all(text.as_bytes()).map_err(|e| errno_of(&e))
        })
        .and_then(|()| renameat(dir, metrics::FILE_NEW, metrics::FILE));
        match written {
            // Once per failing spell, not once a second.
            Err(e) if !self.metrics_failing => {
                msg::warn("unable to write status file", &self.name, e);
                self.metrics_failing = true;
            }
            Err(_) => {}
            Ok(()) => self.metrics_failing = false,
        }
    }

    /// The status file's contents: each part of the directory adds its lines.
    pub fn metrics_text(&self) -> String {
        let mut m = Metrics::new(&self.path);
        self.stats.write(&mut m);
        self.forward.write_metrics(&mut m);
        m.gauge(
            "archives",
            "Archives in the directory (at the last rotation).",
            self.census.archives,
        );
        m.gauge(
            "archive_bytes",
            "Bytes of the archives (at the last rotation).",
            self.census.bytes,
        );
        m.gauge("current_bytes", "Bytes in current.", self.size);
        m.gauge(
            "processor_queue",
            "Rotated files waiting for the processor (the running one included).",
            self.queue.len() as u64 + u64::from(self.processor.busy()),
        );
        let gz = &self.gz;
        m.counter(
            "compressed_files_total",
            "Archives gzip-compressed.",
            gz.files.load(Ordering::Relaxed),
        );
        m.counter(
            "compressed_input_bytes_total",
            "Bytes of the archives before compression.",
            gz.bytes_in.load(Ordering::Relaxed),
        );
        m.counter(
            "compressed_output_bytes_total",
            "Bytes of the archives after compression.",
            gz.bytes_out.load(Ordering::Relaxed),
        );
        m.counter(
            "compress_failures_total",
            "Compressions that failed (retried at the next rotation).",
            gz.failures.load(Ordering::Relaxed),
        );
        m.gauge(
            "dropping",
            "1 while lines are being dropped and the marker is not yet written.",
            u64::from(self.dropped.is_some()),
        );
        m.text().to_string()
    }

    /// Drop mode: the directory cannot take its pending lines now. They are counted and
    /// dropped, and so is every later line until the directory works again.
    pub fn shed(&mut self, input: &[u8], now: Instant) {
        let lines = self.batch.newlines_left(input);
        self.cut_open_line();
        // Lines of the batch that did go out before the directory stopped.
        self.stats.lines_written += self.batch.lines().saturating_sub(lines);
        self.batch.clear();
        let t = clock_now();
        match &mut self.dropped {
            Some(d) => d.add(lines, t),
            None => {
                msg::warnx("dropping lines, directory cannot keep up", &self.name);
                self.dropped = Some(Dropped::new(lines, t));
            }
        }
        self.stats.lines_dropped += lines;
        self.touch_metrics(now);
    }

    /// When a write stopped in the middle of a line (a disk filling up takes the part of a
    /// write that fits) and the line will not be finished here, the part of it already in
    /// `current` is cut off again, so the log holds whole lines only: in drop mode the line
    /// is dropped and counted with the rest (if the cut fails, the part stays and the marker
    /// goes on a line of its own after it); after TERM the input is not consumed, and the
    /// next svlogd writes the whole line.
    fn cut_open_line(&mut self) {
        if !self.line_open || self.open_bytes == 0 || self.open_bytes > self.size {
            return;
        }
        let Some(cur) = &self.current else { return };
        let keep = self.size - self.open_bytes;
        if cur.set_len(keep).is_ok() {
            self.stats.bytes_written = self.stats.bytes_written.saturating_sub(self.open_bytes);
            self.size = keep;
            self.line_open = false;
            self.open_bytes = 0;
        }
    }

    /// Starts a thread per `>udp`/`>tcp`/`>tls` target (none without such lines).
    fn start_forwarding(&mut self, ctx: &Ctx) {
        let Some(dir) = &self.dir else { return };
        if self.cfg.forward.targets.is_empty() {
            return;
        }
        // The service's name comes from the directory's real path (`./main` under runsv).
        let path = std::path::Path::new(std::ffi::OsStr::from_bytes(&self.path));
        let info = forward::DirInfo {
            name: self.name.clone(),
            service: forward::service_name(path),
            stamp: self.stamp,
            prefix: self.cfg.prefix.clone(),
            linemax: usize::try_from(ctx.linemax).unwrap_or(usize::MAX),
            verbose: ctx.verbose,
        };
        self.forward.start(dir, &self.cfg, &info);
    }

    fn read_config(&self, dir: &OwnedFd, ctx: &Ctx) -> Config {
        let mut data = Vec::new();
        // Non-blocking, as runit's `open_read`: a FIFO named `config` reads as empty instead of
        // blocking svlogd (TERM included) until something opens it for writing.
        match openat_follow(dir, b"config", libc::O_RDONLY | libc::O_NONBLOCK) {
            Err(libc::ENOENT) => return Config::default(),
            Err(e) => {
                msg::warn("unable to read config", &self.name, e);
                return Config::default();
            }
            Ok(fd) => {
                if let Err(e) = File::from(fd).read_to_end(&mut data) {
                    msg::warn("unable to read config", &self.name, errno_of(&e));
                    if ctx.verbose {
                        msg::info(&[b"read: ", &self.name, b"/config"]);
                    }
                    return Config::default();
                }
            }
        }
        if ctx.verbose {
            msg::info(&[b"read: ", &self.name, b"/config"]);
        }
        let (cfg, warnings) = config::parse(&data);
        for w in warnings {
            msg::warnx(w.what, &w.arg);
        }
        cfg
    }

    /// Closes the directory (exit, or before reopening on HUP): fsync `current`, mark it u+x
    /// unless output was given up, release the lock (spec §2.3).
    pub fn close(&mut self, ctx: &Ctx) {
        drop(self.close_keeping_lock(ctx));
    }

    /// Closes as [`LogDir::close`] does but hands the lock back instead of releasing it, for
    /// a reopen of the same directory (HUP); see [`LogDir::open`].
    pub fn close_keeping_lock(&mut self, ctx: &Ctx) -> Option<OwnedFd> {
        self.dir.as_ref()?;
        if ctx.verbose {
            msg::info(&[b"close: ", &self.name]);
        }
        self.write_metrics_if_due(ctx.now, true);
        self.forward.stop();
        if let Some(f) = self.current.take() {
            if let Err(e) = f.sync_all() {
                msg::warn("unable to fsync current logfile", &self.name, errno_of(&e));
            }
            if !self.unclean {
                if let Err(e) = f.set_permissions(std::fs::Permissions::from_mode(0o744)) {
                    msg::warn("unable to set mode of current", &self.name, errno_of(&e));
                }
            }
        }
        self.dir = None;
        self.rotation = None;
        self.retry_at = None;
        self.deadline = None;
        self.prune_at = None;
        self.metrics_due = None;
        self.reload_at = None;
        self.batch.clear();
        self.lock.take()
    }

    /// Starts a rotation (ALRM, `t`, or the size rules). An empty `current` is not rotated;
    /// an expired `t` deadline is renewed either way.
    pub fn start_rotation(&mut self, ctx: &Ctx) {
        if self.dir.is_none() {
            self.deadline = None;
            return;
        }
        if self.cfg.tmax > 0 && self.deadline.is_some_and(|d| d <= ctx.now) {
            self.deadline = ctx.now.checked_add(Duration::from_secs(self.cfg.tmax));
        }
        if self.size == 0 || self.rotation.is_some() {
            return;
        }
        self.rotation = Some(Rotation::new(Kind::Rotate));
    }

    /// A step failed (its message is printed): wait [`RETRY`], or give up after TERM.
    ///
    /// A directory that was removed while open (no links left) cannot work again: waiting
    /// would only block the other directories for ever (runit pauses for ever). It is closed
    /// with a warning, as if it had failed to open, until the next HUP; when no directory is
    /// left, svlogd exits 111 (see `Logger::run`).
    pub(crate) fn failed(&mut self, ctx: &Ctx) -> Progress {
        if self.dir.as_ref().is_some_and(crate::dirfd::removed) {
            msg::warnx("log directory removed, giving it up", &self.name);
            self.batch.clear();
            self.close(ctx);
            return Progress::Done;
        }
        if ctx.term {
            self.abandon();
            return Progress::Done;
        }
        self.retry_at = Some(ctx.now + RETRY);
        Progress::Blocked
    }

    /// Gives up the pending output and rotation after TERM; `current` stays without u+x.
    fn abandon(&mut self) {
        self.cut_open_line();
        self.batch.clear();
        self.rotation = None;
        self.retry_at = None;
        self.unclean = true;
    }

    /// Whether output was given up (then the input must not be consumed).
    pub fn gave_up(&self) -> bool {
        self.unclean
    }

    /// The earliest retry or processor time, ignoring `t` (which waits while output is
    /// pending).
    pub fn retry_or_processor_deadline(&self) -> Option<Instant> {
        [self.retry_at, self.processor.deadline(), self.metrics_due]
            .into_iter()
            .flatten()
            .min()
    }

    /// At the end (EOF or TERM), drop mode: the directory may work again before its retry
    /// time came; one more try writes the marker, so the count of the dropped lines is not
    /// lost with the process (it was, when no line came after the directory recovered). When
    /// the marker cannot be written (the disk is still full), its text goes to stderr as a
    /// warning instead: the count is never lost silently.
    pub fn write_final_marker(&mut self, ctx: &Ctx) {
        if self.dropped.is_none() || !self.is_open() {
            return;
        }
        if self.rotation.is_none() && !self.unclean {
            self.retry_at = None;
            let _ = self.write_marker(ctx);
        }
        if let Some(d) = self.dropped.take() {
            let text = d.marker();
            let what = format!(
                "{}, unable to write the marker",
                text.trim_end().trim_start_matches("svlogd: ")
            );
            msg::warnx(&what, &self.name);
        }
    }

    /// Drop mode, after lines were dropped: writes the marker line (with the directory's
    /// stamp), rotating first if it would not fit under `s`. The marker goes in whole or not
    /// at all: the part of it a full disk took is cut off again, so that nothing is glued to
    /// a fragment later.
    fn write_marker(&mut self, ctx: &Ctx) -> Progress {
        let Some(d) = self.dropped else {
            return Progress::Done;
        };
        // On a line of its own, after the stamp the directory's lines get.
        let mut text = if self.line_open {
            b"\n".to_vec()
        } else {
            Vec::new()
        };
        text.extend_from_slice(Stamper::new(self.stamp).render(clock_now()));
        text.extend_from_slice(d.marker().as_bytes());
        let sizemax = self.cfg.sizemax;
        if sizemax > 0 && self.size > 0 && self.size + text.len() as u64 > sizemax {
            self.start_rotation(ctx);
            return Progress::Done;
        }
        let before = self.size;
        let mut done = 0;
        loop {
            let Some(cur) = &self.current else {
                return Progress::Done;
            };
            let errno = match (&*cur).write(&text[done..]) {
                Ok(w) if done + w == text.len() => break,
                Ok(w) => {
                    done += w;
                    continue;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => errno_of(&e),
            };
            if errno == libc::ENOSPC && self.delete_for_space() {
                continue;
            }
            let cut = self
                .current
                .as_ref()
                .is_some_and(|c| c.set_len(before).is_ok());
            if done > 0 && !cut {
                // The part stays; what follows must start on a line of its own.
                self.size = before + done as u64;
                self.line_open = true;
                self.open_bytes = 0;
            }
            self.pause("unable to write to current", errno);
            return self.failed(ctx);
        }
        self.size = before + text.len() as u64;
        self.stats.bytes_written += text.len() as u64;
        self.dropped = None;
        self.line_open = false;
        self.open_bytes = 0;
        self.touch_metrics(ctx.now);
        Progress::Done
    }

    /// Writes as much of the batch as possible, rotating where the size rules say. `input`
    /// is the buffer the batch's segments point into.
    pub fn progress(&mut self, input: &[u8], ctx: &Ctx) -> Progress {
        // After output was given up nothing more goes to `current` (not the unfinished line
        // svlogd writes on its way out, now that the cut may have made room): the input stays
        // in the pipe for the next svlogd.
        if !self.is_open() || self.unclean {
            self.batch.clear();
            return Progress::Done;
        }
        if let Some(t) = self.retry_at {
            if t > ctx.now && !ctx.term {
                return Progress::Blocked;
            }
            self.retry_at = None;
        }
        loop {
            // A failed step after TERM gives the output up (see `failed`), and a directory
            // removed while open is closed: nothing more is tried here.
            if !self.is_open() || self.unclean {
                self.batch.clear();
                return Progress::Done;
            }
            if self.rotation.is_some() && self.advance_rotation(ctx) == Progress::Blocked {
                return Progress::Blocked;
            }
            if self.dropped.is_some() {
                match self.write_marker(ctx) {
                    Progress::Done => continue,
                    Progress::Blocked => return Progress::Blocked,
                }
            }
            if self.batch.is_done() {
                if !self.batch.is_empty() {
                    self.stats.lines_written += self.batch.lines();
                    self.touch_metrics(ctx.now);
                }
                self.batch.clear();
                return Progress::Done;
            }
            let sizemax = self.cfg.sizemax;
            if sizemax > 0 && self.size >= sizemax {
                self.start_rotation(ctx);
                continue;
            }
            let Some(cur) = &self.current else {
                // Only after output was given up.
                return Progress::Done;
            };
            let mut allow = self.batch.remaining();
            let mut rotate_after = false;
            if sizemax > 0 {
                allow = allow.min(usize::try_from(sizemax - self.size).unwrap_or(usize::MAX));
                // Rotate after the first newline that brings the size to `s - len` or more
                // (the subtraction wraps as in runit: with s < len only the hard cap applies).
                let threshold = sizemax.wrapping_sub(ctx.linemax);
                let from = threshold.saturating_sub(self.size).saturating_sub(1);
                if let Ok(from) = usize::try_from(from) {
                    if from < allow {
                        if let Some(q) = self.batch.find_newline(input, from, allow) {
                            allow = q + 1;
                            rotate_after = true;
                        }
                    }
                }
            }
            let mut iov = [IoSlice::new(&[]); IOV_MAX];
            let n = self.batch.slices(input, allow, &mut iov);
            let wanted: usize = iov[..n].iter().map(|s| s.len()).sum();
            let result = (&*cur).write_vectored(&iov[..n]);
            match result {
                Ok(w) => {
                    let open_bytes = open_tail(&iov[..n], w, self.open_bytes);
                    self.batch.advance(input, w);
                    self.size += w as u64;
                    self.stats.bytes_written += w as u64;
                    if w > 0 {
                        self.line_open = self.batch.last_written(input) != Some(b'\n');
                        self.open_bytes = open_bytes;
                    }
                    self.forward.written(self.size);
                    if rotate_after && w == wanted && wanted == allow {
                        self.start_rotation(ctx);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let errno = errno_of(&e);
                    if errno == libc::ENOSPC && self.delete_for_space() {
                        continue;
                    }
                    self.pause("unable to write to current", errno);
                    return self.failed(ctx);
                }
            }
        }
    }
}

/// The bytes of an unfinished line at the end of what a write put out (the first `w` bytes of
/// `iov`): those after its last newline, plus `open` (the line's earlier part) when it has
/// none.
fn open_tail(iov: &[IoSlice], w: usize, open: u64) -> u64 {
    let mut left = w;
    let mut tail = open;
    for s in iov {
        if left == 0 {
            break;
        }
        let part = &s[..s.len().min(left)];
        left -= part.len();
        tail = match memchr::memrchr(b'\n', part) {
            Some(p) => (part.len() - p - 1) as u64,
            None => tail + part.len() as u64,
        };
    }
    tail
}

/// Removes a symbolic link planted as `name` in the log directory `dirname`, with a warning
/// (svlogd creates and writes that file; following the link would write elsewhere).
pub(crate) fn remove_link(dir: &OwnedFd, dirname: &[u8], name: &[u8]) {
    if crate::dirfd::is_link(dir, name) {
        let what = [dirname, b"/", name].concat();
        match unlinkat(dir, name) {
            Ok(()) => msg::warnx("symbolic link removed", &what),
            Err(e) => msg::warn("unable to remove symbolic link", &what, e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_tail_is_what_follows_the_last_newline_written() {
        let (a, b) = (IoSlice::new(b"12 12\n13 1"), IoSlice::new(b"3\n14 14\n"));
        // All written: the line is closed.
        assert_eq!(open_tail(&[a, b], 18, 0), 0);
        // Stopped inside the first slice: `13 1` is open.
        assert_eq!(open_tail(&[a, b], 10, 0), 4);
        // Stopped in the second slice after its newline: `14` is open.
        assert_eq!(open_tail(&[a, b], 14, 0), 2);
        // No newline at all: added to the part already open.
        assert_eq!(open_tail(&[IoSlice::new(b"abc")], 3, 5), 8);
    }
}
