//! Running our svlogd for the forwarding tests, and reading back what it wrote.

use harness::CleanEnv;
use harness::{bin, Proc, Scratch};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long a run may take to end.
pub const RUN: Duration = Duration::from_secs(20);

/// Creates the log directory `rel` inside the scratch directory with this `config`.
pub fn logdir(s: &Scratch, rel: &str, config: &str) -> PathBuf {
    let d = s.mkdir(rel);
    fs::write(d.join("config"), config).expect("write config");
    d
}

/// Our svlogd on `dir` with `args` before it, stdin piped, stderr to `cwd/svlogd.stderr`,
/// TZ=UTC (RFC 3164 stamps are local time).
pub fn spawn(cwd: &Path, args: &[&str], dir: &Path) -> Proc {
    let err = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(cwd.join("svlogd.stderr"))
        .expect("stderr file");
    let mut c = Command::new(bin("svlogd"));
    c.clean_env()
        .env("PATH", harness::test_path())
        .env("TZ", "UTC")
        .current_dir(cwd)
        .args(args)
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(err);
    Proc::spawn_group(&mut c)
}

/// Writes to a running svlogd's stdin.
pub fn send(p: &mut Proc, data: &[u8]) {
    p.send(data);
}

/// Closes stdin and waits for a clean exit.
pub fn finish(mut p: Proc, cwd: &Path) {
    p.close_stdin();
    let st = p.wait_timeout(RUN);
    assert!(
        st.success(),
        "svlogd failed: {st:?}\n{}",
        harness::read_text(cwd.join("svlogd.stderr"))
    );
}

/// What svlogd printed on stderr so far.
pub fn stderr(cwd: &Path) -> String {
    harness::read_text(cwd.join("svlogd.stderr"))
}

/// Every line of the log directory (rotated files, oldest first, then `current`).
pub fn logged(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = harness::names(dir)
        .into_iter()
        .filter(|n| n.starts_with('@') && n.ends_with(".s"))
        .collect();
    names.sort();
    names.push("current".into());
    names
        .iter()
        .flat_map(|n| {
            harness::read_text(dir.join(n))
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
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
