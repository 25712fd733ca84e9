//! What svlogd adds to runit's log directory, in one place: retention by age and bytes
//! (`maxage`, `S`), compression (`compress gzip`), the status file (`metrics`), drop mode's
//! count and marker (`overload drop`), `autoreload`, and syslog forwarding (`>` lines).
//!
//! The directory (`logdir`) keeps runit's state and tells these additions what happened at a
//! few points — [`Additions::opening`], [`Additions::opened`], [`Additions::written`], [`Additions::rotated`],
//! [`Additions::processed`], [`Additions::may_delete`] / [`Additions::deleted`],
//! [`Additions::dropping`], and once a turn [`Additions::tick`] — and each call *returns* what
//! the additions want done (a look by the compressor, a pruning pass, the status file), so nothing here reaches back into the directory. A directory whose `config` has
//! none of these lines gets runit's behaviour: every call is then a few field updates.

use crate::compress::DirShared;
use crate::config::added::Overload;
use crate::config::Config;
use crate::ctx::Ctx;
use crate::forward::{self, Forwarders};
use crate::metrics::{Metrics, Stats};
use crate::overload::Dropped;
use crate::prune::Hold;
use crate::reload::DEBOUNCE;
use formats::stamp::Timestamp;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// The status file is written at most this often.
pub const METRICS_EVERY: Duration = Duration::from_secs(1);

/// What a turn's [`Additions::tick`] wants the directory to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Todo {
    /// Ask the compressor to look at the directory, at this gzip level.
    pub compress: Option<u32>,
    /// Apply the retention limits (`maxage` found an archive of age).
    pub prune: bool,
    /// Write the status file now.
    pub metrics: bool,
}

/// What the directory knows that the status file shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct DirFigures {
    /// Archives in the directory.
    pub archives: u64,
    /// Their bytes.
    pub archive_bytes: u64,
    /// Bytes in `current`.
    pub current_bytes: u64,
    /// Rotated files waiting for the processor, the running one included.
    pub processor_queue: u64,
}

/// One directory's additions (kept across HUP: the counters, the compressor's share and the
/// processor's and compressor's counts).
#[derive(Debug)]
pub struct Additions {
    /// The directory's real path (the status file's label, the service's name).
    pub path: Vec<u8>,
    /// `overload drop` (or `-L`) is in effect.
    pub drop_mode: bool,
    /// Lines dropped and not yet reported by a marker.
    dropped: Option<Dropped>,
    /// `maxage`.
    age_max: Option<Duration>,
    /// When `maxage` next wants a look.
    prune_at: Option<Instant>,
    /// `compress gzip`: the level.
    gzip: Option<u32>,
    /// What the compression worker and this directory share.
    pub gz: Arc<DirShared>,
    /// A rotation or processor made a `.s`: ask the compressor to look.
    gz_wanted: bool,
    /// Counters for the status file.
    pub stats: Stats,
    /// `metrics`.
    metrics: bool,
    /// The status file is due at this time (something changed).
    metrics_due: Option<Instant>,
    /// When it was last written.
    metrics_last: Option<Instant>,
    /// The last write of it failed (and said so).
    metrics_failing: bool,
    /// `autoreload`: reload at this time (the config changed).
    reload_at: Option<Instant>,
    /// Syslog forwarding: one thread per target.
    pub forward: Forwarders,
    /// When the forwarders' counters were last looked at, and what they were.
    forward_checked: Option<Instant>,
    forward_seen: u64,
}

impl Additions {
    /// A directory's additions before it was first opened.
    pub fn new(name: &[u8]) -> Additions {
        Additions {
            path: name.to_vec(),
            drop_mode: false,
            dropped: None,
            age_max: None,
            prune_at: None,
            gzip: None,
            gz: Arc::new(DirShared::default()),
            gz_wanted: false,
            stats: Stats::default(),
            metrics: false,
            metrics_due: None,
            metrics_last: None,
            metrics_failing: false,
            reload_at: None,
            forward: Forwarders::default(),
            forward_checked: None,
            forward_seen: 0,
        }
    }

    /// The directory `dir` is being opened with `cfg`: the settings take effect (before
    /// `current` is opened, which may already rotate).
    pub fn opening(&mut self, dir: &OwnedFd, cfg: &Config, ctx: &Ctx) {
        use std::os::fd::AsRawFd;
        if let Ok(p) = std::fs::read_link(format!("/proc/self/fd/{}", dir.as_raw_fd())) {
            self.path = p.as_os_str().as_bytes().to_vec();
        }
        let x = &cfg.extras;
        let lossy = if ctx.lossy {
            Overload::Drop
        } else {
            Overload::Block
        };
        self.drop_mode = x.overload.unwrap_or(lossy) == Overload::Drop;
        self.age_max = x.age_max;
        self.gzip = x.gzip;
        self.metrics = x.metrics;
        self.reload_at = None;
    }

