//! The event loop: input chunks in, lines out to every directory, signals and deadlines handled
//! at one safe point between chunks (runit's `buffer_pread`, without its per-line costs).
//!
//! One turn of the loop: read pending signals (a signalfd, so nothing signal-related runs per
//! line; while input flows, every [`SIGNAL_CHECK`]); advance processors; write every
//! directory's pending output (rotating where the size rules say); once all of it is written,
//! consume the input it came from; then, if nothing is pending, handle ALRM, HUP and `t`
//! deadlines; then take more input if there is any, or poll on stdin and the signalfd until
//! the next deadline. Every complete line read is written before svlogd waits again. HUP and
//! ALRM wait while a directory is in the middle of a write or rotation (as runit's did, which
//! handled them only before reading); TERM does not.
//!
//! A chunk is split once (see `split`), with one clock reading: every line whose first byte
//! came in that chunk gets that stamp, rendered only when the reading changes (see `stamp`).
//! When no directory has patterns or UDP and nothing is replaced, lines go straight from the
//! splitter to the batches (`process_simple`); otherwise every line's head is
//! decided first (`dispatch`). A directory's batch points into the input buffer, or
//! holds copies of stamped lines, and goes out in one or two `writev` calls.
//!
//! Each directory has its own timestamp format (`T`, or the command line's): the formats in
//! use are rendered once per clock reading, into a small table the directories point into.
//! Between chunks, next to the signals, the loop also does our additions' periodic work:
//! compression requests, the `maxage` look, status files, `autoreload` reloads (inotify), and
//! in drop mode a directory that cannot keep up sheds its lines instead of holding the input.
//!
//! Exit (spec §7 and §12 items 1, 2, 10): at EOF the unfinished last line is written with a
//! newline added. On TERM, svlogd takes what is already in the pipe once more, waits at most
//! [`TERM_WAIT`] for an unfinished line to end (then writes it with a newline), writes
//! everything, waits for running processors, closes every directory and exits 0. A directory
//! that cannot be written after TERM is given up rather than retried forever.

use crate::compress::Compressor;
use crate::faults::clock_now;
use crate::input::{Fill, Input};
use crate::logdir::{Ctx, LogDir, Progress};
use crate::msg;
use crate::options::Options;
use crate::reload::Watcher;
use crate::replace::Replacer;
use crate::split::{Event, LineEnd, Splitter};
use crate::udp;
use formats::stamp::Timestamp;
use formats::stamp::{Rendered, Stamper, STAMP_LEN};
use formats::strerr::errno_of;
use formats::tai64n::Tai64n;
use nix::fcntl::OFlag;
use nix::libc;
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};
use sys::signal::SignalFd;

/// How long, after TERM, svlogd waits for an unfinished line to end.
pub const TERM_WAIT: Duration = Duration::from_secs(2);
/// How long, after TERM, svlogd goes on writing and waiting for processors: then what is
/// still pending is given up (left in the pipe for the next svlogd) and a running processor
/// gets TERM, so svlogd always exits (see `LogDir::give_up_at_exit`).
pub const TERM_LIMIT: Duration = Duration::from_secs(4);
/// While input flows, signals wait at most this long to be looked at.
pub const SIGNAL_CHECK: Duration = Duration::from_millis(2);
/// runit's exit code for every fatal error.
pub const EXIT_FATAL: i32 = 111;
/// How long input must stay away before the memory of a burst is given back: long enough
/// that a steady stream never pays for it, short enough that an idle logger is small.
pub const IDLE_TRIM: Duration = Duration::from_millis(200);

/// One timestamp format in use, and the stamp of the line being read in it.
struct StampSlot {
    stamper: Stamper,
    line: Rendered,
}

