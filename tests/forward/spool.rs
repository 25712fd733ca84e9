//! The log directory as the spool: the backlog waits on disk across rotations and restarts of
//! svlogd, is read through compression, and what had to be pruned unsent is reported.

use crate::collector::{free_port, parse, Rsyslog};
use crate::util::{finish, logged, numbered, spawn, split_tt, strip_zone, RUN};
use harness::{archives, logdir, names, svlogd_stderr, Scratch};
use std::time::{SystemTime, UNIX_EPOCH};

/// The collector is away while svlogd logs 300 lines into small files and exits; `n2` would
/// keep two rotated files, but the unsent ones stay. A later svlogd (no new input) sends them
/// all from the saved cursor, in order, with their original times.
#[test]
fn backlog_waits_across_rotation_and_restart() {
    let s = Scratch::new("fw-backlog");
    let port = free_port("127.0.0.1");
    let dir = logdir(
        &s.path,
        "log",
        &format!(">tcp 127.0.0.1:{port}\n>spool 0\ns4000\nn2\n"),
    );
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(&numbered(0, 300));
    finish(p, &s.path);
    assert!(
        archives(&dir).len() > 2,
        "unsent files kept: {:?}",
        names(&dir)
    );
    assert!(dir
        .join("forward.tcp-127.0.0.1-".to_string() + &port.to_string())
        .exists());
    let logged = logged(&dir);
    assert_eq!(logged.len(), 300);

    let rs = Rsyslog::tcp(&s, port);
    let p = spawn(&s.path, &["-tt"], &dir);
    let got = rs.wait_lines(300, RUN, &s.path);
    finish(p, &s.path);
    for (i, l) in got.iter().enumerate() {
        let f = parse(l);
        let (time, text) = split_tt(&logged[i]);
        assert_eq!(f.msg, text);
        assert_eq!(strip_zone(&f.time), time);
    }
    // Sent: the next rotations may prune again.
    assert_eq!(rs.lines().len(), 300, "nothing sent twice");
}

/// With a `!gzip` processor the rotated files are gzip; they are read back through
/// decompression.
#[test]
fn gzip_processed_archives_are_sent() {
    let s = Scratch::new("fw-gzip");
    let port = free_port("127.0.0.1");
    let dir = logdir(
        &s.path,
        "log",
        &format!(">tcp 127.0.0.1:{port}\n>spool 0\ns3000\n!gzip\n"),
    );
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(&numbered(0, 200));
    finish(p, &s.path);
    let gz = names(&dir)
        .into_iter()
        .filter(|n| n.ends_with(".s"))
        .map(|n| std::fs::read(dir.join(n)).unwrap())
        .filter(|b| b.starts_with(&[0x1f, 0x8b]))
        .count();
    assert!(gz >= 5, "gzip archives: {:?}", names(&dir));
    let rs = Rsyslog::tcp(&s, port);
    let p = spawn(&s.path, &["-tt"], &dir);
    let got = rs.wait_lines(200, RUN, &s.path);
    finish(p, &s.path);
    for (i, l) in got.iter().enumerate() {
        assert_eq!(parse(l).msg[..7], format!("{i:07}"));
    }
}

/// A small `>spool`: unsent rotated files beyond it are pruned anyway, and that is reported;
/// what was kept is still sent.
#[test]
fn pruning_unsent_files_is_reported() {
    let s = Scratch::new("fw-pruned");
    let port = free_port("127.0.0.1");
    let dir = logdir(
        &s.path,
        "log",
        &format!(">tcp 127.0.0.1:{port}\n>spool 10000\ns2000\nn2\n"),
    );
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(&numbered(0, 400));
    finish(p, &s.path);
    let err = svlogd_stderr(&s.path);
    assert!(
        err.contains("svlogd: warning: forward lost unsent log file: "),
        "{err}"
    );
    let rs = Rsyslog::tcp(&s, port);
    let kept = logged(&dir);
    assert!(kept.len() < 400 && kept.len() > 50, "{}", kept.len());
    let p = spawn(&s.path, &["-tt"], &dir);
    let got = rs.wait_lines(kept.len(), RUN, &s.path);
    finish(p, &s.path);
    let want: Vec<String> = kept.iter().map(|l| split_tt(l).1).collect();
    let msgs: Vec<String> = got.iter().map(|l| parse(l).msg).collect();
    assert_eq!(msgs, want);
}

