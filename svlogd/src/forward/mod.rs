//! Syslog forwarding: svlogd as a syslog client over UDP (RFC 5426), TCP (RFC 6587) and TLS
//! (RFC 5425), in RFC 5424 or RFC 3164 format, that never loses a line to an outage and never
//! slows local logging down.
//!
//! **The log directory is the spool.** Each target (a `>udp`, `>tcp` or `>tls` line, see
//! [`config`]) has a thread of its own that reads the directory's files, rotated ones oldest
//! first, then `current` ([`spool`]), and sends their lines. The event loop only tells it, after
//! each write, that there is more ([`Forwarders::written`], one atomic check, a wake-up only
//! when the thread sleeps), and, after each rotation, which inode became which rotated file
//! ([`Forwarders::rotated`]). Local logging never waits for the network; the network reads what
//! is on disk at its own pace.
//!
//! **Cursor.** What the collector has is recorded as a position (file and offset,
//! [`cursor`]) in `forward.<target>` in the log directory, saved at most once a second and at
//! exit. After a restart, or when the collector comes back (reconnection with backoff from
//! 0.1 s to [`sender::BACKOFF_MAX`]), sending resumes there. TCP gives no receipts, so the
//! position kept is the last message the collector's host acknowledged (`SIOCOUTQ`), less a
//! safety margin for what its kernel acknowledged but the collector never read when it went
//! away abruptly; resent lines after a reconnection are counted (`resent`). See [`sender`].
//!
//! **Retention.** Rotated files that still hold unsent lines are not pruned by the `n` rule
//! while their total stays within the spool size (`>spool`, default `n` × `s`); beyond it, or
//! when a full disk forces a deletion, they are deleted anyway, and the loss is counted
//! (`lost_files`, `lost_bytes`) and reported (`svlogd: warning: forward lost unsent log file`).
//!
//! **Time of receipt.** With `-t`, `-tt` or `-ttt` the stamp svlogd wrote is parsed back and
//! becomes the syslog TIMESTAMP; it is not repeated in the message. Without a stamp, the event
//! loop passes the time of each write of `current` to the threads (at most one mark per 10 ms
//! and per write), which they match to the lines by offset; lines written before svlogd
//! started (no marks) get their file's modification time.
//!
//! **Counters** ([`Stats`]): sent, resent, failed (connection attempts and losses), lost
//! files and bytes, connected; they go into the directory's status file (`metrics`,
//! `svlogd.prom`) labelled by target ([`Forwarders::write_metrics`]), with the backlog (bytes
//! after the target's cursor), which the event loop works out when it writes the file, from
//! the cursor the thread publishes and the sizes on disk, so it is exact at that moment; with
//! `-v` each thread prints its counters when it stops.

pub mod config;
pub mod cursor;
pub mod sender;
pub mod shared;
pub mod show;
pub mod spool;
pub mod syslog;
pub mod tls;
pub mod transport;

use cursor::{FileId, Pos};
use formats::stamp::Timestamp;
use formats::tai64n::Tai64n;
pub use shared::{
    needed_of, DirInfo, Mark, Needed, Shared, Stats, MARKS_MAX, MARK_STEP_NANOS, STOP_GRACE,
};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// One running target.
#[derive(Debug)]
struct Running {
    id: String,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// The archives the running targets still need: every one from a label on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// The oldest label still needed (`None`: none is).
    from: Option<[u8; 24]>,
}

impl Needs {
    /// Whether no archive is needed (no target runs, or all are at `current`).
    pub fn is_empty(&self) -> bool {
        self.from.is_none()
    }

    /// Whether the archive with `label` still holds unsent lines.
    pub fn protects(&self, label: &[u8; 24]) -> bool {
        self.from.is_some_and(|f| *label >= f)
    }
}

/// The forwarders of one log directory, as the event loop sees them.
#[derive(Debug, Default)]
pub struct Forwarders {
    running: Vec<Running>,
    /// The inode of `current` (for receipt marks).
    current_ino: u64,
    /// Whether the threads need receipt marks (no stamps in the files).
    marks: bool,
    /// `>spool` in bytes (0 = no limit).
    spool_max: u64,
    /// Recent rotations: inode of the former `current`, label of the file it became.
    renames: Vec<(u64, [u8; 24])>,
    /// Threads asked to stop that may still be finishing (saving their cursor): a new thread
    /// for the same target waits for its predecessor, so the event loop never does.
    stopping: Vec<(String, JoinHandle<()>)>,
    /// The targets the last [`Forwarders::stop`] stopped (a HUP closes the directory before
    /// it starts the new ones: a corrected address carries the cursor over).
    last_stopped: Vec<String>,
    /// The log directory (for the backlog).
    dir: Option<OwnedFd>,
    /// Bytes in `current` (the end of the data).
    current_size: u64,
}

