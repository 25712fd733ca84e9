//! `compress gzip`: rotated files become `@<tai64n>.s.gz` on a worker thread, so compression
//! never holds up the input.
//!
//! After every rotation (and when a directory is opened) the event loop asks the worker to
//! look at the directory; the worker compresses every `.s` file in it, oldest first. A `.s`
//! whose `.u` still exists is a processor's output not yet handed over, and is left for a later
//! look. The worker runs at a low CPU priority ([`NICE`]), so on a busy machine the input
//! path keeps most of the processors (about a tenth of one goes to compression against a busy
//! thread of normal priority; nice 19 would starve it outright); the byte budget `S` counts a file at its uncompressed size until
//! it is done, so falling behind never overfills the disk.
//!
//! One file, crash-safe at every step (each is a `faults` point):
//! 1. write `@X.s.gz.tmp` (the gzip header carries the original's modification time);
//! 2. fsync it, give it the original's mode and times;
//! 3. rename it to `@X.s.gz`, fsync the directory;
//! 4. remove `@X.s`, fsync the directory.
//!
//! A crash before step 3 leaves `@X.s` and a work file, which pruning (or the next look)
//! deletes; after step 3, both `@X.s` and a complete `@X.s.gz`, and opening the directory
//! removes the `.s`. The log viewers prefer `@X.s` while both exist. So a crash at any point
//! leaves the original or a complete compressed file, never neither.
//!
//! The worker marks the file it works on ([`DirShared::busy`]) under a lock that pruning also
//! takes, so pruning never deletes a file under its feet and it never starts on a file pruning
//! has just deleted. At a clean exit (end of input or TERM) svlogd gives the worker up to
//! [`EXIT_WAIT`] to finish what is queued (within TERM's own limit), then tells it to stop:
//! it abandons the file in progress (removing its work file), and each directory with files
//! left uncompressed says how many (`svlogd: warning: N archives left uncompressed for the
//! next svlogd: DIR`); the next svlogd compresses them when it opens the directory.

use crate::faults;
use flate2::{Compression, GzBuilder};
use formats::archive::{Name, Suffix};
use nix::libc;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use sys::dirfd::{list, metaat, openat, renameat, statat, unlinkat};

/// How long a clean exit waits for queued compression.
pub const EXIT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The worker thread's nice value.
pub const NICE: i32 = 10;

/// What the worker and one directory share.
#[derive(Debug, Default)]
pub struct DirShared {
    /// The label of the file being compressed.
    busy: Mutex<Option<[u8; 24]>>,
    /// Files compressed.
    pub files: AtomicU64,
    /// Their bytes before compression.
    pub bytes_in: AtomicU64,
    /// Their bytes after.
    pub bytes_out: AtomicU64,
    /// Failures (each also printed as a warning).
    pub failures: AtomicU64,
    /// The last failure's message, for the status file.
    pub last_error: Mutex<Option<String>>,
    /// Files compressed since the directory last asked (see [`DirShared::take_done`]).
    done: Mutex<Vec<Compressed>>,
}

/// One file compressed: its label, the size of its `.s.gz`, and the directory's
/// modification time before and after the worker changed it (for the census).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compressed {
    /// The archive's label: `@L.s` became `@L.s.gz`.
    pub label: [u8; 24],
    /// The `.s.gz`'s size.
    pub size: u64,
    /// The directory's time before the work file was created.
    pub before: (i64, i64),
    /// And after the `.s` was removed.
    pub after: (i64, i64),
}

