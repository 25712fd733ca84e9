//! What the supervision scenarios share: which implementation runs (ours or runit's), service
//! directories, status reads, process counts and CPU time from /proc.

use formats::status::{self, State, Status};
use harness::{bin, cmd_clean, reference, wait_until_or, Proc, Scratch};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A generous bound for anything that should happen "at once".
pub const T: Duration = Duration::from_secs(10);

/// Whose binaries a scenario runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    /// The workspace's binaries (first on PATH, so runsvdir finds our runsv).
    Ours,
    /// Debian's runit 2.1.2 (`/usr/bin`, and our binaries nowhere on PATH).
    Runit,
}

impl Impl {
    /// The implementations a scenario runs on: ours, and runit's in the full-size run.
    pub fn each() -> Vec<Impl> {
        if crate::frame::with_runit() {
            vec![Impl::Ours, Impl::Runit]
        } else {
            vec![Impl::Ours]
        }
    }

    /// `ours` or `runit`, for names and messages.
    pub fn name(self) -> &'static str {
        match self {
            Impl::Ours => "ours",
            Impl::Runit => "runit",
        }
    }

    /// PATH for the processes of this implementation.
    pub fn path_env(self) -> String {
        match self {
            Impl::Ours => harness::test_path(),
            Impl::Runit => "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        }
    }

    /// The path of one of this implementation's programs (`runsv`, `sv`, `svlogd`, ...).
    pub fn bin(self, name: &str) -> PathBuf {
        match self {
            Impl::Ours => bin(name),
            Impl::Runit => reference(&format!("/usr/bin/{name}")),
        }
    }

    /// This implementation's program `name` where any user can run it: ours copied into the
    /// scratch directory (see [`Scratch::bin_for_anyone`]), runit's where Debian installs it.
    pub fn bin_for_anyone(self, s: &Scratch, name: &str) -> PathBuf {
        match self {
            Impl::Ours => s.bin_for_anyone(name),
            Impl::Runit => self.bin(name),
        }
    }

    /// A command for one of this implementation's programs, with only PATH in its
    /// environment.
    pub fn cmd(self, name: &str) -> Command {
        let mut c = cmd_clean(self.bin(name).as_os_str());
        c.env("PATH", self.path_env());
        c
    }
}

/// Creates `rel/` in the scratch dir with an executable `run` holding `run`.
pub fn service(s: &Scratch, rel: &str, run: &str) -> PathBuf {
    let dir = s.mkdir(rel);
    s.script(format!("{rel}/run"), run);
    dir
}

/// Starts `imp`'s runsv on `dir`, stderr to `NAME.err` in the scratch dir.
pub fn runsv(s: &Scratch, imp: Impl, dir: &Path, errname: &str) -> Proc {
    start(s, imp, "runsv", dir, errname)
}

/// Starts `imp`'s runsvdir on `dir`, stderr to `errname` in the scratch dir.
pub fn runsvdir(s: &Scratch, imp: Impl, dir: &Path, errname: &str) -> Proc {
    start(s, imp, "runsvdir", dir, errname)
}

/// Starts `imp`'s `prog` on `dir` in the scratch dir, stderr to `errname` there.
fn start(s: &Scratch, imp: Impl, prog: &str, dir: &Path, errname: &str) -> Proc {
    let err = fs::File::create(s.join(errname)).expect("stderr file");
    let mut c = imp.cmd(prog);
    c.arg(dir)
        .current_dir(&s.path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err);
    Proc::spawn_group(&mut c)
}

/// The status record of a service (`sup` is `supervise` or `log/supervise`).
pub fn read_status(dir: &Path, sup: &str) -> Option<Status> {
    status::read_runit(&dir.join(sup).join("status")).ok()
}

/// Waits (bounded by `timeout`) until the status under `sup` satisfies `pred`; returns it.
pub fn wait_status_of(
    s: &Scratch,
    dir: &Path,
    sup: &str,
    timeout: Duration,
    what: &str,
    mut pred: impl FnMut(&Status) -> bool,
) -> Status {
    let last = std::cell::Cell::new(None);
    wait_until_or(
        timeout,
        what,
        &mut || {
            let st = read_status(dir, sup);
            last.set(st);
            st.as_ref().is_some_and(&mut pred)
        },
        || format!("last status: {:?}\n{}", last.get(), s.listing()),
    );
    last.get().expect("status")
}

/// Waits until the main service of `dir` runs under a pid other than `not`; returns the status.
pub fn wait_new_run(s: &Scratch, dir: &Path, not: u32, timeout: Duration) -> Status {
    wait_status_of(s, dir, "supervise", timeout, "service running", |st| {
        st.state == State::Run && st.pid != 0 && st.pid != not
    })
}

/// CPU time (user + system) a process has used so far, or `None` if it is gone.
pub fn cpu_time(pid: i32) -> Option<Duration> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_ascii_whitespace().collect();
    // After the command: state is field 3, utime 14, stime 15.
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { nix::libc::sysconf(nix::libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_micros(ticks * 1_000_000 / hz))
}