impl Forwarders {
    /// Whether any target runs.
    pub fn is_active(&self) -> bool {
        !self.running.is_empty()
    }

    /// Starts one thread per target of `cfg` on the directory `dir`. A target that cannot be
    /// started gets a warning.
    pub fn start(&mut self, dir: &OwnedFd, cfg: &crate::config::Config, info: &DirInfo) {
        // The targets before this start: running, or stopped by the HUP's close.
        let mut before: Vec<String> = self.running.iter().map(|r| r.id.clone()).collect();
        if before.is_empty() {
            before = std::mem::take(&mut self.last_stopped);
        }
        let carried = carry_over(&before, &cfg.forward.targets);
        self.stop();
        self.current_ino = sender::current_ino(dir).unwrap_or(0);
        self.current_size = sys::dirfd::statat(dir, b"current")
            .map(|(_, s)| s)
            .unwrap_or(0);
        self.dir = dir.try_clone().ok();
        let fc = &cfg.forward;
        self.marks = info.stamp == Timestamp::None;
        self.spool_max = match fc.spool {
            Some(s) => s,
            None => cfg.nmax.saturating_mul(cfg.sizemax),
        };
        for target in &fc.targets {
            let id = target.id();
            let shared = match Shared::new() {
                Ok(s) => Arc::new(s),
                Err(e) => {
                    crate::msg::warn(
                        "unable to start forwarding",
                        &info.name,
                        formats::strerr::errno_of(&e),
                    );
                    continue;
                }
            };
            let dup = match dir.try_clone() {
                Ok(d) => d,
                Err(e) => {
                    crate::msg::warn(
                        "unable to start forwarding",
                        &info.name,
                        formats::strerr::errno_of(&e),
                    );
                    continue;
                }
            };
            let predecessor = self.take_stopping(&id);
            // Continue from another target's cursor: the one this replaces in this reload
            // (its file is taken over), or the one `from=` names (its file is copied).
            let inherit = match carried.iter().find(|(_, new)| *new == id) {
                Some((old, _)) => Some((old.clone(), true)),
                None => target.from.clone().map(|f| (f, false)),
            };
            let inherit = inherit.map(|(from, take)| sender::Inherit {
                predecessor: self.take_stopping(&from),
                from,
                take,
            });
            let job = sender::Job {
                predecessor,
                inherit,
                fresh: cursor::Pos {
                    file: FileId::Current(self.current_ino),
                    offset: sys::dirfd::statat(dir, b"current")
                        .map(|(_, s)| s)
                        .unwrap_or(0),
                },
                target: target.clone(),
                pri: fc.clone(),
                dir: dup,
                info: info.clone(),
                shared: shared.clone(),
            };
            let thread = std::thread::Builder::new()
                .name(format!("forward {id}"))
                .stack_size(256 * 1024)
                .spawn(move || sender::run(job));
            match thread {
                Ok(t) => self.running.push(Running {
                    id,
                    shared,
                    thread: Some(t),
                }),
                Err(e) => crate::msg::warn(
                    "unable to start forwarding",
                    &info.name,
                    formats::strerr::errno_of(&e),
                ),
            }
        }
    }

    /// The thread of target `id` that was asked to stop, if it may still be finishing.
    fn take_stopping(&mut self, id: &str) -> Option<JoinHandle<()>> {
        self.stopping
            .iter()
            .position(|(i, _)| *i == id)
            .map(|k| self.stopping.swap_remove(k).1)
    }

    /// Asks every thread to stop: each gets [`STOP_GRACE`] to see in-flight messages
    /// acknowledged, saves its cursor and ends. Does not wait for them (a HUP must not hold up
    /// logging); [`Forwarders::join`] does.
    pub fn stop(&mut self) {
        for r in &self.running {
            r.shared.stop.store(true, Ordering::SeqCst);
            r.shared.wake();
        }
        self.stopping.retain(|(_, t)| !t.is_finished());
        if !self.running.is_empty() {
            self.last_stopped = self.running.iter().map(|r| r.id.clone()).collect();
        }
        for mut r in self.running.drain(..) {
            if let Some(t) = r.thread.take() {
                self.stopping.push((r.id, t));
            }
        }
    }