    /// The directory `dir` (named `name`) is open, `current` with it: the compressor is
    /// asked to look, the status file is due, forwarding starts.
    pub fn opened(
        &mut self,
        dir: &OwnedFd,
        name: &[u8],
        cfg: &Config,
        stamp: Timestamp,
        ctx: &Ctx,
    ) {
        self.gz_wanted = self.gzip.is_some();
        self.touch_metrics(ctx.now);
        if !cfg.forward.targets.is_empty() {
            let path = std::path::Path::new(std::ffi::OsStr::from_bytes(&self.path));
            let info = forward::DirInfo {
                name: name.to_vec(),
                service: forward::service_name(path),
                stamp,
                prefix: cfg.prefix.clone(),
                linemax: usize::try_from(ctx.linemax).unwrap_or(usize::MAX),
                verbose: ctx.verbose,
            };
            self.forward.start(dir, cfg, &info);
        }
    }

    /// Whether the status file is to be written now: it is due, or (`force`, when the
    /// directory closes) something changed since it was last written.
    pub fn metrics_due(&self, now: Instant, force: bool) -> bool {
        self.metrics && self.metrics_due.is_some_and(|t| force || t <= now)
    }

    /// The prefix copies get by default: the service's name and ` | `.
    pub fn service_prefix(&self) -> Vec<u8> {
        let mut p = forward::service_name(std::path::Path::new(std::ffi::OsStr::from_bytes(
            &self.path,
        )));
        p.extend_from_slice(b" | ");
        p
    }

    /// `bytes` went into `current`, which now holds `size` bytes.
    pub fn written(&mut self, bytes: u64, size: u64) {
        self.stats.bytes_written += bytes;
        self.forward.written(size);
    }

    /// The forwarders finished (at exit): the status file must show where they ended.
    pub fn forward_stopped(&mut self, now: Instant) {
        self.touch_metrics(now);
    }

    /// `lines` lines went into `current` in all (a batch is done).
    pub fn lines_written(&mut self, lines: u64, now: Instant) {
        self.stats.lines_written += lines;
        self.touch_metrics(now);
    }

    /// `bytes` written earlier were cut off again (the part of a line that will not be
    /// finished there).
    pub fn unwritten(&mut self, bytes: u64) {
        self.stats.bytes_written = self.stats.bytes_written.saturating_sub(bytes);
    }

    /// A new `current` was opened (its inode, for the forwarders' receipt marks).
    pub fn current_opened(&mut self, current: &std::fs::File) {
        self.forward.opened(current);
    }

    /// Whether the rotation must tell the forwarders which inode became which archive.
    pub fn wants_inode(&self) -> bool {
        self.forward.is_active()
    }

    /// `current` (inode `ino`) was renamed to `name`.
    pub fn renamed(&mut self, ino: u64, name: &[u8; 27]) {
        self.forward.rotated(ino, name);
    }

    /// A rotation into `name` is complete.
    pub fn rotated(&mut self, name: &[u8; 27], now: Instant) {
        self.stats.rotations += 1;
        if name[26] == b's' {
            self.gz_wanted = self.gzip.is_some();
        }
        self.touch_metrics(now);
    }

    /// A processor run finished (`ok`) or failed.
    pub fn processed(&mut self, ok: bool, now: Instant) {
        if ok {
            self.stats.processed += 1;
            self.gz_wanted = self.gzip.is_some();
        } else {
            self.stats.processor_failures += 1;
        }
        self.touch_metrics(now);
    }

    /// The processor queue changed (the status file shows it).
    pub fn queue_changed(&mut self, now: Instant) {
        self.touch_metrics(now);
    }

    /// A failure was reported with runit's words `what` (the status file shows the last).
    pub fn error(&mut self, what: &str, errno: i32) {
        self.stats.last_error = Some((
            SystemTime::now(),
            format!("{what}: {}", formats::strerr::errstr(errno)),
        ));
    }

    /// What keeps archives from simply being deleted, besides the directory's own reasons
    /// and the file being compressed: the lines the syslog targets have not sent yet (looked
    /// up once per pruning pass).
    pub fn may_delete(&self) -> crate::forward::Needs {
        self.forward.needs()
    }

    /// How many bytes of unsent archives are kept beyond `n` and `maxage` (`>spool`; 0: all).
    pub fn unsent_max(&self) -> u64 {
        self.forward.spool_max()
    }

    /// The archive `raw` (`size` bytes, held as `hold`) was deleted by retention.
    pub fn deleted(&mut self, dirname: &[u8], raw: &[u8], size: u64, hold: Hold) {
        self.stats.deleted += 1;
        if hold == Hold::Unsent {
            self.forward.lost(dirname, raw, size);
        }
    }

