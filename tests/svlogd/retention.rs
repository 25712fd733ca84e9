//! Retention beyond runit: the byte budget `S` and the age limit `maxage`, applied at once
//! and never to the newest data, and archive order that survives the clock stepping back
//! and forward (issue 5; svlogd's test-only clock offset, `svlogd::faults::CLOCK_VAR`, moves
//! the clock).

use crate::util::{line_counts, numbered, SharedPipe};
use harness::{
    archives, log_text, logdir, pipe_bytes, read_text, svlogd_cmd, wait_until, Impl, Scratch,
};
use nix::sys::signal::Signal;
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

fn archive_bytes(dir: &Path) -> u64 {
    archives(dir)
        .iter()
        .map(|n| fs::metadata(dir.join(n)).unwrap().len())
        .sum()
}

#[test]
fn the_byte_budget_deletes_the_oldest_until_the_archives_fit() {
    let s = Scratch::new("budget");
    logdir(&s.path, "d", "s100\nn0\nS350\n");
    let d = s.join("d");
    // Old archives, 100 bytes each, already over the budget.
    for i in 0..5 {
        fs::write(
            d.join(format!("@40000000000000000000000{i}.s")),
            [b'o'; 100],
        )
        .unwrap();
    }
    let input = numbered("line", 60); // 600 bytes: six rotations of 100 bytes
    let out = crate::util::run(Impl::Ours, &s.path, &["d"], &input);
    assert!(out.status.success());
    let names = archives(&d);
    assert!(archive_bytes(&d) <= 350, "{names:?}");
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names.iter().all(|n| !n.starts_with("@4000000000000000")),
        "{names:?}"
    );
    // What is left is the newest data: the end of the input.
    let text = log_text(&d);
    let input = String::from_utf8(input).unwrap();
    assert!(input.ends_with(&text), "{text:?}");
}

#[test]
fn the_budget_counts_compressed_files_at_their_size() {
    // S6000 holds three uncompressed 2000-byte archives; compressed, many more fit.
    let s = Scratch::new("budget-gz");
    logdir(&s.path, "d", "s2000\nn0\nS6000\ncompress gzip\n");
    let d = s.join("d");
    let mut pipe = SharedPipe::new();
    let mut p = pipe.start(&s.path, &["d"], &[]);
    for chunk in numbered("line", 4000).chunks(2000) {
        pipe.send(chunk);
        // Written (taken from the pipe), then every archive it made compressed.
        wait_until(Duration::from_secs(30), "the chunk written", || {
            pipe_bytes(pipe.wr.as_ref().unwrap()) == 0
        });
        wait_until(Duration::from_secs(30), "compression", || {
            archives(&d).iter().all(|n| n.ends_with(".gz"))
        });
    }
    pipe.close();
    assert!(p.wait_timeout(Duration::from_secs(10)).success());
    assert!(archive_bytes(&d) <= 6000, "{}", archive_bytes(&d));
    assert!(archives(&d).len() >= 6, "{:?}", archives(&d));
}

#[test]
fn the_age_limit_deletes_old_archives_also_without_input() {
    let s = Scratch::new("maxage");
    logdir(&s.path, "d", "maxage 2s\n");
    let d = s.join("d");
    // Two old archives (a day old by their time), one from the future (a clock that was
    // ahead): the old ones go at the first rotation, the future one counts as new.
    let day_ago = SystemTime::now() - Duration::from_secs(86_400);
    for i in 0..2 {
        let p = d.join(format!("@40000000000000000000000{i}.s"));
        fs::write(&p, "old\n").unwrap();
        fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(day_ago)
            .unwrap();
    }
    let future = d.join("@400000000000000000000002.s");
    fs::write(&future, "future\n").unwrap();
    fs::File::options()
        .write(true)
        .open(&future)
        .unwrap()
        .set_modified(SystemTime::now() + Duration::from_secs(86_400))
        .unwrap();
    let mut p = crate::util::spawn(Impl::Ours, &s.path, &["d"]);
    p.send(b"first\n");
    wait_until(Duration::from_secs(20), "first line", || {
        read_text(d.join("current")) == "first\n"
    });
    p.signal(Signal::SIGALRM);
    wait_until(Duration::from_secs(20), "the old archives deleted", || {
        archives(&d).len() == 2
    });
    assert!(d.join("@400000000000000000000002.s").exists());
    // The newest archive (the rotation's) is never deleted for its age; once a newer one
    // exists, it goes within the limit, with no more input.
    p.send(b"second\n");
    wait_until(Duration::from_secs(20), "second line", || {
        read_text(d.join("current")) == "second\n"
    });
    p.signal(Signal::SIGALRM);
    wait_until(Duration::from_secs(10), "first's archive aged out", || {
        !log_text(&d).contains("first")
    });
    assert!(log_text(&d).contains("second"));
    assert!(!archives(&d).is_empty());
}