impl DirShared {
    /// The files compressed since the last call, in the order they were done.
    pub fn take_done(&self) -> Vec<Compressed> {
        std::mem::take(&mut *self.done.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The label of the file being compressed, locked: while the guard lives, the worker
    /// starts on no file.
    pub fn busy(&self) -> MutexGuard<'_, Option<[u8; 24]>> {
        self.busy.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A request to look at one directory.
struct Task {
    dir: OwnedFd,
    dirname: Vec<u8>,
    level: u32,
    shared: Arc<DirShared>,
}

/// The worker thread and its queue (the thread starts with the first request).
#[derive(Debug, Default)]
pub struct Compressor {
    tx: Option<Sender<Task>>,
    thread: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    /// Requests sent and not yet done, and the worker's signal when that changes.
    pending: Arc<Pending>,
}

/// Requests not yet done.
#[derive(Debug, Default)]
struct Pending {
    count: Mutex<usize>,
    done: Condvar,
}

impl Pending {
    fn add(&self, n: isize) {
        let mut c = self.count.lock().unwrap_or_else(|e| e.into_inner());
        *c = c.saturating_add_signed(n);
        self.done.notify_all();
    }
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task").field("level", &self.level).finish()
    }
}

impl Compressor {
    /// Asks the worker to compress the `.s` files of `dir` at gzip `level`. Never inlined: it
    /// starts the thread once, whose set-up would otherwise put 4 KiB into the frame of the
    /// loop that runs for svlogd's life (dirty stack pages in every svlogd).
    #[inline(never)]
    pub fn request(&mut self, dir: &OwnedFd, dirname: &[u8], level: u32, shared: &Arc<DirShared>) {
        let Ok(dup) = dir.try_clone() else {
            crate::msg::warnx("unable to start compression", dirname);
            return;
        };
        if self.tx.is_none() {
            let (tx, rx) = channel();
            let stop = self.stop.clone();
            let pending = self.pending.clone();
            match std::thread::Builder::new()
                .name("compress".into())
                .stack_size(256 * 1024)
                .spawn(move || worker(rx, stop, pending))
            {
                Ok(t) => {
                    self.thread = Some(t);
                    self.tx = Some(tx);
                }
                Err(_) => {
                    crate::msg::warnx("unable to start compression", dirname);
                    return;
                }
            }
        }
        if let Some(tx) = &self.tx {
            self.pending.add(1);
            let sent = tx.send(Task {
                dir: dup,
                dirname: dirname.to_vec(),
                level,
                shared: shared.clone(),
            });
            if sent.is_err() {
                self.pending.add(-1);
            }
        }
    }

    /// Waits until every request is done, or `until`. True when the worker is idle.
    pub fn wait_idle(&self, until: std::time::Instant) -> bool {
        let mut c = self.pending.count.lock().unwrap_or_else(|e| e.into_inner());
        while *c > 0 {
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            c = self
                .pending
                .done
                .wait_timeout(c, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Stops the worker: the file in progress is abandoned (see the module doc).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Compressor {
    fn drop(&mut self) {
        self.stop();
    }
}

fn worker(rx: Receiver<Task>, stop: Arc<AtomicBool>, pending: Arc<Pending>) {
    // A low priority: compression takes little CPU time from the input path when both want it.
    // Raw libc: nix has no setpriority. On Linux a thread's id is a process id for it.
    let tid = nix::unistd::gettid().as_raw() as libc::id_t;
    // SAFETY: setpriority takes integers only.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, NICE) };
    while let Ok(first) = rx.recv() {
        // Take every request already queued; one look per directory is enough.
        let mut tasks = vec![first];
        let mut received = 1;
        while let Ok(t) = rx.try_recv() {
            received += 1;
            tasks.retain(|o| !Arc::ptr_eq(&o.shared, &t.shared));
            tasks.push(t);
        }
        for t in &tasks {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            look(t, &stop);
        }
        pending.add(-received);
    }
}

/// Compresses every `.s` of the task's directory that is ready, oldest first.
fn look(t: &Task, stop: &AtomicBool) {
    let Ok(names) = list(&t.dir) else { return };
    let mut ready: Vec<Name> = names
        .iter()
        .filter_map(Name::parse)
        .filter(|n| n.suffix == Suffix::Saved)
        .collect();
    ready.sort_unstable();
    for name in ready {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        {
            let mut busy = t.shared.busy();
            // Still there (pruning may have deleted it), a file (a link with an archive's name
            // is not ours), and handed over by the processor.
            if !sys::dirfd::is_file(&t.dir, &name.to_bytes())
                || statat(&t.dir, &name.with(Suffix::Unfinished).to_bytes()).is_ok()
            {
                continue;
            }
            *busy = Some(name.label);
        }
        let before = sys::dirfd::mtime(&t.dir);
        let result = compress_one(&t.dir, name, t.level, stop);
        let after = sys::dirfd::mtime(&t.dir);
        *t.shared.busy() = None;
        match result {
            Ok(Some((bytes_in, bytes_out))) => {
                t.shared.files.fetch_add(1, Ordering::Relaxed);
                t.shared.bytes_in.fetch_add(bytes_in, Ordering::Relaxed);
                t.shared.bytes_out.fetch_add(bytes_out, Ordering::Relaxed);
                t.shared
                    .done
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(Compressed {
                        label: name.label,
                        size: metaat(&t.dir, &name.with(Suffix::SavedGz).to_bytes())
                            .map(|st| st.st_size as u64)
                            .unwrap_or(bytes_out),
                        before,
                        after,
                    });
            }
            Ok(None) => return,
            Err((what, errno)) => {
                crate::msg::warn(what, &t.dirname, errno);
                t.shared.failures.fetch_add(1, Ordering::Relaxed);
                *t.shared
                    .last_error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) =
                    Some(format!("{what}: {}", formats::strerr::errstr(errno)));
                // Try again at the next look, not in a loop now.
                return;
            }
        }
    }
}

type StepError = (&'static str, i32);

fn errno(e: &std::io::Error) -> i32 {
    formats::strerr::errno_of(e)
}

/// Compresses `name` (a `.s`) by the steps of the module doc. `Ok(None)`: stopped.
fn compress_one(
    dir: &OwnedFd,
    name: Name,
    level: u32,
    stop: &AtomicBool,
) -> Result<Option<(u64, u64)>, StepError> {
    let src_name = name.to_bytes();
    let tmp_name = name.with(Suffix::GzTemp).to_bytes();
    let gz_name = name.with(Suffix::SavedGz).to_bytes();
    if statat(dir, &gz_name).is_ok() {
        // A crash after step 3 last time: the compressed file is complete.
        unlinkat(dir, &src_name).map_err(|e| ("unable to remove compressed original", e))?;
        let _ = nix::unistd::fsync(dir);
        return Ok(Some((0, 0)));
    }
    const WHAT: &str = "unable to compress";
    let mut src = File::from(openat(dir, &src_name, libc::O_RDONLY).map_err(|e| (WHAT, e))?);
    let st = metaat(dir, &src_name).map_err(|e| (WHAT, e))?;
    let tmp = openat(
        dir,
        &tmp_name,
        libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
    )
    .map_err(|e| (WHAT, e))?;
    let cleanup = |e: StepError| {
        let _ = unlinkat(dir, &tmp_name);
        e
    };
    let mut gz = GzBuilder::new()
        .mtime(st.st_mtime.clamp(0, u32::MAX as i64) as u32)
        .write(File::from(tmp), Compression::new(level));
    let mut buf = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    loop {
        if stop.load(Ordering::SeqCst) {
            let _ = unlinkat(dir, &tmp_name);
            return Ok(None);
        }
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(cleanup((WHAT, errno(&e)))),
        };
        gz.write_all(&buf[..n])
            .map_err(|e| cleanup((WHAT, errno(&e))))?;
        if total == 0 {
            faults::hit("gzip-started");
        }
        total += n as u64;
    }
    let out = gz.finish().map_err(|e| cleanup((WHAT, errno(&e))))?;
    faults::hit("gzip-written");
    out.sync_all().map_err(|e| cleanup((WHAT, errno(&e))))?;
    faults::hit("gzip-synced");
    let size = out.metadata().map(|m| m.len()).unwrap_or(0);
    use nix::sys::time::TimeSpec;
    let _ = nix::sys::stat::fchmod(
        &out,
        nix::sys::stat::Mode::from_bits_truncate(st.st_mode & 0o7777),
    );
    let _ = nix::sys::stat::futimens(
        &out,
        &TimeSpec::new(st.st_atime, st.st_atime_nsec),
        &TimeSpec::new(st.st_mtime, st.st_mtime_nsec),
    );
    drop(out);
    renameat(dir, &tmp_name, &gz_name).map_err(|e| cleanup((WHAT, e)))?;
    let _ = nix::unistd::fsync(dir);
    faults::hit("gzip-renamed");
    unlinkat(dir, &src_name).map_err(|e| ("unable to remove compressed original", e))?;
    let _ = nix::unistd::fsync(dir);
    faults::hit("gzip-unlinked");
    Ok(Some((total, size)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn scratch(name: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("svlogd-compress-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    #[test]
    fn compresses_ready_files_and_finishes_crashed_ones() {
        let p = scratch("ready");
        let a = "@400000006b0337970000000a.s";
        let b = "@400000006b0337970000000b.s";
        let c = "@400000006b0337970000000c.s";
        std::fs::write(p.join(a), "alpha\n".repeat(1000)).unwrap();
        // b is a processor's output not yet handed over: its .u exists.
        std::fs::write(p.join(b), "beta\n").unwrap();
        std::fs::write(p.join("@400000006b0337970000000b.u"), "beta\n").unwrap();
        // c was compressed before a crash, its original not yet removed.
        std::fs::write(p.join(c), "gamma\n").unwrap();
        let mut gz = GzBuilder::new().write(Vec::new(), Compression::fast());
        gz.write_all(b"gamma\n").unwrap();
        std::fs::write(p.join(format!("{c}.gz")), gz.finish().unwrap()).unwrap();
        let dir = openat(&File::open(&p).unwrap(), b".", libc::O_RDONLY).unwrap();
        let shared = Arc::new(DirShared::default());
        let t = Task {
            dir,
            dirname: b"d".to_vec(),
            level: 6,
            shared: shared.clone(),
        };
        look(&t, &AtomicBool::new(false));
        let mut names: Vec<String> = std::fs::read_dir(&p)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec![
                format!("{a}.gz"),
                b.to_string(),
                "@400000006b0337970000000b.u".to_string(),
                format!("{c}.gz"),
            ]
        );
        let mut text = String::new();
        flate2::read::GzDecoder::new(File::open(p.join(format!("{a}.gz"))).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "alpha\n".repeat(1000));
        assert_eq!(shared.files.load(Ordering::Relaxed), 2);
        assert!(shared.busy().is_none());
        std::fs::remove_dir_all(&p).unwrap();
    }
}
