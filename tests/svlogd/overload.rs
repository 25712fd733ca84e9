//! `overload drop` and `-L`: a directory that cannot keep up drops lines instead of blocking
//! the writer, counts them, and writes a marker once it works again (issue 5; the Void report
//! void-packages #3836: a full disk blocked syslog and with it ssh logins).

use crate::util::{numbered, SharedPipe};
use harness::{
    log_text, logdir, pipe_bytes, read_text, wait_until, Impl, Scratch, Tmpfs, SVLOGD_STDERR,
};
use regex::Regex;
use std::fs;
use std::path::Path;
use std::time::Duration;

/// Complete `line NNNN` lines in `text`.
fn complete_lines(text: &str) -> usize {
    text.lines()
        .filter(|l| {
            l.strip_prefix("line ")
                .is_some_and(|n| n.len() >= 4 && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .count()
}

/// The numbers in the markers of `text`.
fn marked(text: &str) -> Vec<u64> {
    let re = Regex::new(
        r"svlogd: dropped ([0-9]+) lines between [0-9-]+T[0-9:.]+Z and [0-9-]+T[0-9:.]+Z$",
    )
    .unwrap();
    text.lines()
        .filter_map(|l| re.captures(l).map(|c| c[1].parse().unwrap()))
        .collect()
}

fn full_disk(name: &str, config: &str, args: &[&str]) {
    let s = Scratch::new(name);
    let mnt = s.join("mnt");
    let _fs = Tmpfs::mount(&mnt, 256);
    let d = mnt.join("d");
    logdir(&mnt, "d", config);
    // Room for about 100 KiB of log once the filler is in place.
    let filler = mnt.join("filler");
    fs::write(&filler, vec![b'f'; 150 * 1024]).unwrap();
    let mut pipe = SharedPipe::new();
    let mut p = pipe.start(&s.path, &[args, &[d.to_str().unwrap()]].concat(), &[]);
    // 40,000 lines, 400 KB: four times what fits. The writer is never blocked: every byte
    // is taken from the pipe.
    let n = 40_000;
    let input = numbered("line", n);
    let wr = pipe.wr.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut wr = wr;
        wr.write_all(&input).unwrap();
        wr
    });
    wait_until(Duration::from_secs(60), "the writer through", || {
        writer.is_finished()
    });
    let wr = writer.join().unwrap();
    wait_until(Duration::from_secs(20), "the input taken", || {
        pipe_bytes(&wr) == 0
    });
    let err = read_text(s.join(SVLOGD_STDERR));
    assert!(
        err.contains(&format!(
            "svlogd: warning: dropping lines, directory cannot keep up: {}",
            d.display()
        )),
        "{err}"
    );
    // Room again: the next retry (within 3 s, with no new input) writes the marker; lines
    // after it are written.
    fs::remove_file(&filler).unwrap();
    let current = d.join("current");
    harness::wait_until_or(
        Duration::from_secs(10),
        "the marker",
        &mut || !marked(&read_text(&current)).is_empty(),
        || read_text(s.join(SVLOGD_STDERR)),
    );
    pipe.wr = Some(wr);
    pipe.send(b"line 9999\n");
    wait_until(Duration::from_secs(20), "the new line", || {
        read_text(&current).ends_with("line 9999\n")
    });
    pipe.close();
    assert!(p.wait_timeout(Duration::from_secs(10)).success());
    let text = read_text(&current);
    let dropped: u64 = marked(&text).iter().sum();
    // Every line is either in the log or counted by the marker; none is both.
    assert_eq!(
        complete_lines(&text) as u64 + dropped,
        n as u64 + 1,
        "{}",
        &text[text.len() - 300..]
    );
    assert!(dropped > 20_000, "{dropped}");
    // Whole lines only: the part of a line that fitted when the disk filled up was cut off
    // again (the line is among the dropped ones).
    let markers = marked(&text).len();
    assert_eq!(text.lines().count(), complete_lines(&text) + markers);
    // The marker is on a line of its own, before the new line.
    let marker_at = text.find("svlogd: dropped").unwrap();
    assert!(text[..marker_at].ends_with('\n'));
    assert!(text[marker_at..].contains("\nline 9999\n"));
    assert_eq!(metric(&d, "lines_dropped_total"), dropped);
}

/// A counter from the directory's status file (the directories here have `metrics`).
fn metric(d: &Path, name: &str) -> u64 {
    let text = read_text(d.join("svlogd.prom"));
    text.lines()
        .find(|l| l.starts_with(&format!("svlogd_{name}{{")))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

#[test]
fn drop_mode_never_blocks_the_writer_on_a_full_disk() {
    full_disk("drop-full", "n0\noverload drop\nmetrics\n", &[]);
}

#[test]
fn lossy_option_drops_for_directories_without_an_overload_line() {
    full_disk("drop-full-L", "n0\nmetrics\n", &["-L"]);
}

#[test]
fn an_overload_line_wins_over_the_option() {
    // `overload block` with -L: runit's back-pressure, the writer waits.
    let s = Scratch::new("drop-block");
    let mnt = s.join("mnt");
    let _fs = Tmpfs::mount(&mnt, 64);
    logdir(&mnt, "d", "n0\noverload block\n");
    let d = mnt.join("d");
    let mut pipe = SharedPipe::new();
    let mut p = pipe.start(&s.path, &["-L", d.to_str().unwrap()], &[]);
    let wr = pipe.wr.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut wr = wr;
        let _ = wr.write_all(&numbered("line", 100_000));
    });
    wait_until(Duration::from_secs(20), "svlogd pausing", || {
        read_text(s.join(SVLOGD_STDERR)).contains("pausing: unable to write to current")
    });
    // svlogd takes nothing more: the pipe fills up and the writer waits (1.1 MB to write).
    let rd = pipe.rd.as_ref().unwrap();
    wait_until(Duration::from_secs(20), "the pipe full", || {
        harness::pipe_full(rd)
    });
    assert!(!writer.is_finished(), "the writer waits");
    assert!(!read_text(s.join(SVLOGD_STDERR)).contains("dropping"));
    p.signal(nix::sys::signal::Signal::SIGKILL);
    p.wait_timeout(Duration::from_secs(20));
    pipe.close();
    drop(writer);
}