/// Live processes (zombies excluded) whose working directory is `cwd` and whose argv is
/// exactly `argv`: the copies of a service's `./run`. A shell's child between fork and exec
/// looks the same, so processes whose parent is one of them are not counted.
pub fn copies(cwd: &Path, argv: &[&str]) -> Vec<i32> {
    let want: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if fs::read(format!("/proc/{pid}/cmdline")).ok().as_deref() != Some(&want[..]) {
            continue;
        }
        if fs::read_link(format!("/proc/{pid}/cwd")).ok().as_deref() == Some(cwd)
            && harness::alive(pid)
        {
            out.push(pid);
        }
    }
    let parents: Vec<Option<i32>> = out.iter().map(|&p| parent(p)).collect();
    let all = out.clone();
    out.into_iter()
        .zip(parents)
        .filter(|(_, pp)| !pp.is_some_and(|pp| all.contains(&pp)))
        .map(|(p, _)| p)
        .collect()
}

/// The parent pid of a process.
pub fn parent(pid: i32) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..]
        .split_ascii_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The median of some durations (zero when there are none).
pub fn median(v: &mut [Duration]) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    v[v.len() / 2]
}

/// What the log says about one instance of a numbered service (see [`tally`]).
#[derive(Default, Debug)]
pub struct Instance {
    /// Its `start PID` line arrived.
    pub started: bool,
    /// Its `PID N` lines, in the order they arrived.
    pub numbers: Vec<u32>,
    /// Its `PID done` line arrived.
    pub done: bool,
}

/// The lines of a log written by services that print `start PID`, then `PID 1`, `PID 2`, ...
/// and possibly `PID done`: per instance what arrived, and the lines that arrived twice or
/// torn (not one of those forms) or out of order.
#[derive(Default, Debug)]
pub struct Tally {
    /// By pid.
    pub inst: std::collections::BTreeMap<u32, Instance>,
    /// Lines that arrived more than once.
    pub duplicates: u64,
    /// Lines that are not whole, or numbers that went backwards within an instance.
    pub torn: u64,
}

/// Reads such a log (see [`Tally`]).
pub fn tally(text: &str) -> Tally {
    let mut t = Tally::default();
    let mut seen = std::collections::HashSet::new();
    for line in text.lines() {
        if !seen.insert(line) {
            t.duplicates += 1;
            continue;
        }
        let mut w = line.split(' ');
        let parsed = match (w.next(), w.next(), w.next()) {
            (Some("start"), Some(p), None) => p.parse().ok().map(|p| (p, None, false)),
            (Some(p), Some("done"), None) => p.parse().ok().map(|p| (p, None, true)),
            (Some(p), Some(n), None) => match (p.parse(), n.parse()) {
                (Ok(p), Ok(n)) => Some((p, Some(n), false)),
                _ => None,
            },
            _ => None,
        };
        let Some((pid, n, done)) = parsed else {
            t.torn += 1;
            continue;
        };
        let i = t.inst.entry(pid).or_default();
        match (n, done) {
            (Some(n), _) => {
                if i.numbers.last().is_some_and(|&l| l >= n) {
                    t.torn += 1;
                }
                i.numbers.push(n);
            }
            (None, true) => i.done = true,
            (None, false) => i.started = true,
        }
    }
    t
}

impl Tally {
    /// Lines of instance `pid` that are missing: its start line, and every number from 1 to
    /// the highest that arrived or `written` (what the instance is known to have written),
    /// whichever is higher.
    pub fn lost(&self, pid: u32, written: u32) -> u64 {
        let Some(i) = self.inst.get(&pid) else {
            return u64::from(written) + u64::from(written > 0);
        };
        let top = i.numbers.iter().copied().max().unwrap_or(0).max(written);
        let have = i
            .numbers
            .iter()
            .filter(|&&n| n >= 1 && n <= top)
            .collect::<std::collections::HashSet<_>>()
            .len() as u64;
        u64::from(top) - have + u64::from(!i.started)
    }
}

/// The files of a svlogd log directory that hold lines, oldest first: the archives (`@...`,
/// by name, which is by time) and then `current`.
pub fn log_files(dir: &Path) -> Vec<PathBuf> {
    let mut names: Vec<String> = harness::names(dir)
        .into_iter()
        .filter(|n| n.starts_with('@'))
        .collect();
    names.sort();
    names.push("current".into());
    names.iter().map(|n| dir.join(n)).collect()
}

/// Every line of a svlogd log directory, oldest first (see [`log_files`]).
pub fn log_text(dir: &Path) -> String {
    log_files(dir).iter().map(harness::read_text).collect()
}

/// Whether `cond` comes true within `timeout` (checked every 10 ms); for figures, where a
/// miss is counted rather than fatal.
pub fn comes_true(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if std::time::Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
