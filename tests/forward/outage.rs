//! The collector goes away and comes back: nothing is lost, duplicates are few and counted.

use crate::collector::{free_port, parse, Rsyslog};
use crate::util::{finish, numbered, spawn};
use harness::{logdir, svlogd_stderr, Scratch};
use nix::sys::signal::Signal;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// 100,000 lines over TCP while rsyslog is stopped (TERM) and later killed (KILL), and each
/// time started again: every line arrives; duplicates are at most what svlogd counts as
/// resent, and under 8%.
#[test]
fn tcp_100k_lines_across_two_rsyslog_restarts() {
    const TOTAL: usize = 100_000;
    const STEP: usize = 1_000;
    let s = Scratch::new("fw-outage");
    let port = free_port("127.0.0.1");
    let mut rs = Rsyslog::tcp(&s, port);
    let dir = logdir(
        &s.path,
        "log",
        &format!(">tcp 127.0.0.1:{port}\n>spool 0\n"),
    );
    let mut p = spawn(&s.path, &["-tt", "-v"], &dir);
    // About 25,000 lines a second, so the restarts fall in the middle of the stream.
    let start = Instant::now();
    for k in 0..TOTAL / STEP {
        p.send(&numbered(k * STEP, STEP));
        if k * STEP == 30_000 {
            rs.stop(Signal::SIGTERM);
            rs.restart();
        }
        if k * STEP == 65_000 {
            rs.stop(Signal::SIGKILL);
            rs.restart();
        }
        let due = start + Duration::from_millis(40 * (k as u64 + 1));
        if let Some(d) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
    }
    // Wait for every line (not only for as many lines: duplicates count too).
    harness::wait_until_or(
        Duration::from_secs(60),
        "every line at rsyslog",
        &mut || {
            let mut seen = vec![false; TOTAL];
            for l in &rs.lines() {
                if let Ok(i) = parse(l).msg[..7].parse::<usize>() {
                    seen[i] = true;
                }
            }
            seen.iter().all(|&b| b)
        },
        || {
            format!(
                "{} lines so far\n{}",
                rs.lines().len(),
                svlogd_stderr(&s.path)
            )
        },
    );
    finish(p, &s.path);
    let lines = rs.lines();
    let mut count: HashMap<usize, usize> = HashMap::new();
    for l in &lines {
        let f = parse(l);
        *count
            .entry(f.msg[..7].parse().expect("numbered"))
            .or_default() += 1;
    }
    assert_eq!(count.len(), TOTAL);
    let dups = lines.len() - TOTAL;
    let err = svlogd_stderr(&s.path);
    let resent: usize = err
        .lines()
        .find_map(|l| l.split(" resent ").nth(1))
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no counters in:\n{err}"));
    eprintln!("{TOTAL} lines, {dups} duplicates, {resent} counted as resent");
    assert!(dups <= resent, "{dups} duplicates, {resent} resent\n{err}");
    assert!(dups * 100 < TOTAL * 8, "{dups} duplicates");
    assert!(
        err.contains("warning: forward connection lost"),
        "the outages were noticed:\n{err}"
    );
}