#[test]
fn a_full_processor_queue_drops_instead_of_blocking() {
    // queue 0 and a slow processor: each rotation would wait for it; in drop mode the lines
    // of the wait are dropped and counted instead.
    let s = Scratch::new("drop-queue");
    logdir(
        &s.path,
        "d",
        "s100\nn0\nqueue 0\noverload drop\n!sleep 1; cat\n",
    );
    let d = s.join("d");
    let mut pipe = SharedPipe::new();
    let mut p = pipe.start(&s.path, &["d"], &[]);
    let n = 2000;
    pipe.send(&numbered("line", n));
    let wr = pipe.wr.take().unwrap();
    wait_until(Duration::from_secs(3), "the input taken", || {
        pipe_bytes(&wr) == 0
    });
    drop(wr);
    pipe.close();
    assert!(p.wait_timeout(Duration::from_secs(20)).success());
    let text = log_text(&d);
    let dropped: u64 = marked(&text).iter().sum();
    assert!(dropped > 0, "{text}");
    assert_eq!(complete_lines(&text) as u64 + dropped, n as u64);
}

#[test]
fn the_marker_is_written_at_the_end_when_no_line_came_after_recovery() {
    // The directory works again (here: `chattr -i`) but its retry time has not come when the
    // input ends: the marker used to be lost with the process (found by the reliability
    // suite, issue 7).
    let s = Scratch::new("overload-final-marker");
    // `b` on an ext4 of its own: the scratch file system may not have `chattr +i`.
    let _fs = harness::Ext4::mount(&s, "fs", &s.join("fs"), 8, nix::mount::MsFlags::empty());
    logdir(&s.path, "g", "");
    logdir(&s.path, "fs/b", "overload drop\n");
    let mut p = crate::util::spawn(Impl::Ours, &s.path, &["g", "fs/b"]);
    let lines = |from: u32, to: u32| -> Vec<u8> {
        (from..=to)
            .flat_map(|i| format!("line {i:04}\n").into_bytes())
            .collect()
    };
    p.send(&lines(1, 10));
    wait_until(Duration::from_secs(10), "b/current has 10 lines", || {
        complete_lines(&read_text(s.join("fs/b/current"))) == 10
    });
    let chattr = |flag: &str| {
        let st = std::process::Command::new("chattr")
            .args([flag, "fs/b/current", "fs/b"])
            .current_dir(&s.path)
            .status()
            .expect("chattr");
        assert!(st.success(), "chattr {flag}");
    };
    chattr("+i");
    p.send(&lines(11, 20));
    wait_until(Duration::from_secs(10), "the drop warning", || {
        read_text(s.join(SVLOGD_STDERR)).contains("dropping lines")
    });
    wait_until(Duration::from_secs(10), "g/current has 20 lines", || {
        complete_lines(&read_text(s.join("g/current"))) == 20
    });
    chattr("-i");
    assert_eq!(harness::code(p.end_input(Duration::from_secs(10))), 0);
    let b = read_text(s.join("fs/b/current"));
    assert_eq!(marked(&b), vec![10], "{b}");
}

