//! Feeding svlogd and reading what arrived, for the logger-killed, disk-full and slow-disk
//! scenarios: self-checking numbered lines and their tally, a writer that times its writes
//! into a pipe, and svlogd started on that pipe.

use harness::{log_files, Impl};
use std::fs;
use std::path::Path;

/// The line numbered `n` as the scenarios write it: the number twice (`17 17`), so that a
/// line cut at either end (a kill between reading and writing) cannot pass for a whole one.
pub fn line(n: u64) -> String {
    format!("{n} {n}\n")
}

/// Lines `first..=last` (see [`line`]).
pub fn lines(first: u64, last: u64) -> Vec<u8> {
    (first..=last).flat_map(|n| line(n).into_bytes()).collect()
}

/// What arrived of a stream of numbered lines (see [`line`]).
#[derive(Default, Debug)]
pub struct Numbers {
    /// How many times each number arrived whole (index = number).
    seen: Vec<u32>,
    /// Lines that are not a whole numbered line (cut, joined, garbled), svlogd's own lines
    /// (those starting with `svlogd: `) excepted.
    pub torn: u64,
    /// svlogd's own lines (`svlogd: dropped N lines ...` markers), in order.
    pub own: Vec<String>,
}

impl Numbers {
    /// Adds the lines of `text` (a timestamp prefix is not expected).
    pub fn add(&mut self, text: &[u8]) {
        for l in text.split(|&b| b == b'\n') {
            if l.is_empty() {
                continue;
            }
            if let Some(own) = l
                .windows(8)
                .position(|w| w == b"svlogd: ")
                .map(|at| &l[at..])
            {
                self.own.push(String::from_utf8_lossy(own).into_owned());
                continue;
            }
            match Self::parse(l) {
                Some(n) => {
                    let n = n as usize;
                    if self.seen.len() <= n {
                        self.seen.resize(n + 1, 0);
                    }
                    self.seen[n] += 1;
                }
                None => self.torn += 1,
            }
        }
    }

    fn parse(l: &[u8]) -> Option<u64> {
        let s = std::str::from_utf8(l).ok()?;
        let (a, b) = s.split_once(' ')?;
        if a != b || a.is_empty() || !a.bytes().all(|c| c.is_ascii_digit()) || a.starts_with('0') {
            return None;
        }
        a.parse().ok()
    }

    /// The highest number that arrived (0 when none did).
    pub fn top(&self) -> u64 {
        self.seen.iter().rposition(|&c| c > 0).unwrap_or(0) as u64
    }

    /// Distinct numbers that arrived.
    pub fn distinct(&self) -> u64 {
        self.seen.iter().filter(|&&c| c > 0).count() as u64
    }

    /// Numbers in `first..=last` that never arrived whole.
    pub fn missing(&self, first: u64, last: u64) -> u64 {
        (first..=last)
            .filter(|&n| self.seen.get(n as usize).is_none_or(|&c| c == 0))
            .count() as u64
    }

    /// Copies beyond the first of every number.
    pub fn duplicates(&self) -> u64 {
        self.seen
            .iter()
            .map(|&c| u64::from(c.saturating_sub(1)))
            .sum()
    }

    /// The lowest number that arrived (0 when none did).
    pub fn lowest(&self) -> u64 {
        self.seen.iter().position(|&c| c > 0).unwrap_or(0) as u64
    }
}

/// The tally of every line in a log directory.
pub fn tally_dir(dir: &Path) -> Numbers {
    let mut t = Numbers::default();
    for f in log_files(dir) {
        if let Ok(data) = fs::read(&f) {
            t.add(&data);
        }
    }
    t
}

/// A thread writing `data` into a pipe in `chunk`-byte writes, timing each: how long the
/// writer (the service) was held up.
pub struct Writer {
    handle: std::thread::JoinHandle<Written>,
}

/// What a [`Writer`] saw.
pub struct Written {
    /// The longest single write(2).
    pub longest: std::time::Duration,
    /// Bytes written (all of them unless the reader went away).
    pub bytes: usize,
    /// The pipe's write end, still open: the caller closes it (EOF) when it wants.
    pub wr: std::os::fd::OwnedFd,
}

impl Writer {
    /// Starts writing.
    pub fn spawn(wr: std::os::fd::OwnedFd, data: Vec<u8>, chunk: usize) -> Writer {
        let handle = std::thread::spawn(move || {
            use std::io::Write;
            let mut f = fs::File::from(wr);
            let mut longest = std::time::Duration::ZERO;
            let mut bytes = 0;
            for c in data.chunks(chunk) {
                let t = std::time::Instant::now();
                if f.write_all(c).is_err() {
                    break;
                }
                bytes += c.len();
                longest = longest.max(t.elapsed());
            }
            Written {
                longest,
                bytes,
                wr: f.into(),
            }
        });
        Writer { handle }
    }

    /// Whether every byte has been written.
    pub fn finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Waits for the last write (bounded by `timeout`: panics after it).
    pub fn join(self, timeout: std::time::Duration) -> Written {
        harness::wait_until(timeout, "the writer to finish", || self.finished());
        self.handle.join().expect("writer thread")
    }
}

/// A pipe, both ends close-on-exec (the test hands a duplicate of the read end to svlogd).
pub fn pipe() -> (std::os::fd::OwnedFd, std::os::fd::OwnedFd) {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe")
}

/// Starts `imp`'s svlogd with `args`, reading `rd` (a pipe the test also holds), its stderr in
/// the scratch dir's file `err`. With `cgroup` (a v1 cgroup directory) it runs in that cgroup
/// from its first instruction (a shell puts itself there, then execs svlogd).
pub fn svlogd(
    s: &harness::Scratch,
    imp: Impl,
    rd: &std::os::fd::OwnedFd,
    args: &[&Path],
    err: &str,
    cgroup: Option<&Path>,
) -> harness::Proc {
    use std::process::Stdio;
    let errf = fs::File::create(s.join(err)).expect("stderr file");
    let mut c = match cgroup {
        None => imp.cmd("svlogd"),
        Some(cg) => {
            let mut c = harness::cmd_clean("/bin/sh".as_ref());
            c.env("PATH", imp.path_env())
                .args(["-c", "echo $$ >\"$1\" && shift && exec \"$@\"", "sh"])
                .arg(cg.join("cgroup.procs"))
                .arg(imp.bin("svlogd"));
            c
        }
    };
    c.args(args)
        .current_dir(&s.path)
        .stdin(Stdio::from(rd.try_clone().expect("dup")))
        .stdout(Stdio::null())
        .stderr(errf);
    harness::Proc::spawn_group(&mut c)
}
