//! The forwarding figures of `svlogd.prom` are exact whenever the file is written (issue 15
//! item 5): the backlog right after a burst and at exit, and a lost file counted once, not
//! again by the next svlogd.

use crate::collector::{free_port, Rsyslog};
use crate::util::{finish, numbered, spawn, RUN};
use harness::{logdir, svlogd_stderr};
use harness::{wait_until_or, Scratch};
use std::path::Path;

/// The value of `svlogd_NAME` (for the one target, if labelled) in the status file.
fn value(prom: &Path, name: &str) -> Option<u64> {
    harness::read_text(prom)
        .lines()
        .find(|l| {
            l.starts_with(&format!("svlogd_{name}{{")) || l.starts_with(&format!("svlogd_{name} "))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn the_backlog_is_exact_after_a_burst_and_at_exit() {
    let s = Scratch::new("fw-prom-exact");
    let away = free_port("127.0.0.1");
    let dir = logdir(&s.path, "log", &format!(">tcp 127.0.0.1:{away}\nmetrics\n"));
    let prom = dir.join("svlogd.prom");
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(&numbered(0, 1000));
    // Each time the file shows the burst, the backlog is all of it: nothing was delivered.
    wait_until_or(
        RUN,
        "the burst in the status file",
        &mut || value(&prom, "lines_written_total") == Some(1000),
        || harness::read_text(&prom),
    );
    let text = harness::read_text(&prom);
    let current = std::fs::metadata(dir.join("current")).unwrap().len();
    assert_eq!(
        value(&prom, "forward_backlog_bytes"),
        Some(current),
        "{text}"
    );
    // At exit (the collector is away: no wait), the last status file says the same.
    finish(p, &s.path);
    let text = harness::read_text(&prom);
    assert_eq!(
        value(&prom, "forward_backlog_bytes"),
        Some(current),
        "{text}"
    );
    assert_eq!(value(&prom, "forward_connected"), Some(0), "{text}");
}

#[test]
fn the_backlog_is_zero_at_exit_once_delivered() {
    let s = Scratch::new("fw-prom-exit");
    let port = free_port("127.0.0.1");
    let rs = Rsyslog::tcp(&s, port);
    let dir = logdir(&s.path, "log", &format!(">tcp 127.0.0.1:{port}\nmetrics\n"));
    let prom = dir.join("svlogd.prom");
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(&numbered(0, 3000));
    // End of input at once: svlogd drains to the reachable collector before it exits.
    finish(p, &s.path);
    rs.wait_lines(3000, RUN, &s.path);
    let text = harness::read_text(&prom);
    assert_eq!(value(&prom, "forward_backlog_bytes"), Some(0), "{text}");
    assert_eq!(
        value(&prom, "forward_sent_lines_total"),
        Some(3000),
        "{text}"
    );
}

#[test]
fn a_lost_file_is_counted_once_across_restarts() {
    let s = Scratch::new("fw-prom-lost");
    let port = free_port("127.0.0.1");
    let config = format!("s2000\nn2\n>tcp 127.0.0.1:{port}\n>spool 1k\nmetrics\n");
    let dir = logdir(&s.path, "log", &config);
    let prom = dir.join("svlogd.prom");
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(&numbered(0, 100));
    let path = s.path.clone();
    wait_until_or(
        RUN,
        "unsent files pruned",
        &mut || svlogd_stderr(&path).contains("svlogd: warning: forward lost unsent log file"),
        || svlogd_stderr(&path),
    );
    finish(p, &s.path);
    let first = svlogd_stderr(&s.path);
    let lost = first.matches("forward lost unsent log file").count();
    assert_eq!(
        value(&prom, "forward_lost_files_total"),
        Some(lost as u64),
        "{first}"
    );
    // The collector is back; the next svlogd sends what is left and reports no loss again.
    let rs = Rsyslog::tcp(&s, port);
    std::fs::write(s.join("svlogd.stderr"), "").unwrap();
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(b"after the restart\n");
    let path = s.path.clone();
    wait_until_or(
        RUN,
        "the line after the restart",
        &mut || harness::read_text(&rs.out).contains("|after the restart\n"),
        || svlogd_stderr(&path),
    );
    finish(p, &s.path);
    let second = svlogd_stderr(&s.path);
    assert!(!second.contains("forward lost"), "{second}");
    assert_eq!(
        value(&prom, "forward_lost_files_total"),
        Some(0),
        "{}",
        harness::read_text(&prom)
    );
}