/// The running logger.
pub struct Logger {
    verbose: bool,
    linemax: u64,
    /// The command line's timestamp format.
    stamp: Timestamp,
    /// `-L`.
    lossy: bool,
    /// The formats the open directories use (each directory's `stamp_slot` points here).
    stamps: Vec<StampSlot>,
    replacer: Replacer,
    cwd: OwnedFd,
    dirs: Vec<LogDir>,
    input: Input,
    splitter: Splitter,
    /// Events of the chunk being handled (reused).
    events: Vec<Event>,
    /// The clock reading the stamps of the line being read were rendered from.
    line_clock: Option<Tai64n>,
    /// No open directory has UDP or a copy: lines go from the splitter straight to the
    /// batches (recomputed whenever directories are opened).
    simple: bool,
    /// Some open directory has patterns or UDP: a line's head must be decided before the
    /// line is written.
    heads: bool,
    /// stderr output (`e` lines) of the chunk being handled.
    alerts: Vec<u8>,
    /// Whether the memory of the last burst was given back (see [`Logger::trim`]).
    trimmed: bool,
    /// Where a chunk holds the texts its directory's patterns need (see `prefilter`).
    hits: crate::prefilter::Hits,
    signals: SignalFd,
    got_hup: bool,
    got_alrm: bool,
    /// TERM was received.
    term: bool,
    /// After TERM: take what is in the pipe once more.
    term_drain: bool,
    /// After TERM: give an unfinished line until then.
    term_deadline: Option<Instant>,
    /// After TERM: give up what is still pending then ([`TERM_LIMIT`]).
    give_up_at: Option<Instant>,
    /// That was done.
    given_up: bool,
    /// No more input will be taken.
    stopping: bool,
    /// A chunk was handled and its input is not yet consumed.
    unreleased: bool,
    /// The pending line must be taken out of the pipe (held in memory instead).
    detach: bool,
    /// The last fill brought data: input is flowing, and signals are looked at only every
    /// [`SIGNAL_CHECK`] (a pipe writer raises SIGIO all the time).
    flowing: bool,
    /// When to look at signals next while input is flowing.
    signal_check_at: Instant,
    /// The compression worker (`compress gzip`).
    compressor: Compressor,
    /// The inotify watcher for `autoreload` directories.
    watcher: Option<Watcher>,
}

/// What the loop does after a turn ([`Logger::turn`]).
enum Turn {
    /// Another turn at once.
    Again,
    /// Wait (for input too, if the first is true; the second says a directory is busy).
    Wait(bool, bool),
    /// Return this exit code.
    Exit(i32),
}

impl Logger {
    /// Sets up signals, opens every directory and standard input. `Err` is the exit code
    /// after runit's fatal message.
    pub fn new(opts: &Options) -> Result<Logger, i32> {
        let cwd = match nix::fcntl::open(
            ".",
            OFlag::O_RDONLY | OFlag::O_NDELAY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(e) => {
                msg::fatal("unable to open current working directory", e as i32);
                return Err(EXIT_FATAL);
            }
        };
        // SIGIO: a write to the input pipe (see `input`); it only wakes the loop.
        let signals = match SignalFd::new(&[
            Signal::SIGTERM,
            Signal::SIGCHLD,
            Signal::SIGALRM,
            Signal::SIGHUP,
            Signal::SIGIO,
        ]) {
            Ok(s) => s,
            Err(e) => {
                msg::fatal("unable to create signalfd", errno_of(&e));
                return Err(EXIT_FATAL);
            }
        };
        let linemax = opts.linemax_usize();
        let mut lg = Logger {
            verbose: opts.verbose,
            linemax: opts.linemax,
            stamp: opts.timestamp,
            lossy: opts.lossy,
            stamps: Vec::new(),
            replacer: Replacer::new(opts.replace_char, &opts.replace_set),
            cwd,
            dirs: opts.dirs.iter().map(|d| LogDir::new(d)).collect(),
            input: Input::new(linemax, opts.replace_char.is_some()),
            splitter: Splitter::new(linemax),
            events: Vec::new(),
            line_clock: None,
            simple: false,
            heads: false,
            alerts: Vec::new(),
            trimmed: false,
            hits: crate::prefilter::Hits::default(),
            signals,
            got_hup: false,
            got_alrm: false,
            term: false,
            term_drain: false,
            term_deadline: None,
            give_up_at: None,
            given_up: false,
            stopping: false,
            unreleased: false,
            detach: false,
            flowing: false,
            signal_check_at: Instant::now(),
            compressor: Compressor::default(),
            watcher: None,
        };
        let ctx = lg.ctx(Instant::now());
        if !lg.open_all(&ctx) {
            msg::fatalx("no functional log directories.");
            return Err(EXIT_FATAL);
        }
        Ok(lg)
    }

