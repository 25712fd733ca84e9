//! What the logging scenarios of `log_bad_input`, `log_bad_config`, `log_clock_steps` and
//! `log_security` share: a svlogd run fed from memory with its exit status and peak memory
//! (from `wait4`), a log directory's bytes in order, and a small deterministic PRNG.

use crate::sup_common::Impl;
use harness::{Proc, Scratch};
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// How a svlogd run ended.
pub struct Ended {
    /// Exit code, or 128 + signal.
    pub code: i32,
    /// Peak resident memory, KiB (GNU time's `%M`: svlogd's own `ru_maxrss`; measured by a
    /// small parent because a child's `ru_maxrss` includes the memory of the process it was
    /// forked from, here the test).
    pub maxrss_kib: u64,
    /// What it wrote on standard error.
    pub stderr: String,
    /// From spawn to exit.
    pub elapsed: Duration,
}

/// Waits (bounded) for the child `pid`, returning its exit code.
fn wait_code(pid: i32, timeout: Duration) -> Option<i32> {
    use nix::libc;
    let end = Instant::now() + timeout;
    loop {
        let mut status = 0;
        // SAFETY: plain syscall on our own child with a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return Some(if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                128 + libc::WTERMSIG(status)
            });
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `imp`'s svlogd with `args` (in the scratch dir) under GNU time, writes `input` to it
/// and closes its standard input; panics if it does not exit within `timeout`.
pub fn svlogd_with_input(
    s: &Scratch,
    imp: Impl,
    args: &[&str],
    input: &[u8],
    timeout: Duration,
) -> Ended {
    let errpath = s.join(format!("svlogd-{}.err", std::process::id()));
    let mempath = s.join(format!("svlogd-{}.mem", std::process::id()));
    let err = std::fs::File::create(&errpath).expect("stderr file");
    let mut c = harness::cmd_clean(harness::reference("/usr/bin/time").as_os_str());
    c.env("PATH", imp.path_env())
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&mempath)
        .arg(imp.bin("svlogd"))
        .args(args)
        .current_dir(&s.path)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(err);
    let t0 = Instant::now();
    let mut p = Proc::spawn_group(&mut c);
    let pid = p.pid();
    let mut stdin = p.child.stdin.take().expect("stdin");
    let ended = std::thread::scope(|sc| {
        let w = sc.spawn(move || {
            for chunk in input.chunks(1 << 16) {
                if stdin.write_all(chunk).is_err() {
                    break;
                }
            }
        });
        let r = wait_code(pid, timeout);
        if r.is_none() {
            // The group: time and svlogd.
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = wait_code(pid, Duration::from_secs(5));
        }
        let _ = w.join();
        r
    });
    let elapsed = t0.elapsed();
    let stderr = harness::read_text(&errpath);
    let _ = std::fs::remove_file(&errpath);
    let code = ended.unwrap_or_else(|| {
        panic!(
            "{} svlogd {args:?} did not exit within {timeout:?}",
            imp.name()
        )
    });
    // GNU time writes "Command exited with non-zero status N" first when it is not 0.
    let maxrss_kib = harness::read_text(&mempath)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no %M from GNU time in {}", mempath.display()));
    let _ = std::fs::remove_file(&mempath);
    Ended {
        code,
        maxrss_kib,
        stderr,
        elapsed,
    }
}

/// Every byte of a log directory, oldest first (see [`crate::sup_common::log_files`]).
pub fn log_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for p in crate::sup_common::log_files(dir) {
        if let Ok(b) = std::fs::read(p) {
            out.extend_from_slice(&b);
        }
    }
    out
}

/// A small deterministic generator (xorshift64*), for reproducible garbage.
pub struct Rng(u64);

impl Rng {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(n);
        v
    }
}

/// A size in KiB for a table (`1.2 MiB`, `840 KiB`).
pub fn kib(k: u64) -> String {
    if k >= 1024 {
        format!("{:.1} MiB", k as f64 / 1024.0)
    } else {
        format!("{k} KiB")
    }
}