    /// A pruning pass ended: `left` holds, for each archive that may come of age (not in use,
    /// not the newest), how old it is now; `maxage` wants the next look when the oldest does.
    pub fn pruned(&mut self, left: impl Iterator<Item = Duration>, now: Instant) {
        self.prune_at = self.age_max.and_then(|max| {
            let soonest = left.map(|age| max.saturating_sub(age)).min()?;
            Some(now + soonest.clamp(Duration::from_millis(10), crate::prune::AGE_CHECK_MAX))
        });
    }

    /// Lines the directory could not take were dropped (drop mode): `lines` more at `t`.
    /// True when dropping starts (the warning is due).
    pub fn dropping(&mut self, lines: u64, t: formats::tai64n::Tai64n, now: Instant) -> bool {
        self.stats.lines_dropped += lines;
        self.touch_metrics(now);
        match &mut self.dropped {
            Some(d) => {
                d.add(lines, t);
                false
            }
            None => {
                self.dropped = Some(Dropped::new(lines, t));
                true
            }
        }
    }

    /// The dropped lines the marker must report, if any.
    pub fn marker_due(&self) -> Option<Dropped> {
        self.dropped
    }

    /// The marker was written (`bytes` of it), or reported on stderr instead (0).
    pub fn marker_done(&mut self, bytes: u64, now: Instant) {
        self.dropped = None;
        self.stats.bytes_written += bytes;
        self.touch_metrics(now);
    }

    /// Copies lost in drop mode.
    pub fn copies_dropped(&mut self, lines: u64) {
        self.stats.copy_dropped += lines;
    }

    /// `autoreload`: `config` changed; reload once it has settled.
    pub fn config_changed(&mut self, now: Instant) {
        self.reload_at = Some(now + DEBOUNCE);
    }

    /// Whether the reload is due.
    pub fn reload_due(&self, now: Instant) -> bool {
        self.reload_at.is_some_and(|t| t <= now)
    }

    /// Something the status file shows changed: write it within [`METRICS_EVERY`].
    fn touch_metrics(&mut self, now: Instant) {
        if !self.metrics || self.metrics_due.is_some() {
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
        if !self.metrics || !self.forward.is_active() || !self.forward.unsettled() {
            return None;
        }
        self.forward_checked.map(|t| t + METRICS_EVERY)
    }

    /// The earliest time the additions want a turn, if any. `writing`: output is pending, so
    /// only what must not wait for it counts (the status file).
    pub fn deadline(&self, writing: bool) -> Option<Instant> {
        if writing {
            return self.metrics_due;
        }
        [
            self.prune_at,
            self.metrics_due,
            self.reload_at,
            self.forward_check_at(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Once a turn of the event loop, between chunks: what is due. `rotating`: a rotation is
    /// in progress (pruning waits for it).
    pub fn tick(&mut self, now: Instant, rotating: bool) -> Todo {
        let mut todo = Todo::default();
        if self.gz_wanted {
            self.gz_wanted = false;
            todo.compress = self.gzip;
        }
        if !rotating && self.prune_at.is_some_and(|t| t <= now) {
            todo.prune = true;
        }
        self.check_forward_metrics(now);
        todo.metrics = self.metrics_due(now, false);
        todo
    }

    /// Looks at the forwarders' counters: the status file is due when they changed.
    fn check_forward_metrics(&mut self, now: Instant) {
        if !self.forward.is_active()
            || self
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

    /// The status file is being written now; `ok` says whether that worked. True when a
    /// failure must be reported (once per failing spell, not once a second).
    pub fn metrics_written(&mut self, now: Instant, ok: bool) -> bool {
        self.metrics_due = None;
        self.metrics_last = Some(now);
        let report = !ok && !self.metrics_failing;
        self.metrics_failing = !ok;
        report
    }

    /// Stops the clocks of a closed directory (its deadlines mean nothing until it opens).
    pub fn closed(&mut self) {
        self.prune_at = None;
        self.metrics_due = None;
        self.reload_at = None;
    }

    /// The status file's lines about the additions, with what the directory knows: the
    /// archives (`archives`, `archive_bytes`), `current_bytes` and `processor_queue`.
    pub fn write_metrics(&self, m: &mut Metrics, dir: &DirFigures) {
        self.stats.write(m);
        self.forward.write_metrics(m);
        m.gauge(
            "archives",
            "Archives in the directory (at the last rotation).",
            dir.archives,
        );
        m.gauge(
            "archive_bytes",
            "Bytes of the archives (at the last rotation).",
            dir.archive_bytes,
        );
        m.gauge("current_bytes", "Bytes in current.", dir.current_bytes);
        m.gauge(
            "processor_queue",
            "Rotated files waiting for the processor (the running one included).",
            dir.processor_queue,
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
    }
}