    fn ctx(&self, now: Instant) -> Ctx {
        Ctx {
            verbose: self.verbose,
            linemax: self.linemax,
            now,
            term: self.term,
            give_up_at: self.give_up_at,
            stamp: self.stamp,
            lossy: self.lossy,
        }
    }

    /// Closes (if open) and opens every directory; false if none works.
    #[inline(never)]
    fn open_all(&mut self, ctx: &Ctx) -> bool {
        let mut ok = false;
        for i in 0..self.dirs.len() {
            if self.reopen(i, ctx) {
                ok = true;
            }
        }
        ok
    }

    /// Closes (if open) and opens directory `i` (HUP, or `autoreload` for one directory);
    /// false if it does not work now.
    #[inline(never)]
    fn reopen(&mut self, i: usize, ctx: &Ctx) -> bool {
        let d = &mut self.dirs[i];
        let held = d.close_keeping_lock(ctx);
        let ok = d.open(&self.cwd, held, ctx);
        if ok && d.autoreload_dir().is_some() && self.watcher.is_none() {
            self.watcher = Watcher::new();
        }
        if let Some(w) = &mut self.watcher {
            let d = &self.dirs[i];
            match d.autoreload_dir() {
                Some(fd) if ok => w.watch(fd, i, d.name()),
                _ => w.unwatch(i),
            }
        }
        self.settle();
        ok
    }

    /// After directories were (re)opened: the table of stamp formats, and whether lines can
    /// take the direct path.
    fn settle(&mut self) {
        let mut formats: Vec<Timestamp> = Vec::new();
        for d in self.dirs.iter_mut().filter(|d| d.is_open()) {
            d.out.stamp_slot = match formats.iter().position(|&f| f == d.stamp()) {
                Some(k) => k,
                None => {
                    formats.push(d.stamp());
                    formats.len() - 1
                }
            };
        }
        self.stamps = formats
            .into_iter()
            .map(|f| StampSlot {
                stamper: Stamper::new(f),
                line: Rendered::default(),
            })
            .collect();
        if let Some(t) = self.line_clock {
            for slot in &mut self.stamps {
                slot.line = Rendered::from_bytes(slot.stamper.render(t));
            }
        }
        self.simple = self
            .dirs
            .iter()
            .all(|d| d.cfg().udp.is_none() && d.out.copy.is_none());
        self.heads = self
            .dirs
            .iter()
            .any(|d| !d.cfg().patterns.is_empty() || d.cfg().udp.is_some());
    }

    /// Runs until the input ends or TERM; returns the exit code. The loop holds nothing but
    /// the turn and the wait: a turn's work is in [`Logger::turn`], whose frame is gone while
    /// svlogd waits (idle for hours: see `sys::memory::release_stack`).
    pub fn run(&mut self) -> i32 {
        loop {
            match self.turn() {
                Turn::Again => {}
                Turn::Wait(reading, busy) => self.wait(reading, busy),
                Turn::Exit(code) => return code,
            }
        }
    }