/// HUP restarts the forwarder from its cursor: every line arrives exactly once, and a target
/// added to `config` before the HUP starts with what is logged after it.
#[test]
fn hup_resumes_from_the_cursor_without_duplicates() {
    let s = Scratch::new("fw-hup");
    let port = free_port("127.0.0.1");
    let rs = Rsyslog::tcp(&s, port);
    let dir = logdir(&s.path, "log", &format!(">tcp 127.0.0.1:{port} app=one\n"));
    let mut p = spawn(&s.path, &["-tt", "-v"], &dir);
    p.send(&numbered(0, 500));
    rs.wait_lines(500, Duration::from_secs(20), &s.path);
    std::fs::write(
        dir.join("config"),
        format!(">tcp 127.0.0.1:{port} app=one\n>tcp localhost:{port} app=two\n"),
    )
    .unwrap();
    p.signal(Signal::SIGHUP);
    p.send(&numbered(500, 500));
    let last_of = |app: &str| {
        rs.lines()
            .iter()
            .any(|l| l.contains(&format!("|{app}|")) && parse(l).msg.starts_with("0000999"))
    };
    harness::wait_until_or(
        Duration::from_secs(20),
        "the last line through both targets",
        &mut || last_of("one") && last_of("two"),
        || svlogd_stderr(&s.path),
    );
    finish(p, &s.path);
    let got = rs.lines();
    let mut one: Vec<String> = Vec::new();
    let mut two: Vec<String> = Vec::new();
    for l in &got {
        let f = parse(l);
        match f.app.as_str() {
            "one" => one.push(f.msg[..7].to_string()),
            "two" => two.push(f.msg[..7].to_string()),
            other => panic!("app {other}"),
        }
    }
    let want: Vec<String> = (0..1000).map(|i| format!("{i:07}")).collect();
    assert_eq!(one, want, "target one: every line once, in order");
    // The new target's cursor starts at the end of `current` when it is started: lines
    // written before the HUP was handled are not its business.
    assert!(
        two.len() <= 500 && two.last() == Some(&"0000999".to_string()),
        "{two:?}"
    );
    assert_eq!(got.len(), 1000 + two.len());
}

/// A collector that accepts the connection but never reads: its window fills, and svlogd
/// goes on logging at full speed; at the end it exits within the stop grace, and what was not
/// taken stays in the spool for the next run.
#[test]
fn a_stuck_collector_never_holds_up_local_logging() {
    let s = Scratch::new("fw-stuck");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = logdir(
        &s.path,
        "log",
        &format!(">tcp 127.0.0.1:{port}\n>spool 0\n"),
    );
    let mut p = spawn(&s.path, &["-tt"], &dir);
    // 20 MB: far more than the socket buffers on both sides hold.
    for k in 0..200 {
        p.send(&numbered(k * 1000, 1000));
    }
    // The collector never reads: an exit that waited for it would never come (finish bounds
    // the wait at 20 s, the stop grace is 1 s).
    finish(p, &s.path);
    let logged = crate::util::logged(&dir);
    assert_eq!(logged.len(), 200_000);
    let cursor = harness::read_text(dir.join(format!("forward.tcp-127.0.0.1-{port}")));
    assert!(
        cursor.starts_with('@') || cursor.starts_with("current:"),
        "{cursor:?}"
    );
    drop(listener);
}

/// Over UDP an absent collector shows as ICMP "port unreachable": the datagrams of the last
/// second go again once it answers, so lines logged while it was down still arrive; the outage
/// gets one warning, however often the sender tries.
#[test]
fn udp_collector_down_then_up() {
    let s = Scratch::new("fw-udp-outage");
    let port = crate::collector::free_port("127.0.0.1");
    let dir = logdir(&s.path, "log", &format!(">udp 127.0.0.1:{port}\nmetrics\n"));
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(&numbered(0, 50));
    // Several refusals (from the status file's failure counter) while nobody listens.
    let prom = dir.join("svlogd.prom");
    let failures = || -> u64 {
        harness::read_text(&prom)
            .lines()
            .find(|l| l.starts_with("svlogd_forward_failures_total{"))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0)
    };
    harness::wait_until_or(
        Duration::from_secs(20),
        "three refusals",
        &mut || failures() >= 3,
        || svlogd_stderr(&s.path),
    );
    let rs = Rsyslog::udp(&s, port);
    let got = rs.wait_lines(50, Duration::from_secs(20), &s.path);
    finish(p, &s.path);
    let mut seen: Vec<String> = got.iter().map(|l| parse(l).msg[..7].to_string()).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 50);
    assert_eq!(
        svlogd_stderr(&s.path)
            .matches("warning: forward connection lost")
            .count(),
        1,
        "{}",
        svlogd_stderr(&s.path)
    );
}