#[test]
fn term_on_a_full_disk_leaves_whole_lines_only() {
    // Lines of 1000 bytes on a full tmpfs: the write that fails has put out part of a line.
    // After TERM that part is cut off again (the input is not consumed: the next svlogd
    // writes the line whole), so `current` ends with a newline.
    let s = Scratch::new("full-term-cut");
    let mnt = s.join("mnt");
    let _fs = Tmpfs::mount(&mnt, 64);
    logdir(&mnt, "d", "");
    let d = mnt.join("d");
    let mut pipe = SharedPipe::new();
    let mut p = pipe.start(&s.path, &[d.to_str().unwrap()], &[]);
    let wr = pipe.wr.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut wr = wr;
        for i in 0..200 {
            let line = format!("line {i:04} {}\n", "x".repeat(989));
            if wr.write_all(line.as_bytes()).is_err() {
                break;
            }
        }
    });
    wait_until(Duration::from_secs(20), "svlogd pausing", || {
        read_text(s.join(SVLOGD_STDERR)).contains("pausing: unable to write to current")
    });
    p.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(p.wait_timeout(Duration::from_secs(10)).success());
    let text = read_text(d.join("current"));
    assert!(text.len() > 10_000, "{}", text.len());
    assert!(text.ends_with('\n'), "{}", &text[text.len() - 50..]);
    let bad: Vec<&str> = text.lines().filter(|l| l.len() != 999).collect();
    assert!(bad.is_empty(), "cut lines left: {bad:?}");
    pipe.close();
    drop(writer);
}

/// Drop mode on a disk that stays full: 20,000 lines go in with nothing free for them, then
/// the input ends (`eof`) or TERM comes while the writer still holds the pipe open. Returns
/// svlogd's stderr, the text of `current` and the lines left in the pipe.
fn drop_mode_on_a_disk_that_stays_full(name: &str, eof: bool) -> (String, String, String) {
    use nix::sys::signal::Signal;
    let s = Scratch::new(name);
    let mnt = s.join("mnt");
    let _fs = Tmpfs::mount(&mnt, 256);
    logdir(&mnt, "d", "s0\nn0\noverload drop\n");
    let d = mnt.join("d");
    // Leave about 20 KiB free.
    let free = _fs.free();
    fs::write(mnt.join("filler"), vec![b'f'; (free - 20 * 1024) as usize]).unwrap();
    let mut pipe = SharedPipe::new();
    let mut p = pipe.start(&s.path, &[d.to_str().unwrap()], &[]);
    let n = 20_000;
    pipe.send(&numbered("line", n));
    let err = || read_text(s.join(SVLOGD_STDERR));
    wait_until(Duration::from_secs(20), "svlogd dropping", || {
        err().contains("dropping lines, directory cannot keep up")
    });
    if eof {
        pipe.wr = None;
    } else {
        wait_until(Duration::from_secs(20), "the input taken", || {
            pipe_bytes(pipe.wr.as_ref().unwrap()) == 0
        });
        p.signal(Signal::SIGTERM);
    }
    let st = p.wait_timeout(Duration::from_secs(20));
    assert_eq!(harness::code(st), 0, "{}", err());
    // What svlogd left in the pipe (after TERM, lines it took but did not write stay there).
    pipe.wr = None;
    let rd = pipe.rd.take().unwrap();
    // Read to the end: svlogd left the pipe non-blocking, and a child another test forks
    // holds a copy of the write end until it execs.
    // SAFETY: F_SETFL on a descriptor we own.
    unsafe { nix::libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&rd), nix::libc::F_SETFL, 0) };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut fs::File::from(rd), &mut rest).unwrap();
    let current = read_text(d.join("current"));
    // Every line is in the log, counted as dropped, or still in the pipe.
    let text = err();
    let reported: u64 = Regex::new(
        r"warning: dropped ([0-9]+) lines between [^ ]+ and [^ ]+, unable to write the marker: ",
    )
    .unwrap()
    .captures_iter(&text)
    .map(|c| c[1].parse::<u64>().unwrap())
    .sum::<u64>()
        + marked(&current).iter().sum::<u64>();
    assert_eq!(
        complete_lines(&current) as u64 + reported + complete_lines(&rest) as u64,
        n as u64,
        "{text}"
    );
    assert!(reported > 0, "{text}");
    // Whole lines only: no fragment for the next svlogd to glue its first line to.
    assert!(
        current.is_empty() || current.ends_with('\n'),
        "{:?}",
        &current[current.len().saturating_sub(80)..]
    );
    // The full disk is said a few times, not once per turn of a spinning loop.
    let pauses = text.matches("pausing: unable to write to current").count();
    assert!(pauses <= 5, "{pauses} pausing messages");
    (text, current, rest)
}

#[test]
fn term_in_drop_mode_on_a_full_disk_ends_svlogd() {
    // Issue 17: after TERM the marker's failing write gave the output up but left the
    // dropped count in place, and the write loop tried the marker again for ever (190,000
    // `pausing` messages a second, never exiting).
    drop_mode_on_a_disk_that_stays_full("drop-full-term", false);
}

#[test]
fn end_of_input_in_drop_mode_on_a_full_disk_reports_the_dropped_count() {
    // Issue 17: at EOF the marker's first bytes fitted and stayed as a fragment without a
    // newline, and the count was reported nowhere.
    let (_, current, rest) = drop_mode_on_a_disk_that_stays_full("drop-full-eof", true);
    assert_eq!(rest, "");
    assert!(!current.is_empty());
}