    /// One turn of the loop: signals, processors, writing, housekeeping, then the next input.
    #[inline(never)]
    fn turn(&mut self) -> Turn {
        let now = Instant::now();
        if !self.flowing || now >= self.signal_check_at {
            self.handle_signals(now);
            self.signal_check_at = now + SIGNAL_CHECK;
        }
        if self.give_up_at.is_some_and(|t| now >= t) && !self.given_up {
            self.given_up = true;
            for d in &mut self.dirs {
                d.give_up_at_exit();
            }
            if !self.stopping {
                self.stop();
            }
        }
        let ctx = self.ctx(now);
        for d in &mut self.dirs {
            if self.term && self.stopping {
                d.give_up_processor();
            }
            d.advance_processor(&ctx);
        }
        let (busy, yielded) = self.flush(&ctx);
        if yielded {
            // A directory wrote for a while: look at signals before it goes on.
            self.housekeeping(&ctx);
            self.signal_check_at = now;
            return Turn::Again;
        }
        if !self.dirs.iter().any(|d| d.is_open()) {
            // Every directory was removed while open (see `LogDir::failed`); the input
            // not written stays in the pipe.
            msg::fatalx("no functional log directories.");
            return Turn::Exit(EXIT_FATAL);
        }
        if !busy && self.unreleased {
            self.release();
        }
        self.housekeeping(&ctx);
        if self.stopping {
            if !busy && self.dirs.iter().all(|d| !d.processing(self.term)) {
                // Queued compression gets a moment (within TERM's limit); what is left
                // is the next svlogd's, and each directory says how much.
                let mut until = now + crate::compress::EXIT_WAIT;
                if let Some(t) = self.give_up_at {
                    until = until.min(t);
                }
                self.compressor.wait_idle(until);
                self.compressor.stop();
                // Every directory's forwarders drain at once, then each status file
                // shows where they ended.
                for d in &mut self.dirs {
                    d.stop_forwarding();
                }
                for d in &mut self.dirs {
                    d.finish(&ctx);
                }
                return Turn::Exit(0);
            }
            return Turn::Wait(false, busy);
        }
        if !busy {
            if self.got_alrm {
                self.got_alrm = false;
                for d in &mut self.dirs {
                    d.start_rotation(&ctx);
                }
                return Turn::Again;
            }
            if self.got_hup {
                self.got_hup = false;
                if !self.open_all(&ctx) {
                    msg::fatalx("no functional log directories.");
                    return Turn::Exit(EXIT_FATAL);
                }
                return Turn::Again;
            }
            if let Some(i) = self.dirs.iter().position(|d| d.reload_due(now)) {
                if self.verbose {
                    msg::info(&[b"config changed: ", self.dirs[i].name()]);
                }
                self.reopen(i, &ctx);
                if !self.dirs.iter().any(|d| d.is_open()) {
                    msg::fatalx("no functional log directories.");
                    return Turn::Exit(EXIT_FATAL);
                }
                return Turn::Again;
            }
            let mut rotated = false;
            for d in &mut self.dirs {
                if d.rotation_due(now) {
                    d.start_rotation(&ctx);
                    rotated = true;
                }
            }
            if rotated {
                return Turn::Again;
            }
            let gave_up = self.dirs.iter().any(|d| d.gave_up());
            if gave_up
                || (self.term
                    && !self.term_drain
                    && (!self.splitter.in_line() || self.term_deadline.is_some_and(|t| t <= now)))
            {
                self.stop();
                return Turn::Again;
            }
            let fill = self.input.fill();
            self.flowing = matches!(fill, Fill::Data(_));
            match fill {
                Fill::Data(n) => {
                    self.trimmed = false;
                    self.process(n);
                    self.after_drain(now);
                    return Turn::Again;
                }
                Fill::Eof => {
                    self.stop();
                    return Turn::Again;
                }
                Fill::Again => {
                    if self.input.held() > 0 && !self.input.wakes_on_write() {
                        // No SIGIO on writes: never wait holding bytes in the pipe.
                        self.let_go();
                        return Turn::Again;
                    }
                    if self.term_drain {
                        self.after_drain(now);
                        return Turn::Again;
                    }
                }
            }
        }
        Turn::Wait(!busy, busy)
    }

    /// After TERM's one extra look at the input: give an unfinished line [`TERM_WAIT`].
    fn after_drain(&mut self, now: Instant) {
        if self.term_drain {
            self.term_drain = false;
            self.term_deadline = Some(now + TERM_WAIT);
        }
    }

