//! One log directory given on the command line: its lock, `config`, `current`, the processor
//! slot and the pending output, as runit keeps them (spec/svlogd.md §2).
//!
//! Opening (startup and every HUP): open the directory, lock `lock` without waiting (a second
//! svlogd skips the directory), read `config`, then either recover a `current` that was not
//! closed cleanly (non-empty, not u+x) as `.u`, or append to it. Closing: flush, fsync, mark
//! `current` u+x ("closed cleanly"), release the lock.
//!
//! The parts, one file each: the write path with runit's size rules and failures
//! (`write.rs`), the rotation's work on the files (`files.rs`, driven by `rotate`), and the
//! archives on disk (`archives.rs`: the look at opening, retention, the disk-full rule). What
//! svlogd adds to runit's directory is in [`Additions`], told what happens through a few
//! calls. The event loop sees a directory through the methods below and its [`Intake`], the
//! per-line state its line handling fills.
//!
//! After TERM, a paused directory is retried once at once; if it still fails, its pending
//! output is given up (the part of a line a failing write left is cut off again) and
//! `current` is left without u+x (so the next svlogd recovers it as `.u`), and svlogd exits
//! instead of pausing forever (spec §12 item 10). Input that was taken without being consumed
//! (see `input`) stays in the pipe for the next svlogd.

mod archives;
mod files;
mod write;

use crate::additions::{Additions, DirFigures};
use crate::batch::Batch;
use crate::census::Census;
use crate::compress::Compressor;
use crate::config::added::Stream;
use crate::config::{self, Config};
pub use crate::ctx::Ctx;
use crate::links::remove_link;
use crate::metrics::{self, Metrics};
use crate::msg;
use crate::processor::{self, Job, Processor};
use crate::rotate::{Kind, Outcome, Rotation};
use crate::stdio_copy::CopyOut;
use crate::udp::UdpOut;
use formats::stamp::Timestamp;
use formats::strerr::errno_of;
use nix::libc;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};
use sys::dirfd::{metaat, openat, openat_follow, statat};

/// How long a failed operation waits before it is retried (runit's `sleep(3)`).
pub const RETRY: Duration = Duration::from_secs(3);

/// How many times (10 ms apart) a busy `lock` is tried again before the directory is given up.
const LOCK_TRIES: u32 = 30;

/// What writing a directory's pending output (or a step of it) achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Everything pending is written (or given up).
    Done,
    /// It waits: for a retry time, or for the processor to finish.
    Blocked,
    /// It has more to write now, but has written for [`SLICE`]: the event loop looks at
    /// signals before it goes on (a tiny `s` can make one chunk thousands of rotations).
    Yield,
}

/// The longest unfinished last line of a crashed `current` that [`LogDir::first_input`] may cut
/// (a longer line was let through in pieces, so its beginning may be the only copy).
pub const FRAGMENT_MAX: usize = 64 * 1024;

/// The unfinished last line a killed svlogd left at the end of `current`, recovered as `name`.
#[derive(Debug)]
struct Fragment {
    /// The archive it is in.
    name: [u8; 27],
    /// Where the line starts in it.
    keep: u64,
    /// The line's bytes (stamp and prefix included).
    bytes: Vec<u8>,
}

/// How long one call writes before it lets the event loop look at signals.
pub const SLICE: Duration = Duration::from_millis(50);

/// A directory's per-line state, which the event loop's line handling fills: what each line
/// becomes for this directory, and where it goes besides `current`.
#[derive(Debug, Default)]
pub struct Intake {
    /// Output not yet written to `current`.
    pub batch: Batch,
    /// Whether the line being read goes to this directory's log (runit's `match == '+'`).
    pub selected: bool,
    /// The directory's slot in the logger's table of rendered stamps.
    pub stamp_slot: usize,
    /// The UDP sender (`u`/`U`).
    pub udp: UdpOut,
    /// `copy`: the stream and its pending copies.
    pub copy: Option<CopyOut>,
}