/// Without a stamp in the files, the time of receipt still reaches the collector (svlogd
/// passes it to the forwarder beside the data), and the message is the line as is.
#[test]
fn unstamped_lines_carry_their_time_of_receipt() {
    let s = Scratch::new("fw-nostamp");
    let port = free_port("127.0.0.1");
    let rs = Rsyslog::tcp(&s, port);
    let dir = logdir(&s.path, "log", &format!(">tcp 127.0.0.1:{port}\n"));
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let mut p = spawn(&s.path, &[], &dir);
    p.send(b"no stamp here\n");
    let got = rs.wait_lines(1, RUN, &s.path);
    finish(p, &s.path);
    let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let f = parse(&got[0]);
    assert_eq!(f.msg, "no stamp here");
    // 2026-11-22T21:11:54.798140Z: compare the seconds (UTC).
    let secs = utc_seconds(strip_zone(&f.time));
    assert!(
        secs + 1 >= before.as_secs() && secs <= after.as_secs(),
        "{} not within {before:?}..{after:?}",
        f.time
    );
}

/// `YYYY-MM-DDTHH:MM:SS.ffffff` (UTC, as rsyslog renders it) as Unix seconds, read with
/// svlogd's own stamp reader (its first five fraction digits are a `-ttt` stamp).
fn utc_seconds(t: &str) -> u64 {
    let stamp = format!("{} ", &t[..25]);
    let (st, _) = formats::stamp::parse(stamp.as_bytes()).expect("an RFC 3339 time");
    st.moment().secs as u64
}

/// The directory's status file (`metrics`) carries each target's counters, and follows the
/// sender while svlogd's input is idle: backlog while the collector is away, then 0 once it
/// came back and took everything.
#[test]
fn status_file_shows_backlog_and_counters() {
    let s = Scratch::new("fw-metrics");
    let port = free_port("127.0.0.1");
    let dir = logdir(&s.path, "log", &format!(">tcp 127.0.0.1:{port}\nmetrics\n"));
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(&numbered(0, 100));
    let prom = dir.join("svlogd.prom");
    let target = format!("target=\"tcp-127.0.0.1-{port}\"");
    let value = |name: &str| -> Option<u64> {
        harness::read_text(&prom)
            .lines()
            .find(|l| l.starts_with(&format!("svlogd_{name}{{")) && l.contains(&target))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    };
    harness::wait_until_or(
        RUN,
        "a backlog while the collector is away",
        &mut || {
            value("forward_backlog_bytes").is_some_and(|b| b > 0)
                && value("forward_connected") == Some(0)
                && value("forward_failures_total").is_some_and(|f| f > 0)
        },
        || harness::read_text(&prom),
    );
    let rs = Rsyslog::tcp(&s, port);
    rs.wait_lines(100, RUN, &s.path);
    harness::wait_until_or(
        RUN,
        "the status file to follow without new input",
        &mut || {
            value("forward_backlog_bytes") == Some(0)
                && value("forward_connected") == Some(1)
                && value("forward_sent_lines_total") == Some(100)
        },
        || harness::read_text(&prom),
    );
    finish(p, &s.path);
    let text = harness::read_text(&prom);
    assert_eq!(
        text.matches("# TYPE svlogd_forward_sent_lines_total counter")
            .count(),
        1,
        "{text}"
    );
}

/// Archives compressed by `compress gzip` (`@….s.gz`, on svlogd's worker thread) while the
/// collector is away are sent through decompression, from the right offset.
#[test]
fn compressed_archives_are_sent() {
    let s = Scratch::new("fw-compress");
    let port = free_port("127.0.0.1");
    let dir = logdir(
        &s.path,
        "log",
        &format!(">tcp 127.0.0.1:{port}\n>spool 0\ns3000\ncompress gzip\n"),
    );
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(&numbered(0, 300));
    let d = dir.clone();
    harness::wait_until_or(
        RUN,
        "compressed archives",
        &mut || names(&d).iter().filter(|n| n.ends_with(".s.gz")).count() >= 5,
        || harness::listing(&d),
    );
    finish(p, &s.path);
    let rs = Rsyslog::tcp(&s, port);
    let p = spawn(&s.path, &["-tt"], &dir);
    let got = rs.wait_lines(300, RUN, &s.path);
    finish(p, &s.path);
    let msgs: Vec<String> = got.iter().map(|l| parse(l).msg[..7].to_string()).collect();
    let want: Vec<String> = (0..300).map(|i| format!("{i:07}")).collect();
    assert_eq!(msgs, want);
}