    /// No more input: the unfinished line, if any, is written with a newline added.
    #[inline(never)]
    fn stop(&mut self) {
        self.stopping = true;
        self.events.clear();
        self.splitter.finish(self.input.end, &mut self.events);
        self.dispatch();
        self.unreleased = true;
    }

    #[inline(never)]
    fn handle_signals(&mut self, now: Instant) {
        let mut child = false;
        while let Some(signo) = self.signals.next() {
            match signo {
                libc::SIGTERM => {
                    if self.verbose {
                        msg::info(&[b"sigterm received."]);
                    }
                    if !self.term {
                        self.term = true;
                        self.term_drain = !self.stopping;
                        self.give_up_at = Some(now + TERM_LIMIT);
                    }
                }
                libc::SIGHUP => {
                    if self.verbose {
                        msg::info(&[b"sighangup received."]);
                    }
                    self.got_hup = true;
                }
                libc::SIGALRM => {
                    if self.verbose {
                        msg::info(&[b"sigalarm received."]);
                    }
                    self.got_alrm = true;
                }
                libc::SIGCHLD => {
                    if self.verbose {
                        msg::info(&[b"sigchild received."]);
                    }
                    child = true;
                }
                _ => {}
            }
        }
        if child {
            self.reap(now);
        }
    }

    /// Reaps every finished child and hands its status to the directory it belongs to.
    fn reap(&mut self, now: Instant) {
        while let Some(r) = sys::child::reap() {
            let give_up = self.term;
            for d in &mut self.dirs {
                if d.child_exited(r.pid as i32, r.wstat, now, give_up) {
                    break;
                }
            }
        }
    }

    /// Writes every directory's pending output: whether any still holds the input (see
    /// `LogDir::flush`), and whether one stopped to let signals be looked at.
    fn flush(&mut self, ctx: &Ctx) -> (bool, bool) {
        let (mut busy, mut yielded) = (false, false);
        let input = &self.input.buf[..self.input.end];
        for d in &mut self.dirs {
            match d.flush(input, ctx) {
                Progress::Done => {}
                Progress::Blocked => busy = true,
                Progress::Yield => {
                    busy = true;
                    yielded = true;
                }
            }
        }
        (busy, yielded)
    }

    /// Work between chunks for our additions: compression requests, the `maxage` look,
    /// status files, config changes.
    fn housekeeping(&mut self, ctx: &Ctx) {
        if let Some(w) = &mut self.watcher {
            if !w.is_empty() {
                for i in w.changed() {
                    if let Some(d) = self.dirs.get_mut(i) {
                        d.config_changed(ctx.now);
                    }
                }
            }
        }
        for d in &mut self.dirs {
            d.housekeeping(ctx, &mut self.compressor);
        }
    }

    /// Every pending output is written: consume its input from the pipe and drop it from the
    /// buffer, keeping the unfinished line.
    #[inline(never)]
    fn release(&mut self) {
        self.unreleased = false;
        if self.dirs.iter().any(|d| d.gave_up()) {
            // Leave the unwritten input in the pipe for the next svlogd.
            return;
        }
        let end = self.input.end;
        let keep_from = self.splitter.pending_start().unwrap_or(end);
        let upto = if self.detach { end } else { keep_from };
        self.detach = false;
        self.input.consume_to(upto);
        let shift = self.input.compact(keep_from);
        self.splitter.shift(shift);
    }

    /// Splits the `n` new bytes at the end of the buffer and hands the lines out.
    fn process(&mut self, n: usize) {
        let clock = clock_now();
        let end = self.input.end;
        let peeked = self.input.peeking();
        for d in &mut self.dirs {
            d.first_input(&self.input.buf[end - n..end], peeked);
        }
        if self.simple && !self.replacer.active() {
            self.process_simple(end - n, clock);
        } else {
            self.events.clear();
            self.splitter
                .feed(&self.input.buf[..end], end - n, clock, &mut self.events);
            self.dispatch();
        }
        if let Some(start) = self.splitter.pending_start() {
            if end - start >= self.input.hold_max() {
                self.let_go();
            }
        }
        self.unreleased = true;
    }

