//! A measured svlogd run, for the bad-input and security scenarios: fed from memory, with its
//! exit status, its standard error, how long it took and its peak memory.

use harness::{Impl, Proc, Scratch};
use std::io::Write;
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
    let mut stdin = p.child.stdin.take().expect("stdin");
    let ended = std::thread::scope(|sc| {
        let w = sc.spawn(move || {
            for chunk in input.chunks(1 << 16) {
                if stdin.write_all(chunk).is_err() {
                    break;
                }
            }
        });
        let r = p.exit_within(timeout);
        if r.is_none() {
            // The group: time and svlogd.
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(p.pid()),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = p.exit_within(Duration::from_secs(5));
        }
        let _ = w.join();
        r
    });
    let elapsed = t0.elapsed();
    let stderr = harness::read_text(&errpath);
    let _ = std::fs::remove_file(&errpath);
    let code = ended.map(harness::code).unwrap_or_else(|| {
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