    /// Asks every thread to stop (at exit), keeping the targets for the last status file.
    pub fn stop_all(&self) {
        for r in &self.running {
            r.shared.stop.store(true, Ordering::SeqCst);
            r.shared.wake();
        }
    }

    /// Waits until every thread asked to stop by [`Forwarders::stop_all`] has sent what it
    /// could and saved its cursor; their counters and cursors stay for the status file.
    pub fn wait_all(&mut self) {
        for r in &mut self.running {
            if let Some(t) = r.thread.take() {
                let _ = t.join();
            }
        }
    }

    /// Stops every thread and waits until each has saved its cursor (at exit).
    pub fn join(&mut self) {
        self.stop();
        for (_, t) in self.stopping.drain(..) {
            let _ = t.join();
        }
    }

    /// A new `current` was opened.
    pub fn opened(&mut self, current: &std::fs::File) {
        if self.is_active() {
            use std::os::unix::fs::MetadataExt;
            let meta = current.metadata();
            self.current_ino = meta.as_ref().map(|m| m.ino()).unwrap_or(0);
            self.current_size = meta.map(|m| m.len()).unwrap_or(0);
        }
    }

    /// `current` now holds `size` bytes: wake the threads that wait for more.
    pub fn written(&mut self, size: u64) {
        self.current_size = size;
        if self.running.is_empty() {
            return;
        }
        let now = if self.marks {
            Some(Tai64n::now())
        } else {
            None
        };
        for r in &self.running {
            if let Some(time) = now {
                let mut inbox = r.shared.inbox();
                let mark = Mark {
                    ino: self.current_ino,
                    end: size,
                    time,
                };
                let full = inbox_full(inbox.marks.len());
                match inbox.marks.back_mut() {
                    Some(last)
                        if last.ino == mark.ino
                            && (full || nanos_between(last.time, time) < MARK_STEP_NANOS) =>
                    {
                        last.end = size;
                    }
                    _ => inbox.marks.push_back(mark),
                }
            }
            if r.shared.sleeping.swap(false, Ordering::SeqCst) {
                r.shared.wake();
            }
        }
    }

    /// `current` (inode `ino`) was renamed to the rotated file `name`.
    pub fn rotated(&mut self, ino: u64, name: &[u8]) {
        let Some(label) = formats::archive::label_of(name) else {
            return;
        };
        for r in &self.running {
            r.shared.inbox().renames.push((ino, label));
            r.shared.wake();
        }
        self.renames.push((ino, label));
        if self.renames.len() > 1024 {
            self.renames.remove(0);
        }
    }

    /// Whether a target that needs `needed` still needs the rotated file `label`.
    fn needs_label(&self, needed: Needed, label: [u8; 24]) -> bool {
        match needed {
            Needed::Unknown => true,
            Needed::From(l) => label >= l,
            // A thread may not have heard of the rotation yet: the event loop knows it.
            Needed::Current(ino) => self
                .renames
                .iter()
                .find(|r| r.0 == ino)
                .is_some_and(|&(_, l)| label >= l),
        }
    }

    /// What the running targets still need, looked up once for a whole pruning pass.
    pub fn needs(&self) -> Needs {
        let from = self
            .running
            .iter()
            .filter_map(|r| match r.shared.inbox().needed {
                Needed::Unknown => Some([0u8; 24]),
                Needed::From(l) => Some(l),
                Needed::Current(ino) => self.renames.iter().find(|r| r.0 == ino).map(|r| r.1),
            })
            .min();
        Needs { from }
    }

    /// The `>spool` limit in bytes (0 = none): protected files beyond it may be pruned.
    pub fn spool_max(&self) -> u64 {
        self.spool_max
    }

    /// The pruner deleted the rotated file `name` (`bytes` long) although some target still
    /// needed it: count and report the loss.
    pub fn lost(&self, dirname: &[u8], name: &[u8], bytes: u64) {
        let Some(label) = formats::archive::label_of(name) else {
            return;
        };
        let mut any = false;
        for r in &self.running {
            let needed = r.shared.inbox().needed;
            if self.needs_label(needed, label) {
                let mut inbox = r.shared.inbox();
                any = true;
                inbox.pruned.push(label);
                r.shared.stats.lost_files.fetch_add(1, Ordering::Relaxed);
                r.shared
                    .stats
                    .lost_bytes
                    .fetch_add(bytes, Ordering::Relaxed);
            }
        }
        if any {
            crate::msg::warnx(
                "forward lost unsent log file",
                &[dirname, b"/", name].concat(),
            );
        }
    }