    /// Renders the line stamps of every format in use for clock reading `t` (once per
    /// reading).
    fn render_stamps(&mut self, t: Tai64n) {
        if self.line_clock != Some(t) {
            for slot in &mut self.stamps {
                slot.line = Rendered::from_bytes(slot.stamper.render(t));
            }
            self.line_clock = Some(t);
        }
    }

    /// [`Logger::dispatch`] for the common case, straight from the splitter: every line goes
    /// to the directories' logs as it is, or not at all when a pattern deselects it (no UDP, no
    /// copy, no replacing), so nothing in the buffer changes and no event is stored.
    fn process_simple(&mut self, from: usize, clock: Tai64n) {
        let buf = &self.input.buf[..self.input.end];
        let line_clock = &mut self.line_clock;
        let dirs = &mut self.dirs;
        let stamps = &mut self.stamps;
        let alerts = &mut self.alerts;
        let hits = &mut self.hits;
        let open = dirs.iter().filter(|d| d.is_open()).count();
        if open == 1 {
            // The usual setup, one directory: no loop over directories per line.
            let d = dirs.iter_mut().find(|d| d.is_open()).expect("one open");
            let (out, cfg) = d.intake();
            let slot = &mut stamps[out.stamp_slot];
            let stamped = slot.stamper.kind() != Timestamp::None;
            let copy = stamped || !cfg.prefix.is_empty();
            let patterns = !cfg.patterns.is_empty();
            // Patterns that need a text: the chunk is searched for it once (see prefilter).
            let filtered = match cfg.patterns.needles().filter(|_| patterns) {
                Some(needles) => hits.find(buf, &needles),
                None => false,
            };
            let prefix = &cfg.prefix;
            let selected = &mut out.selected;
            let batch = &mut out.batch;
            self.splitter.feed_with(buf, from, clock, |ev| match ev {
                Event::Head {
                    stamp,
                    head,
                    truncated,
                } => {
                    if stamped && *line_clock != Some(stamp) {
                        slot.line = Rendered::from_bytes(slot.stamper.render(stamp));
                        *line_clock = Some(stamp);
                    }
                    if filtered && !hits.any_in(&head) {
                        // No pattern can match: selected, as when none matches.
                        *selected = true;
                    } else if patterns {
                        *selected =
                            select(cfg, slot.line.as_bytes(), &buf[head], truncated, alerts);
                    }
                }
                Event::Body {
                    bytes, first, end, ..
                } => {
                    if *selected {
                        push_body(
                            batch,
                            copy,
                            first,
                            end,
                            slot.line.as_bytes(),
                            prefix,
                            buf,
                            bytes,
                        )
                    }
                }
            });
        } else {
            self.splitter.feed_with(buf, from, clock, |ev| match ev {
                Event::Head {
                    stamp,
                    head,
                    truncated,
                } => {
                    if *line_clock != Some(stamp) {
                        for slot in stamps.iter_mut() {
                            slot.line = Rendered::from_bytes(slot.stamper.render(stamp));
                        }
                        *line_clock = Some(stamp);
                    }
                    for d in dirs.iter_mut().filter(|d| d.is_open()) {
                        let (out, cfg) = d.intake();
                        if !cfg.patterns.is_empty() {
                            let stamp = stamps[out.stamp_slot].line.as_bytes();
                            out.selected =
                                select(cfg, stamp, &buf[head.clone()], truncated, alerts);
                        }
                    }
                }
                Event::Body {
                    bytes, first, end, ..
                } => {
                    for d in dirs.iter_mut().filter(|d| d.is_open()) {
                        let (out, cfg) = d.intake();
                        if !out.selected {
                            continue;
                        }
                        let stamp = stamps[out.stamp_slot].line.as_bytes();
                        let copy = !stamp.is_empty() || !cfg.prefix.is_empty();
                        push_body(
                            &mut out.batch,
                            copy,
                            first,
                            end,
                            stamp,
                            &cfg.prefix,
                            buf,
                            bytes.clone(),
                        );
                    }
                }
            });
        }
        if !self.alerts.is_empty() {
            write_stderr(&self.alerts);
            self.alerts.clear();
        }
    }

