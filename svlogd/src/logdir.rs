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
//! output is given up and `current` is left without u+x (so the next svlogd recovers it as
//! `.u`), and svlogd exits instead of pausing forever (spec §12 item 10). Input that was
//! taken without being consumed (see `input`) stays in the pipe for the next svlogd.

use crate::batch::Batch;
use crate::config::{self, Config};
use crate::dirfd::{openat, statat};
use crate::forward::{self, Forwarders};
use crate::msg;
use crate::processor::Processor;
use crate::rotate::{Kind, Progress, Rotation};
use crate::udp::UdpOut;
use nix::libc;
use std::fs::File;
use std::io::{IoSlice, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};
use supervise::strerr::errno_of;

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
    /// The stamp every line gets (the forwarder reads it back).
    pub stamp: crate::options::Timestamp,
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
    /// Syslog forwarding (`>` lines): one thread per target.
    pub forward: Forwarders,
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
            batch: Batch::default(),
            selected: true,
            udp: UdpOut::default(),
            ever_opened: false,
            forward: Forwarders::default(),
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

    /// The earliest time the directory wants attention (retry, `t`, processor), if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        [self.retry_at, self.deadline, self.processor.deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Opens the directory as runit does at startup and on HUP (spec §2.2). Returns false,
    /// after runit's warning, when it cannot be used until the next HUP.
    pub fn open(&mut self, cwd: &OwnedFd, ctx: &Ctx) -> bool {
        self.retry_at = None;
        self.unclean = false;
        self.rotation = None;
        let dir = match openat(cwd, &self.name, libc::O_RDONLY | libc::O_NDELAY) {
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
        let lock = match openat(
            &dir,
            b"lock",
            libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_NDELAY,
        ) {
            Ok(l) => l,
            Err(e) => {
                self.verbose_failed_close(ctx);
                msg::warn("unable to lock directory", &self.name, e);
                return false;
            }
        };
        // SAFETY: flock on an fd we own.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } < 0 {
            let e = nix::errno::Errno::last_raw();
            self.verbose_failed_close(ctx);
            msg::warn("unable to lock directory", &self.name, e);
            return false;
        }
        self.ever_opened = true;
        self.cfg = self.read_config(&dir, ctx);
        self.size = 0;
        self.selected = true;
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
        self.rotation = Some(Rotation::new(kind));
        self.advance_rotation(ctx);
        self.start_forwarding(ctx);
        true
    }

    /// Starts a thread per `>udp`/`>tcp`/`>tls` target (none without such lines).
    fn start_forwarding(&mut self, ctx: &Ctx) {
        let Some(dir) = &self.dir else { return };
        if self.cfg.forward.targets.is_empty() {
            return;
        }
        // The service's name comes from the directory's real path (`./main` under runsv).
        let path = std::fs::read_link(format!("/proc/self/fd/{}", dir.as_raw_fd()))
            .unwrap_or_else(|_| std::path::PathBuf::from(std::ffi::OsStr::from_bytes(&self.name)));
        let info = forward::DirInfo {
            name: self.name.clone(),
            service: forward::service_name(&path),
            stamp: ctx.stamp,
            prefix: self.cfg.prefix.clone(),
            linemax: usize::try_from(ctx.linemax).unwrap_or(usize::MAX),
            verbose: ctx.verbose,
        };
        self.forward.start(dir, &self.cfg, &info);
    }

    fn read_config(&self, dir: &OwnedFd, ctx: &Ctx) -> Config {
        let mut data = Vec::new();
        match openat(dir, b"config", libc::O_RDONLY) {
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
        if self.dir.is_none() {
            return;
        }
        if ctx.verbose {
            msg::info(&[b"close: ", &self.name]);
        }
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
        self.lock = None;
        self.rotation = None;
        self.retry_at = None;
        self.deadline = None;
        self.batch.clear();
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
    pub(crate) fn failed(&mut self, ctx: &Ctx) -> Progress {
        if ctx.term {
            self.abandon();
            return Progress::Done;
        }
        self.retry_at = Some(ctx.now + RETRY);
        Progress::Blocked
    }

    /// Gives up the pending output and rotation after TERM; `current` stays without u+x.
    fn abandon(&mut self) {
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
        [self.retry_at, self.processor.deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Writes as much of the batch as possible, rotating where the size rules say. `input`
    /// is the buffer the batch's segments point into.
    pub fn progress(&mut self, input: &[u8], ctx: &Ctx) -> Progress {
        if !self.is_open() {
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
            if self.rotation.is_some() && self.advance_rotation(ctx) == Progress::Blocked {
                return Progress::Blocked;
            }
            if self.batch.is_done() {
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
                    self.batch.advance(input, w);
                    self.size += w as u64;
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
                    msg::pause("unable to write to current", &self.name, errno);
                    return self.failed(ctx);
                }
            }
        }
    }
}
