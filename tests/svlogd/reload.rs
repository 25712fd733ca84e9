//! `autoreload`: a change to `config` is applied without a HUP, after it has stopped
//! changing; without the line, svlogd waits for the HUP as runit does (issue 5).

use crate::util::spawn;
use harness::{archives, logdir, read_text, svlogd_stderr, wait_until, Impl, Scratch};
use nix::sys::signal::Signal;
use std::fs;
use std::time::Duration;

#[test]
fn a_changed_config_is_read_without_a_hup() {
    let s = Scratch::new("autoreload");
    logdir(&s.path, "d", "autoreload\n");
    let d = s.join("d");
    let mut p = spawn(Impl::Ours, &s.path, &["-v", "d"]);
    p.send(b"one\n");
    wait_until(Duration::from_secs(20), "one", || {
        read_text(d.join("current")) == "one\n"
    });
    // Written in two goes, as an editor might (truncated, then written twice): one reload,
    // once it has stopped changing.
    fs::write(d.join("config"), "autoreload\n").unwrap();
    fs::write(d.join("config"), "autoreload\npNEW: \n").unwrap();
    wait_until(Duration::from_secs(20), "the reload", || {
        svlogd_stderr(&s.path).contains("info: config changed: d")
    });
    assert!(inotify_watches(p.pid()) > 0, "autoreload watches config");
    p.send(b"two\n");
    wait_until(Duration::from_secs(20), "two with the new prefix", || {
        read_text(d.join("current")) == "one\nNEW: two\n"
    });
    // An editor's write-and-rename is seen too.
    fs::write(d.join("config.tmp"), "autoreload\npRENAMED: \n").unwrap();
    fs::rename(d.join("config.tmp"), d.join("config")).unwrap();
    wait_until(Duration::from_secs(20), "the second reload", || {
        svlogd_stderr(&s.path).matches("config changed: d").count() >= 2
    });
    p.send(b"three\n");
    wait_until(Duration::from_secs(20), "three", || {
        read_text(d.join("current")).ends_with("RENAMED: three\n")
    });
    p.signal(Signal::SIGTERM);
    assert!(p.wait_timeout(Duration::from_secs(20)).success());
    // Reloading is closing and opening: current stayed one file, appended to.
    assert_eq!(archives(&d).len(), 0);
}

#[test]
fn without_autoreload_a_change_waits_for_hup() {
    let s = Scratch::new("autoreload-off");
    logdir(&s.path, "d", "");
    let d = s.join("d");
    let mut p = spawn(Impl::Ours, &s.path, &["d"]);
    wait_until(Duration::from_secs(20), "svlogd started", || {
        d.join("current").exists()
    });
    fs::write(d.join("config"), "pNEW: \n").unwrap();
    p.send(b"one\n");
    wait_until(Duration::from_secs(20), "one", || {
        read_text(d.join("current")) == "one\n"
    });
    // Nothing watches `config` (no inotify watch at all) to reload it later.
    assert_eq!(inotify_watches(p.pid()), 0);
    // The HUP taken (svlogd woke for it and sleeps again), then the next line.
    let t = Duration::from_secs(20);
    harness::signal_taken(p.pid(), Signal::SIGHUP, t);
    p.send(b"two\n");
    wait_until(Duration::from_secs(20), "two", || {
        read_text(d.join("current")) == "one\nNEW: two\n"
    });
    p.signal(Signal::SIGTERM);
    assert!(p.wait_timeout(Duration::from_secs(20)).success());
}

/// How many inotify watches process `pid` holds (`inotify wd:` lines of its fdinfo).
fn inotify_watches(pid: i32) -> usize {
    harness::names(format!("/proc/{pid}/fdinfo"))
        .iter()
        .map(|fd| {
            read_text(format!("/proc/{pid}/fdinfo/{fd}"))
                .lines()
                .filter(|l| l.starts_with("inotify wd:"))
                .count()
        })
        .sum()
}