    /// The unfinished line may not stay in the pipe (it is too long, or svlogd would have
    /// to wait without a wake-up for new input): write what there is of it and let the rest stream, which is possible once its
    /// head is decided or when no directory needs the head (no patterns, no UDP); otherwise
    /// take it out of the pipe and hold it in memory.
    #[inline(never)]
    fn let_go(&mut self) {
        self.events.clear();
        if self
            .splitter
            .spill(self.input.end, !self.heads, &mut self.events)
        {
            self.dispatch();
        } else {
            self.detach = true;
        }
        self.unreleased = true;
    }

    /// Hands the chunk's events to the directories.
    fn dispatch(&mut self) {
        let events = std::mem::take(&mut self.events);
        for ev in &events {
            match ev {
                Event::Head {
                    head,
                    truncated,
                    stamp,
                } => {
                    if self.replacer.active() {
                        self.replacer.apply(&mut self.input.buf[head.clone()]);
                    }
                    // Lines of one chunk share a clock reading: render it once.
                    self.render_stamps(*stamp);
                    if self.heads {
                        self.decide(head.clone(), *truncated);
                    }
                }
                Event::Body {
                    bytes,
                    replace,
                    first,
                    end,
                } => {
                    if *replace > 0 && self.replacer.active() {
                        self.replacer
                            .apply(&mut self.input.buf[bytes.start..bytes.start + replace]);
                    }
                    let buf = &self.input.buf[..self.input.end];
                    let added = *end == LineEnd::Added;
                    for d in self.dirs.iter_mut().filter(|d| d.is_open()) {
                        let (out, cfg) = d.intake();
                        if !out.selected {
                            continue;
                        }
                        if let Some(c) = &mut out.copy {
                            c.push(*first, &buf[bytes.clone()], added);
                        }
                        if cfg.udp_only {
                            continue;
                        }
                        let stamp = self.stamps[out.stamp_slot].line.as_bytes();
                        let copy = !stamp.is_empty() || !cfg.prefix.is_empty();
                        push_body(
                            &mut out.batch,
                            copy,
                            *first,
                            *end,
                            stamp,
                            &cfg.prefix,
                            buf,
                            bytes.clone(),
                        );
                    }
                }
            }
        }
        self.events = events;
        for d in self.dirs.iter_mut() {
            d.end_of_chunk();
        }
        if !self.alerts.is_empty() {
            write_stderr(&self.alerts);
            self.alerts.clear();
        }
    }

    /// A line's head is known: patterns, stderr and UDP for every directory.
    fn decide(&mut self, head: std::ops::Range<usize>, truncated: bool) {
        let text = &self.input.buf[head];
        let dots: &[u8] = if truncated { b"..." } else { b"" };
        for d in self.dirs.iter_mut().filter(|d| d.is_open()) {
            let (out, cfg) = d.intake();
            if cfg.patterns.is_empty() && cfg.udp.is_none() {
                out.selected = true;
                continue;
            }
            let stamp = self.stamps[out.stamp_slot].line.as_bytes();
            out.selected = select(cfg, stamp, text, truncated, &mut self.alerts);
            if !out.selected {
                continue;
            }
            let Some(addr) = cfg.udp else { continue };
            let parts = [stamp, &cfg.prefix, text, dots, b"\n"];
            if !out.udp.queue(addr, &parts, out.batch.len()) {
                out.batch
                    .push_text(&[udp::NO_SOCKET, stamp, &cfg.prefix, text, b"\n"]);
            }
        }
    }