/// One log directory given on the command line.
#[derive(Debug)]
pub struct LogDir {
    /// The name as given, for messages.
    name: Vec<u8>,
    /// The settings from `config` (defaults when there is none).
    cfg: Config,
    /// The open directory; `None` when it is not functional.
    dir: Option<OwnedFd>,
    lock: Option<OwnedFd>,
    /// `current`, open for appending (absent in the middle of a rotation).
    current: Option<File>,
    /// Bytes in `current`.
    size: u64,
    /// When `t` next rotates (monotonic, spec §12 item 12).
    deadline: Option<Instant>,
    /// A rotation in progress.
    rotation: Option<Rotation>,
    /// A failed step or write waits until then.
    retry_at: Option<Instant>,
    /// Output given up after TERM: leave `current` without u+x.
    unclean: bool,
    /// The processor slot (kept across HUP).
    processor: Processor,
    /// Rotated files waiting for the processor, oldest first (kept across HUP).
    queue: VecDeque<Job>,
    /// Opened successfully once (runit's `-v` failure path prints the name only then).
    ever_opened: bool,
    /// The greatest archive label seen in the directory (see `archive::next_label`).
    newest: Option<[u8; 24]>,
    /// The archives, as svlogd last saw them (see `census`).
    census: Census,
    /// A crashed svlogd's unfinished last line, until the first input shows whether the
    /// pipe still holds it.
    fragment: Option<Fragment>,
    /// This directory's timestamp format.
    stamp: Timestamp,
    /// `current` ends in the middle of a line (a write stopped there).
    line_open: bool,
    /// How many bytes of that line are in `current` (0 when none, or not known).
    open_bytes: u64,
    /// What the line handling fills.
    pub out: Intake,
    /// svlogd's additions to runit's directory.
    add: Additions,
}

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
            queue: VecDeque::new(),
            ever_opened: false,
            newest: None,
            census: Census::default(),
            fragment: None,
            stamp: Timestamp::None,
            line_open: false,
            open_bytes: 0,
            out: Intake {
                selected: true,
                ..Intake::default()
            },
            add: Additions::new(name.as_bytes()),
        }
    }

    /// The name as given on the command line.
    pub fn name(&self) -> &[u8] {
        &self.name
    }

    /// The settings from `config`.
    pub fn cfg(&self) -> &Config {
        &self.cfg
    }

    /// The per-line state and the settings that decide it, for the line handling (one
    /// borrow for both).
    #[inline]
    pub fn intake(&mut self) -> (&mut Intake, &Config) {
        (&mut self.out, &self.cfg)
    }

    /// This directory's timestamp format (its `T` line, or the command line's).
    pub fn stamp(&self) -> Timestamp {
        self.stamp
    }

    /// The open directory, when it has `autoreload` (the watcher watches it).
    pub fn autoreload_dir(&self) -> Option<BorrowedFd<'_>> {
        self.dir
            .as_ref()
            .filter(|_| self.cfg.extras.autoreload)
            .map(|d| d.as_fd())
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
        self.is_open() && (!self.out.batch.is_done() || self.rotation.is_some())
    }

    /// Frees the memory this directory's output batch grew in a burst, once it is written.
    pub fn shrink_batch(&mut self) {
        self.out.batch.shrink();
    }

    /// The earliest time the directory wants attention, if any. While output is pending
    /// (`writing`), only a retry, the processor and the status file count: `t` waits.
    pub fn next_deadline(&self, writing: bool) -> Option<Instant> {
        let own = if writing {
            [self.retry_at, self.processor.deadline(), None]
        } else {
            [self.retry_at, self.processor.deadline(), self.deadline]
        };
        own.into_iter()
            .flatten()
            .chain(self.add.deadline(writing))
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
        // svlogd goes straight back (its other threads never look at the working directory).
        let entered = nix::unistd::fchdir(&dir);
        let _ = nix::unistd::fchdir(cwd);
        if let Err(e) = entered {
            self.verbose_failed_close(ctx);
            msg::warn("unable to change directory", &self.name, e as i32);
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
        self.out.selected = true;
        self.stamp = self.cfg.extras.stamp.unwrap_or(ctx.stamp);
        self.add.opening(&dir, &self.cfg, ctx);
        self.out.copy = self.cfg.extras.copy.as_ref().and_then(|c| {
            let prefix = c
                .prefix
                .clone()
                .unwrap_or_else(|| self.add.service_prefix());
            let fd = match c.to {
                Stream::Stdout => std::io::stdout().as_fd().try_clone_to_owned(),
                Stream::Stderr => std::io::stderr().as_fd().try_clone_to_owned(),
            };
            Some(CopyOut::new(fd.ok()?, prefix))
        });
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
        if let Some(dir) = &self.dir {
            self.add.opened(dir, &self.name, &self.cfg, self.stamp, ctx);
        }
        true
    }

    fn take_lock(&self, dir: &OwnedFd, held: Option<OwnedFd>, ctx: &Ctx) -> Option<OwnedFd> {
        if let Some(h) = held {
            let same = nix::sys::stat::fstat(&h).is_ok_and(|st| {
                metaat(dir, b"lock")
                    .is_ok_and(|now| (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino))
            });
            if same {
                return Some(h);
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
            let e = match sys::lock::exclusive(&lock, false) {
                Ok(()) => return Some(lock),
                Err(e) => e as i32,
            };
            tries += 1;
            if e != libc::EWOULDBLOCK || tries > LOCK_TRIES {
                self.verbose_failed_close(ctx);
                msg::warn("unable to lock directory", &self.name, e);
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
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
            msg::warnx(w.what, &w.arg_in(&self.name));
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
        self.write_metrics(ctx.now, true);
        self.add.forward.stop();
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
        self.add.closed();
        self.out.batch.clear();
        self.lock.take()
    }

    /// The size of `current` on disk (what a recovery renames).
    fn size_on_disk(&self) -> u64 {
        self.dir
            .as_ref()
            .and_then(|d| statat(d, b"current").ok())
            .map_or(0, |(_, size)| size)
    }

    /// The first input after the directory was opened. A killed svlogd may have left the
    /// beginning of a line at the end of `current` (a write cut short by SIGKILL), now at the
    /// end of the recovered `.u`. Input leaves the pipe only once it is written, so that line
    /// is normally still in the pipe, whole: when `chunk` (the head of the pipe) holds a line
    /// that starts with the fragment's text, the fragment is cut off the archive, which then
    /// ends with whole lines. Otherwise it stays (it may be the only copy), and so it does
    /// when input is not `peeked` from a pipe (then input left the pipe when it was read).
    pub fn first_input(&mut self, chunk: &[u8], peeked: bool) {
        let Some(f) = self.fragment.take() else {
            return;
        };
        if !peeked {
            return;
        }
        let mut stamper = formats::stamp::Stamper::new(self.stamp);
        let head = stamper.render(crate::faults::clock_now()).len() + self.cfg.prefix.len();
        let text = f.bytes.get(head..).unwrap_or(&[]);
        let found = text.is_empty()
            || chunk
                .split(|&b| b == b'\n')
                .any(|line| line.starts_with(text));
        if !found {
            return;
        }
        let Some(dir) = &self.dir else { return };
        let cut = openat(dir, &f.name, libc::O_WRONLY | libc::O_NONBLOCK)
            .map(File::from)
            .and_then(|file| file.set_len(f.keep).map_err(|e| errno_of(&e)));
        if cut.is_ok() {
            if let Some(n) = formats::archive::Name::parse(&f.name) {
                if let Some(a) = self.census.get(&n).copied() {
                    self.census
                        .add(crate::census::Archive { size: f.keep, ..a });
                }
            }
        }
    }

    /// At the end, before [`LogDir::finish`]: the forwarders start their last sends (every
    /// directory's at once).
    pub fn stop_forwarding(&self) {
        self.add.forward.stop_all();
    }

    /// At the end (EOF or TERM): the dropped-lines marker if one is due, then close.
    pub fn finish(&mut self, ctx: &Ctx) {
        self.write_final_marker(ctx);
        self.report_uncompressed();
        // The forwarders' last sends and cursors go into the status file.
        if self.add.forward.is_active() {
            self.add.forward.stop_all();
            self.add.forward.wait_all();
            self.add.forward_stopped(ctx.now);
        }
        self.close(ctx);
    }

    /// At the exit, with `compress gzip`: how many archives the worker did not reach (the
    /// next svlogd compresses them), said when there are any.
    fn report_uncompressed(&self) {
        let (Some(dir), Some(_)) = (&self.dir, self.cfg.extras.gzip) else {
            return;
        };
        let Ok(names) = sys::dirfd::list(dir) else {
            return;
        };
        let left = names
            .iter()
            .filter_map(formats::archive::Name::parse)
            .filter(|n| n.suffix == formats::archive::Suffix::Saved)
            .count();
        if left > 0 {
            let what = format!("{left} archives left uncompressed for the next svlogd");
            msg::warnx(&what, &self.name);
        }
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

    /// Whether `t` says the directory rotates now.
    pub fn rotation_due(&self, now: Instant) -> bool {
        self.deadline.is_some_and(|t| t <= now)
    }

    /// Runs the pending rotation as far as it goes now (see `rotate`).
    fn advance_rotation(&mut self, ctx: &Ctx) -> Progress {
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
                    self.add.rotated(&name, ctx.now);
                    self.advance_processor(ctx);
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

    /// Runs the processor slot: restarts and finishing steps that are due, then the next
    /// queued file once the slot is free. A finished job's files are no longer protected, so
    /// the limits are applied again. After TERM (`ctx.term`) at the exit (`stopping`), a job
    /// waiting to restart is given up.
    pub fn advance_processor(&mut self, ctx: &Ctx) {
        let (now, verbose) = (ctx.now, ctx.verbose);
        let job = self.processor.job().map(|j| *j.name());
        if self.processor.advance(now, verbose) {
            if let Some(u) = job {
                self.processed(&u);
            }
            self.add.processed(true, now);
            if self.rotation.is_none() {
                self.prune(None, ctx);
            }
        }
        // After TERM, files still queued wait for the next svlogd (which queues them again),
        // so that TERM is not held up by a queue runit never had.
        if !self.processor.busy() && !ctx.term {
            if let Some(job) = self.queue.pop_front() {
                self.processor = processor::start(job, verbose, now);
                self.add.queue_changed(now);
            }
        }
    }

    /// TERM during the exit: a processor waiting to restart is given up (its `.u` stays).
    pub fn give_up_processor(&mut self) {
        self.processor.give_up();
    }

    /// TERM's time is up (`ctx.give_up_at`): pending output is given up (it stays in the
    /// pipe for the next svlogd, `current` without u+x), and a running processor gets TERM
    /// and is not waited for (its `.u` stays for the next svlogd).
    pub fn give_up_at_exit(&mut self) {
        if !self.is_open() {
            return;
        }
        if self.busy() {
            msg::warnx("time to exit, pending lines left in the pipe", &self.name);
            self.abandon();
        }
        self.processor.stop_at_exit();
    }

    /// A child ended: if it is this directory's processor, its wait status is taken (`give_up`:
    /// TERM was received, a failure is not retried). Returns whether it was ours.
    pub fn child_exited(&mut self, pid: i32, status: i32, now: Instant, give_up: bool) -> bool {
        if self.processor.pid() != Some(pid) {
            return false;
        }
        if !self.processor.exited(status, now, give_up) {
            self.add.processed(false, now);
        }
        true
    }

    /// Whether a processor job runs, or (before TERM) waits in the queue.
    pub fn processing(&self, term: bool) -> bool {
        self.processor.busy() || (!term && !self.queue.is_empty())
    }

    /// Prints runit's `pausing:` message and keeps it as the last error.
    fn pause(&mut self, what: &str, errno: i32) {
        msg::pause(what, &self.name, errno);
        self.add.error(what, errno);
    }

    /// Between chunks: what the additions want done now (compression, `maxage`, the status
    /// file).
    pub fn housekeeping(&mut self, ctx: &Ctx, compressor: &mut Compressor) {
        let todo = self.add.tick(ctx.now, self.rotation.is_some());
        if let (Some(level), Some(dir)) = (todo.compress, &self.dir) {
            compressor.request(dir, &self.name, level, &self.add.gz);
        }
        if todo.prune {
            self.prune(None, ctx);
        }
        if todo.metrics {
            self.write_metrics(ctx.now, false);
        }
    }

    /// `autoreload`: the directory's `config` changed.
    pub fn config_changed(&mut self, now: Instant) {
        self.add.config_changed(now);
    }

    /// Whether an `autoreload` reload is due.
    pub fn reload_due(&self, now: Instant) -> bool {
        self.add.reload_due(now)
    }

    /// After a chunk's lines were handed out: UDP datagrams and copies go out.
    pub fn end_of_chunk(&mut self) {
        self.out.udp.flush(&mut self.out.batch);
        if let Some(c) = &mut self.out.copy {
            let lost = c.flush(self.add.drop_mode);
            if lost > 0 {
                self.add.copies_dropped(lost);
            }
        }
    }

    /// Writes the status file if it is due (or, with `force`, if anything changed since).
    fn write_metrics(&mut self, now: Instant, force: bool) {
        if !self.add.metrics_due(now, force) {
            return;
        }
        if self.dir.is_none() {
            self.add.metrics_written(now, true);
            return;
        }
        let mut m = Metrics::new(&self.add.path);
        let figures = DirFigures {
            archives: self.census.len(),
            archive_bytes: self.census.bytes(),
            current_bytes: self.size,
            processor_queue: self.queue.len() as u64 + u64::from(self.processor.busy()),
        };
        self.add.write_metrics(&mut m, &figures);
        let written = self.own_change(|dir| {
            openat(
                dir,
                metrics::FILE_NEW,
                libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
            )
            .and_then(|fd| {
                let mut f = File::from(fd);
                let _ = f.set_permissions(std::fs::Permissions::from_mode(0o644));
                f.write_all(m.text().as_bytes()).map_err(|e| errno_of(&e))
            })
            .and_then(|()| sys::dirfd::renameat(dir, metrics::FILE_NEW, metrics::FILE))
        });
        let failed = written.err();
        if self.add.metrics_written(now, failed.is_none()) {
            if let Some(e) = failed {
                msg::warn("unable to write status file", &self.name, e);
            }
        }
    }
}