    /// Adds every target's counters to the directory's status file, labelled
    /// `target="tcp-10.0.0.1-514"`.
    pub fn write_metrics(&self, m: &mut crate::metrics::Metrics) {
        use crate::metrics::Value;
        type Pick = fn(&Stats) -> &AtomicU64;
        let labels: Vec<[(&str, &str); 1]> = self
            .running
            .iter()
            .map(|r| [("target", r.id.as_str())])
            .collect();
        let backlog: Vec<(&[(&str, &str)], Value)> = self
            .running
            .iter()
            .zip(&labels)
            .map(|(r, l)| (&l[..], Value::Count(self.backlog(r))))
            .collect();
        m.family(
            "forward_backlog_bytes",
            "gauge",
            "Bytes logged after the target's cursor: not yet known to be delivered.",
            &backlog,
        );
        let families: [(&str, &str, &str, Pick); 6] = [
            (
                "forward_sent_lines_total",
                "counter",
                "Lines sent to the target (resent ones included).",
                |s| &s.sent,
            ),
            (
                "forward_resent_lines_total",
                "counter",
                "Lines sent again after a lost connection (at most this many duplicates).",
                |s| &s.resent,
            ),
            (
                "forward_failures_total",
                "counter",
                "Failed connection attempts and lost connections.",
                |s| &s.failed,
            ),
            (
                "forward_lost_files_total",
                "counter",
                "Rotated files deleted before they were sent.",
                |s| &s.lost_files,
            ),
            (
                "forward_lost_bytes_total",
                "counter",
                "Bytes of rotated files deleted before they were sent.",
                |s| &s.lost_bytes,
            ),
            (
                "forward_connected",
                "gauge",
                "1 while connected to the target.",
                |s| &s.connected,
            ),
        ];
        for (name, kind, help, pick) in families {
            let rows: Vec<(&[(&str, &str)], Value)> = self
                .running
                .iter()
                .zip(&labels)
                .map(|(r, l)| {
                    let n = pick(&r.shared.stats).load(Ordering::Relaxed);
                    (&l[..], Value::Count(n))
                })
                .collect();
            m.family(name, kind, help, &rows);
        }
    }

    /// Where target `r`'s cursor is, a `current` that was rotated since named by its label;
    /// `None` until the thread has read it.
    fn confirmed(&self, r: &Running) -> Option<Pos> {
        let pos = r.shared.inbox().confirmed?;
        let file = match pos.file {
            FileId::Current(ino) if ino != self.current_ino => {
                match self.renames.iter().find(|x| x.0 == ino) {
                    Some(&(_, l)) => FileId::Archive(l),
                    None => pos.file,
                }
            }
            f => f,
        };
        Some(Pos { file, ..pos })
    }

    /// The bytes logged after target `r`'s cursor, as the directory holds them now (before
    /// the thread has read its cursor: everything from the oldest rotated file).
    fn backlog(&self, r: &Running) -> u64 {
        let Some(dir) = &self.dir else { return 0 };
        let pos = self.confirmed(r).unwrap_or(Pos {
            file: FileId::Archive([b'0'; 24]),
            offset: 0,
        });
        match pos.file {
            FileId::Current(ino) if ino == self.current_ino => {
                self.current_size.saturating_sub(pos.offset)
            }
            _ => spool::backlog(dir, pos),
        }
    }

    /// A value that changes whenever a counter or a cursor does (to know when the status
    /// file is stale).
    pub fn fingerprint(&self) -> u64 {
        let mut h: u64 = self.current_size;
        for r in &self.running {
            let s = &r.shared.stats;
            let (file, offset) = match self.confirmed(r) {
                None => (0, 0),
                Some(Pos {
                    file: FileId::Current(ino),
                    offset,
                }) => (ino, offset),
                Some(Pos {
                    file: FileId::Archive(l),
                    offset,
                }) => (
                    l.iter().fold(0u64, |a, &b| a.wrapping_mul(31) ^ b as u64),
                    offset,
                ),
            };
            for v in [
                s.sent.load(Ordering::Relaxed),
                s.resent.load(Ordering::Relaxed),
                s.failed.load(Ordering::Relaxed),
                s.lost_files.load(Ordering::Relaxed),
                s.connected.load(Ordering::Relaxed),
                file,
                offset,
            ] {
                h = h.wrapping_mul(1_000_003).wrapping_add(v);
            }
        }
        h
    }