    /// Waits for input (if `reading`), a signal, or the next deadline. After [`IDLE_TRIM`]
    /// without input, the memory a burst touched is given back (see [`Logger::trim`]).
    fn wait(&mut self, reading: bool, busy: bool) {
        let mut next: Option<Instant> = self.term_deadline.filter(|_| reading);
        let trim_at = (reading && !busy && !self.trimmed).then(|| Instant::now() + IDLE_TRIM);
        if let Some(t) = trim_at {
            next = Some(next.map_or(t, |n| n.min(t)));
        }
        if let Some(t) = self.give_up_at.filter(|_| !self.given_up) {
            next = Some(next.map_or(t, |n| n.min(t)));
        }
        for d in &self.dirs {
            let t = d.next_deadline(busy);
            next = match (next, t) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        // While bytes are held in the pipe it always polls readable: SIGIO says "more".
        let input = (reading && self.input.held() == 0).then(|| self.input.wait_fd());
        let _ = sys::poll::wait(
            [
                Some(self.signals.as_fd()),
                self.watcher.as_ref().map(|w| w.fd()),
                input,
            ],
            next,
        );
        if trim_at.is_some_and(|t| Instant::now() >= t) {
            self.trim();
        }
    }

    /// Gives back what a burst of input grew: the input buffer's pages beyond the bytes it
    /// holds, each directory's emptied batch, the allocator's free memory, the stack below
    /// this call, the code the burst mapped. Once per quiet spell: input clears it.
    #[inline(never)]
    fn trim(&mut self) {
        self.trimmed = true;
        if self.input.held() > 0 {
            return;
        }
        self.input.release_unused();
        for d in &mut self.dirs {
            d.shrink_batch();
        }
        self.alerts = Vec::new();
        sys::memory::trim_heap();
        sys::memory::release_code();
        sys::memory::release_stack();
    }
}

/// Runs a directory's patterns over a line's head `text`: whether the line goes to its log.
/// A line selected for stderr is added to `alerts` as runit writes it there: stamp, prefix,
/// the head, `...` when it was `truncated`.
#[inline]
fn select(
    cfg: &crate::config::Config,
    stamp: &[u8],
    text: &[u8],
    truncated: bool,
    alerts: &mut Vec<u8>,
) -> bool {
    let sel = cfg.select(text);
    if sel.alert {
        let dots: &[u8] = if truncated { b"..." } else { b"" };
        for part in [stamp, &cfg.prefix, text, dots, b"\n"] {
            alerts.extend_from_slice(part);
        }
    }
    sel.log
}

/// Adds one body piece of a line to a directory's batch: copied with its stamp and prefix
/// (`copy`), or as a segment of the input buffer.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn push_body(
    batch: &mut crate::batch::Batch,
    copy: bool,
    first: bool,
    end: LineEnd,
    stamp: &[u8],
    prefix: &[u8],
    buf: &[u8],
    bytes: std::ops::Range<usize>,
) {
    let added = end == LineEnd::Added;
    if copy {
        let newline: &[u8] = if added { b"\n" } else { b"" };
        if !first {
            batch.push_line(b"", b"", &buf[bytes], newline);
        } else if let Ok(fixed) = <&[u8; STAMP_LEN]>::try_from(stamp) {
            // runit's formats: a length the compiler knows makes the copy a few moves.
            batch.push_line(fixed, prefix, &buf[bytes], newline);
        } else {
            batch.push_line(stamp, prefix, &buf[bytes], newline);
        }
    } else {
        batch.push_input(bytes.start, bytes.len());
        if added {
            batch.push_newline();
        }
    }
    if end != LineEnd::Open {
        batch.count_line();
    }
}

/// Writes stderr output (the `e` lines) in one go; errors are ignored as runit does (a
/// closed stderr pipe ends svlogd through SIGPIPE, which it does not catch).
fn write_stderr(data: &[u8]) {
    let err = std::io::stderr();
    let mut off = 0;
    while off < data.len() {
        match nix::unistd::write(&err, &data[off..]) {
            Ok(0) => return,
            Ok(n) => off += n,
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}
