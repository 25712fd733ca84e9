//! Processes: a child that is always killed by pid, and what /proc says about others (alive,
//! zombie, children, the ones under a directory).

use crate::{cmdline, default_signals, names, read_text, runs_argv, stat_fields};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// Every process other than ourselves whose working directory is inside `dir` or whose
/// command line names a path inside it.
pub fn processes_under(dir: &Path) -> Vec<i32> {
    let me = std::process::id();
    let needle = dir.as_os_str().as_encoded_bytes().to_vec();
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let cwd = fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_default();
        let in_cmd = cmdline(pid as i32)
            .windows(needle.len().max(1))
            .any(|w| w == needle.as_slice());
        if cwd.starts_with(dir) || in_cmd {
            found.push(pid as i32);
        }
    }
    found
}

/// Kills (SIGKILL, by pid) every process [`processes_under`] `dir`.
pub fn kill_processes_under(dir: &Path) -> usize {
    let mut killed = 0;
    // Repeat: a supervisor killed in one pass may have spawned a child just before.
    for _ in 0..5 {
        let found = processes_under(dir);
        for &pid in &found {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        killed += found.len();
        if found.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    killed
}

/// A child process that is killed (SIGKILL, by pid) and reaped when dropped.
pub struct Proc {
    /// The child.
    pub child: Child,
    /// What it is, for messages.
    pub name: String,
}

impl Proc {
    /// Spawns `cmd`; stdin, stdout and stderr are whatever `cmd` says.
    pub fn spawn(cmd: &mut Command) -> Proc {
        default_signals();
        let name = format!("{cmd:?}");
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {name}: {e}"));
        Proc { child, name }
    }

    /// Spawns `cmd` in a new process group of its own (so the test's terminal signals and
    /// group kills do not reach the test runner).
    pub fn spawn_group(cmd: &mut Command) -> Proc {
        cmd.process_group(0);
        Proc::spawn(cmd)
    }

    /// The child's pid.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends a signal.
    pub fn signal(&self, sig: Signal) {
        signal(self.pid(), sig);
    }

    /// Waits for exit at most `timeout`; panics if it is still running then.
    pub fn wait_timeout(&mut self, timeout: Duration) -> ExitStatus {
        self.exit_within(timeout)
            .unwrap_or_else(|| panic!("{} did not exit within {timeout:?}", self.name))
    }

    /// Waits for exit at most `timeout`: how it ended, or `None` if it still runs (for
    /// figures, where a hang is counted, and the caller kills it).
    pub fn exit_within(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Whether the child is still running (not yet exited).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Writes to the child's stdin (which must be piped); panics if it cannot.
    pub fn send(&mut self, data: &[u8]) {
        self.child
            .stdin
            .as_mut()
            .expect("stdin is piped")
            .write_all(data)
            .unwrap_or_else(|e| panic!("write to {}: {e}", self.name));
    }

    /// Closes the child's stdin (if piped), giving it EOF.
    pub fn close_stdin(&mut self) {
        drop(self.child.stdin.take());
    }

    /// Closes stdin (end of input) and waits for exit at most `timeout`, as
    /// [`Proc::wait_timeout`].
    pub fn end_input(&mut self, timeout: Duration) -> ExitStatus {
        self.close_stdin();
        self.wait_timeout(timeout)
    }

    /// Reads the rest of the child's stderr (if piped). Call after it has exited.
    pub fn read_stderr(&mut self) -> String {
        let mut s = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut s);
        }
        s
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = kill(Pid::from_raw(self.pid()), Signal::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

/// Every child of `parent`, zombies included, from the children lists of all its threads
/// (`/proc/PID/task/TID/children`: a child belongs to the thread that forked it).
pub fn child_pids(parent: i32) -> Vec<i32> {
    let mut v: Vec<i32> = names(format!("/proc/{parent}/task"))
        .iter()
        .flat_map(|tid| {
            read_text(format!("/proc/{parent}/task/{tid}/children"))
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect();
    v.sort();
    v
}

/// The children of `parent` that run (zombies left out).
pub fn children(parent: i32) -> Vec<i32> {
    child_pids(parent)
        .into_iter()
        .filter(|&p| alive(p))
        .collect()
}

/// Whether `pid` is a zombie: dead, not yet reaped by its parent.
pub fn zombie(pid: i32) -> bool {
    stat_fields(pid)
        .first()
        .is_some_and(|st| st.starts_with('Z'))
}

/// Whether the process `pid` exists (and is not a zombie).
pub fn alive(pid: i32) -> bool {
    let state = stat_fields(pid).first().and_then(|st| st.chars().next());
    !matches!(state, Some('Z') | Some('X') | None)
}

/// Sends `sig` to the process `pid` (by pid, as every test kills). Refuses pid 0 and negative
/// pids, which kill(2) would take for a whole process group: the test runner's own, for 0.
pub fn signal(pid: i32, sig: Signal) {
    assert!(pid > 0, "refusing to send {sig:?} to pid {pid}");
    let _ = kill(Pid::from_raw(pid), sig);
}

/// The parent pid of a process (`None` when it is gone).
pub fn parent(pid: i32) -> Option<i32> {
    stat_fields(pid).get(1)?.parse().ok()
}

/// CPU time (user + system) a process has used so far, or `None` if it is gone.
pub fn cpu_time(pid: i32) -> Option<Duration> {
    let f = stat_fields(pid);
    // After the command: state is field 3, utime 14, stime 15.
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { nix::libc::sysconf(nix::libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_micros(ticks * 1_000_000 / hz))
}

/// Live processes (zombies left out) whose argv is exactly `argv` and, with `cwd`, whose
/// working directory is `cwd`: the copies of a service's `./run`, to show that a supervisor
/// never runs two. A shell's child between fork and exec looks the same as the shell, so a
/// process whose parent is one of them is not counted.
pub fn copies(cwd: Option<&Path>, argv: &[&str]) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if !runs_argv(pid, argv) {
            continue;
        }
        let in_cwd = cwd.is_none_or(|cwd| {
            fs::read_link(format!("/proc/{pid}/cwd")).ok().as_deref() == Some(cwd)
        });
        if in_cwd && alive(pid) {
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

/// Fails the test unless it runs as root, saying `why` it needs root: tests that change
/// owners, drop privileges or mount fail loudly instead of skipping.
pub fn require_root(why: &str) {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test must run as root: {why}"
    );
}
