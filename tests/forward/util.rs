//! Running our svlogd for the forwarding tests, and reading back what it wrote.

use harness::{log_text, spawn_svlogd, svlogd_cmd, svlogd_stderr, Impl, Proc};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// How long a run may take to end.
pub const RUN: Duration = Duration::from_secs(20);

/// Our svlogd on `dir` with `args` before it, stdin piped (see [`spawn_svlogd`]), TZ=UTC
/// (RFC 3164 stamps are local time).
pub fn spawn(cwd: &Path, args: &[&str], dir: &Path) -> Proc {
    let mut c = svlogd_cmd(Impl::Ours, cwd);
    c.env("TZ", "UTC").args(args).arg(dir);
    spawn_svlogd(&mut c, cwd, Stdio::piped())
}

/// Closes stdin and waits for a clean exit.
pub fn finish(mut p: Proc, cwd: &Path) {
    let st = p.end_input(RUN);
    assert!(
        st.success(),
        "svlogd failed: {st:?}\n{}",
        svlogd_stderr(cwd)
    );
}

/// Every line of the log directory, oldest first (see [`harness::log_files`]).
pub fn logged(dir: &Path) -> Vec<String> {
    log_text(dir).lines().map(str::to_string).collect()
}

/// The host's name, as the forwarder puts it in HOSTNAME.
pub fn hostname() -> String {
    harness::read_text("/proc/sys/kernel/hostname")
        .trim_end()
        .to_string()
}

/// `-tt` stamp `2026-11-22_18:42:17.03672 text` → (`2026-11-22T18:42:17.036720`, `text`).
pub fn split_tt(line: &str) -> (String, String) {
    let (stamp, text) = line.split_at(25);
    let iso = format!("{}T{}0", &stamp[..10], &stamp[11..]);
    (iso, text[1..].to_string())
}

/// rsyslog's rendering of a UTC RFC 3339 time, without the zone (`Z` or `+00:00`).
pub fn strip_zone(t: &str) -> &str {
    t.strip_suffix('Z')
        .or_else(|| t.strip_suffix("+00:00"))
        .unwrap_or_else(|| panic!("not UTC: {t}"))
}

/// `count` numbered lines of about 100 bytes: `0000042 the quick ...`.
pub fn numbered(from: usize, count: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(count * 100);
    for i in from..from + count {
        v.extend_from_slice(
            format!("{i:07} the quick brown fox jumps over the lazy dog, a log line of typical length\n")
                .as_bytes(),
        );
    }
    v
}
