//! `autoreload`: a change to `config` is applied without a HUP, after it has stopped
//! changing; without the line, svlogd waits for the HUP as runit does (issue 5).

use crate::util::{logdir, send, spawn, Impl};
use harness::{read_text, wait_until, Scratch};
use nix::sys::signal::Signal;
use std::fs;
use std::time::Duration;

#[test]
fn a_changed_config_is_read_without_a_hup() {
    let s = Scratch::new("autoreload");
    logdir(&s.path, "d", "autoreload\n");
    let d = s.join("d");
    let mut p = spawn(Impl::Ours, &s.path, &["-v", "d"]);
    send(&mut p, b"one\n");
    wait_until(Duration::from_secs(20), "one", || {
        read_text(d.join("current")) == "one\n"
    });
    // Written in two goes, as an editor might: only the final text counts.
    fs::write(d.join("config"), "autoreload\n").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    fs::write(d.join("config"), "autoreload\npNEW: \n").unwrap();
    wait_until(Duration::from_secs(20), "the reload", || {
        crate::util::stderr_of(&s.path).contains("info: config changed: d")
    });
    send(&mut p, b"two\n");
    wait_until(Duration::from_secs(20), "two with the new prefix", || {
        read_text(d.join("current")) == "one\nNEW: two\n"
    });
    // An editor's write-and-rename is seen too.
    fs::write(d.join("config.tmp"), "autoreload\npRENAMED: \n").unwrap();
    fs::rename(d.join("config.tmp"), d.join("config")).unwrap();
    wait_until(Duration::from_secs(20), "the second reload", || {
        crate::util::stderr_of(&s.path)
            .matches("config changed: d")
            .count()
            >= 2
    });
    send(&mut p, b"three\n");
    wait_until(Duration::from_secs(20), "three", || {
        read_text(d.join("current")).ends_with("RENAMED: three\n")
    });
    p.signal(Signal::SIGTERM);
    assert!(p.wait_timeout(Duration::from_secs(20)).success());
    // Reloading is closing and opening: current stayed one file, appended to.
    assert_eq!(crate::util::archives(&d).len(), 0);
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
    std::thread::sleep(Duration::from_millis(500));
    send(&mut p, b"one\n");
    wait_until(Duration::from_secs(20), "one", || {
        read_text(d.join("current")) == "one\n"
    });
    p.signal(Signal::SIGHUP);
    std::thread::sleep(Duration::from_millis(200));
    send(&mut p, b"two\n");
    wait_until(Duration::from_secs(20), "two", || {
        read_text(d.join("current")) == "one\nNEW: two\n"
    });
    p.signal(Signal::SIGTERM);
    assert!(p.wait_timeout(Duration::from_secs(20)).success());
}