/// Seconds in a day, for clock offsets.
const DAY: i64 = 86_400;

/// Our svlogd with its wall clock `offset` seconds away from the one the test runs with (the
/// monotonic clock stays), through its test-only clock hook (see `harness::svlogd_clock_file`).
fn faked(s: &Scratch, offset: i64, args: &[&str]) -> std::process::Command {
    let file = s.write("clock-offset", format!("{offset:+}\n"));
    let mut c = harness::cmd_clean(harness::bin("svlogd").as_os_str());
    c.current_dir(&s.path);
    harness::svlogd_clock_file(&mut c, &file).args(args);
    c
}

#[test]
fn clock_steps_never_reorder_archives_or_prune_the_newest() {
    // spec §12 item 9, g-pape/runit #9: with the clock stepped back, runit's new files sort
    // before the old ones, and pruning deletes the newest data (or, with a processor, the
    // file being processed, and svlogd loops for ever). Here every new name sorts after
    // every old one, so `n` keeps the newest, and the processor never loses its file.
    let s = Scratch::new("clock-steps");
    logdir(&s.path, "d", "s300\nn8\n!cat\n");
    let d = s.join("d");
    let mut made: Vec<String> = Vec::new();
    for (round, offset) in [0, -DAY, 365 * DAY, -30 * DAY, 0].into_iter().enumerate() {
        let lines = numbered(&format!("round{round}"), 40);
        let out = harness::run_with_input(
            &mut faked(&s, offset, &["-tt", "-l", "10", "d"]),
            &lines,
            Duration::from_secs(20),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "round {round}: {err}");
        assert!(!err.contains("unable to open input"), "{err}");
        assert!(!err.contains("processor failed"), "{err}");
        assert!(
            archives(&d).iter().all(|n| !n.ends_with(".u")),
            "all processed"
        );
        let names = archives(&d);
        // Names only grow: every name made in this round sorts after every older one.
        for n in &names {
            if !made.contains(n) {
                assert!(
                    made.iter().all(|m| m < n),
                    "round {round} ({offset}): {n} sorts before {made:?}"
                );
                made.push(n.clone());
            }
        }
        assert!(names.len() <= 8, "n8: {names:?}");
        // The newest data is there: this round's lines, all of them.
        let text = log_text(&d);
        assert!(
            line_counts(&text, &format!("round{round}"), 40)
                .iter()
                .all(|&c| c == 1),
            "round {round}: newest lines pruned"
        );
        // The clock did move: this round's lines carry stamps `offset` away from now.
        let now = SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let tag = format!("round{round} ");
        for l in text.lines().filter(|l| l.contains(&tag)) {
            let (stamp, _) = formats::stamp::parse(l.as_bytes()).expect("a -tt stamp");
            let secs = stamp.moment().secs;
            assert!(
                (secs - (now + offset)).abs() < 600,
                "round {round} ({offset:+} s): {l}"
            );
        }
    }
    assert!(made.len() > 15, "rotations in every round: {made:?}");
}

#[test]
fn a_clock_jumping_forward_while_running_does_not_age_out_new_archives() {
    // maxage measures the archives this svlogd made on the monotonic clock: a jump of the
    // wall clock (NTP setting a box that booted in 1970, say) does not make them old.
    let s = Scratch::new("clock-jump");
    logdir(&s.path, "d", "maxage 1h\n");
    let d = s.join("d");
    // svlogd's test-only clock hook reads the offset (seconds) from this file at every
    // reading of the wall clock.
    let offset = s.write("clock-offset", "+0\n");
    let mut c = svlogd_cmd(Impl::Ours, &s.path);
    harness::svlogd_clock_file(&mut c, &offset)
        .arg("d")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut p = harness::Proc::spawn_group(&mut c);
    let rotate = |p: &mut harness::Proc, line: &str, n: usize| {
        p.send(format!("{line}\n").as_bytes());
        wait_until(Duration::from_secs(20), line, || {
            read_text(d.join("current")).ends_with(&format!("{line}\n"))
        });
        p.signal(Signal::SIGALRM);
        wait_until(Duration::from_secs(20), "the rotation", || {
            archives(&d).len() == n
        });
    };
    rotate(&mut p, "before the jump", 1);
    fs::write(&offset, format!("{:+}\n", 365 * DAY)).unwrap();
    rotate(&mut p, "after the jump", 2);
    rotate(&mut p, "later", 3);
    // A year by the wall clock, seconds by svlogd's: nothing aged out.
    assert!(
        log_text(&d).contains("before the jump"),
        "{:?}",
        archives(&d)
    );
    assert!(p.end_input(Duration::from_secs(5)).success());
}