    /// Whether some target is behind or away (its counters are still moving).
    pub fn unsettled(&self) -> bool {
        let end = Pos {
            file: FileId::Current(self.current_ino),
            offset: self.current_size,
        };
        self.running.iter().any(|r| {
            r.shared.stats.connected.load(Ordering::Relaxed) == 0
                || r.shared.inbox().confirmed != Some(end)
        })
    }
}

impl Drop for Forwarders {
    fn drop(&mut self) {
        self.join();
    }
}

/// The targets of a reload that continue where a removed one stopped: for each transport,
/// when exactly one target of it left `config` (`before` are the running ones' names) and
/// exactly one new one came, (old name, new name). A corrected address keeps its backlog.
pub fn carry_over(before: &[String], targets: &[config::Target]) -> Vec<(String, String)> {
    let ids: Vec<String> = targets.iter().map(config::Target::id).collect();
    let mut pairs = Vec::new();
    for word in ["udp", "tcp", "tls"] {
        let of = |id: &&String| id.split('-').next() == Some(word);
        let gone: Vec<&String> = before
            .iter()
            .filter(|b| !ids.contains(b))
            .filter(of)
            .collect();
        let came: Vec<&String> = ids
            .iter()
            .filter(|i| !before.contains(i))
            .filter(of)
            .collect();
        if let ([old], [new]) = (&gone[..], &came[..]) {
            pairs.push(((*old).clone(), (*new).clone()));
        }
    }
    pairs
}

fn inbox_full(n: usize) -> bool {
    n >= MARKS_MAX
}

fn nanos_between(a: Tai64n, b: Tai64n) -> u64 {
    let a = a.secs as u128 * 1_000_000_000 + a.nanos as u128;
    let b = b.secs as u128 * 1_000_000_000 + b.nanos as u128;
    b.saturating_sub(a).min(u64::MAX as u128) as u64
}

/// The service a log directory belongs to, for APP-NAME: the last component of its path that
/// is not `main`, `log`, `.` or `current`-like runit plumbing (`/etc/sv/sshd/log/main` and
/// `/var/log/sshd` both give `sshd`).
pub fn service_name(path: &std::path::Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    for c in path.components().rev() {
        if let std::path::Component::Normal(n) = c {
            let b = n.as_bytes();
            if b != b"main" && b != b"log" {
                return b.to_vec();
            }
        }
    }
    b"svlogd".to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_corrected_address_carries_the_cursor_over() {
        let fc = |text: &str| crate::config::parse(text.as_bytes()).0.forward.targets;
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let before = ids(&["tcp-10.0.0.1-514", "udp-10.0.0.9-514"]);
        assert_eq!(
            carry_over(&before, &fc(">tcp 10.0.0.2\n>udp 10.0.0.9\n")),
            [(
                "tcp-10.0.0.1-514".to_string(),
                "tcp-10.0.0.2-514".to_string()
            )]
        );
        // Two new TCP targets: which one is meant is not known, none carries over.
        assert!(carry_over(&before, &fc(">tcp 10.0.0.2\n>tcp 10.0.0.3\n")).is_empty());
        // Another transport does not carry over; nothing removed, nothing carried.
        assert!(carry_over(&before, &fc(">tls 10.0.0.2 ca=c\n>udp 10.0.0.9\n")).is_empty());
        assert!(carry_over(&before, &fc(">tcp 10.0.0.1\n>tcp 10.0.0.2\n")).is_empty());
        assert!(carry_over(&[], &fc(">tcp 10.0.0.2\n")).is_empty());
    }

    #[test]
    fn service_names() {
        assert_eq!(service_name(Path::new("/etc/sv/sshd/log/main")), b"sshd");
        assert_eq!(service_name(Path::new("/var/log/sshd")), b"sshd");
        assert_eq!(service_name(Path::new("/var/log/web/")), b"web");
        assert_eq!(service_name(Path::new("/")), b"svlogd");
    }
}
