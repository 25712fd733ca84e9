//! `metrics`: the status file `svlogd.prom`, in the Prometheus text format node_exporter's
//! textfile collector reads (issue 5).

use crate::util::spawn;
use harness::{archives, logdir, read_text, svlogd_stderr, wait_until, Impl, Scratch, Tmpfs};
use nix::sys::signal::Signal;
use regex::Regex;
use std::path::Path;
use std::time::Duration;

fn value(d: &Path, name: &str) -> Option<f64> {
    let text = read_text(d.join("svlogd.prom"));
    text.lines()
        .find(|l| l.starts_with(&format!("svlogd_{name}{{")))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn the_status_file_counts_lines_bytes_and_rotations() {
    let s = Scratch::new("metrics");
    logdir(&s.path, "d", "metrics\n");
    let d = s.join("d");
    let mut p = spawn(Impl::Ours, &s.path, &["d"]);
    p.send(b"one\ntwo\n");
    wait_until(Duration::from_secs(20), "two lines counted", || {
        value(&d, "lines_written_total") == Some(2.0)
    });
    assert_eq!(value(&d, "bytes_written_total"), Some(8.0));
    p.signal(Signal::SIGALRM);
    wait_until(Duration::from_secs(20), "the rotation counted", || {
        value(&d, "rotations_total") == Some(1.0) && value(&d, "archives") == Some(1.0)
    });
    p.send(b"three\n");
    wait_until(Duration::from_secs(20), "three lines counted", || {
        value(&d, "lines_written_total") == Some(3.0)
    });
    // Every sample line has its HELP and TYPE, and the dir label (the real path).
    let text = read_text(d.join("svlogd.prom"));
    let sample =
        Regex::new(r#"^svlogd_[a-z_]+\{dir="([^"]+)"(,message="[^"]*")?\} [0-9.e+-]+$"#).unwrap();
    let mut samples = 0;
    for l in text.lines() {
        if l.starts_with('#') {
            assert!(
                l.starts_with("# HELP svlogd_") || l.starts_with("# TYPE svlogd_"),
                "{l}"
            );
            continue;
        }
        let c = sample.captures(l).unwrap_or_else(|| panic!("{l}"));
        assert_eq!(&c[1], d.to_str().unwrap());
        samples += 1;
    }
    assert_eq!(text.matches("# TYPE ").count(), samples);
    // Nothing else is left in the directory (no `svlogd.prom.new`), and the status file is
    // no archive by runit's rules (which take every name starting with `@` for one).
    let arch = archives(&d);
    assert_eq!(arch.len(), 1, "{arch:?}");
    let mut others: Vec<String> = harness::names(&d)
        .into_iter()
        .filter(|n| !arch.contains(n))
        .collect();
    others.sort();
    assert_eq!(
        others,
        ["config", "current", "lock", "svlogd.prom"],
        "{}",
        s.listing()
    );
    assert!(p.end_input(Duration::from_secs(20)).success());
}

#[test]
fn no_status_file_without_the_line() {
    let s = Scratch::new("metrics-off");
    logdir(&s.path, "d", "");
    let out = crate::util::run(Impl::Ours, &s.path, &["d"], b"x\n");
    assert!(out.status.success());
    assert!(!s.join("d/svlogd.prom").exists());
}

#[test]
fn the_last_error_is_shown() {
    // A directory whose current cannot be written: the pausing message becomes the label of
    // svlogd_last_error_timestamp_seconds.
    let s = Scratch::new("metrics-error");
    let mnt = s.join("mnt");
    let _fs = Tmpfs::mount(&mnt, 64);
    logdir(&mnt, "d", "metrics\nn0\noverload drop\n");
    std::fs::write(mnt.join("filler"), vec![0u8; 60 * 1024]).unwrap();
    let d = mnt.join("d");
    let mut p = spawn(Impl::Ours, &s.path, &[d.to_str().unwrap()]);
    p.send(&crate::util::numbered("line", 2000));
    wait_until(Duration::from_secs(20), "the disk full", || {
        svlogd_stderr(&s.path).contains("pausing: unable to write to current")
    });
    std::fs::remove_file(mnt.join("filler")).unwrap();
    wait_until(
        Duration::from_secs(10),
        "the error in the status file",
        || {
            read_text(d.join("svlogd.prom"))
                .contains("message=\"unable to write to current: out of disk space\"")
        },
    );
    assert!(p.end_input(Duration::from_secs(10)).success());
}
