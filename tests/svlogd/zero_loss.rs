//! Never lose a line when the logger is killed: a flood of numbered lines goes through one
//! pipe while svlogd is SIGKILLed again and again and a new one takes over the same pipe;
//! every line must be in the log directory afterwards. runit's svlogd, which reads before it
//! writes, loses lines in the same run. Duplicates (a kill between writing and consuming)
//! are allowed, counted and printed.

use harness::{logdir, svlogd_cmd, wait_until, Impl, Proc, Scratch};
use regex::Regex;
use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// At least this many lines; the writer goes on until the last kill is done.
const LINES: usize = 100_000;
const KILLS: usize = 25;

/// The line numbered `i`: its tail length varies so that writes end mid-line.
fn line(i: usize) -> String {
    format!("line {i:08} {}\n", "y".repeat(i % 61))
}

struct Outcome {
    lines: usize,
    missing: usize,
    duplicates: usize,
    malformed: usize,
    kills: usize,
}

fn total_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_name() != "lock" && e.file_name() != "config")
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn flood_and_kill(imp: Impl) -> Outcome {
    let s = Scratch::new(&format!("zero-loss-{}", imp.name()));
    logdir(&s.path, "d", "s1000000\nn0\n");
    let (rd, wr) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe");
    let done = Arc::new(AtomicBool::new(false));
    let writer_done = done.clone();
    let writer = std::thread::spawn(move || -> usize {
        let mut w = std::fs::File::from(wr);
        let mut buf = String::new();
        let mut k = 0usize;
        let mut i = 0;
        while i < LINES || !writer_done.load(Ordering::SeqCst) {
            buf.push_str(&line(i));
            i += 1;
            // Writes of varying size, often larger than a pipe page, ending mid-line.
            if buf.len() > 700 + (k * 997) % 9000 {
                let cut = buf.len() - (k % 7);
                if w.write_all(&buf.as_bytes()[..cut]).is_err() {
                    return i;
                }
                buf = buf[cut..].to_string();
                k += 1;
            }
        }
        let _ = w.write_all(buf.as_bytes());
        i
    });
    let start = |rd: &OwnedFd| -> Proc {
        let mut c = svlogd_cmd(imp, &s.path);
        c.arg("-tt")
            .arg("d")
            .stdin(Stdio::from(rd.try_clone().expect("dup")))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        Proc::spawn_group(&mut c)
    };
    let mut kills = 0;
    while kills < KILLS {
        let before = total_size(&s.join("d"));
        let mut p = start(&rd);
        // Kill it while it is busy: once it has written something.
        wait_until(
            Duration::from_secs(10),
            "the logger to make progress",
            || total_size(&s.join("d")) > before,
        );
        p.signal(nix::sys::signal::Signal::SIGKILL);
        p.wait_timeout(Duration::from_secs(20));
        kills += 1;
    }
    done.store(true, Ordering::SeqCst);
    let mut last = start(&rd);
    drop(rd);
    let lines = writer.join().expect("writer");
    let st = last.wait_timeout(Duration::from_secs(30));
    assert!(st.success(), "the last logger failed: {st:?}");

    let re = Regex::new(
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{5} line ([0-9]{8}) (y*)$",
    )
    .unwrap();
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut malformed = 0;
    for e in fs::read_dir(s.join("d")).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name == "lock" || name == "config" {
            continue;
        }
        let text = String::from_utf8_lossy(&fs::read(e.path()).unwrap()).into_owned();
        for l in text.lines() {
            match re.captures(l) {
                Some(c) if c[2].len() == c[1].parse::<usize>().unwrap() % 61 => {
                    *seen.entry(c[1].parse().unwrap()).or_default() += 1;
                }
                // A line cut by a kill in the middle of a write; its whole copy is elsewhere.
                _ => malformed += 1,
            }
        }
    }
    let missing = (0..lines).filter(|i| !seen.contains_key(i)).count();
    let duplicates = seen.values().map(|c| c - 1).sum();
    Outcome {
        lines,
        missing,
        duplicates,
        malformed,
        kills,
    }
}

#[test]
fn sigkill_loses_no_line() {
    let ours = flood_and_kill(Impl::Ours);
    eprintln!(
        "ours: {} kills, {} lines, {} missing, {} duplicated, {} cut",
        ours.kills, ours.lines, ours.missing, ours.duplicates, ours.malformed
    );
    assert_eq!(ours.missing, 0, "lines lost");
    // At most one chunk (128 KiB of input, lines of 15 bytes or more) per kill is written
    // twice: the lines written but not yet consumed when the kill came.
    assert!(
        ours.duplicates <= ours.kills * (131_072 / 15),
        "{} duplicates in {} kills",
        ours.duplicates,
        ours.kills
    );
    let runit = flood_and_kill(Impl::Runit);
    eprintln!(
        "runit: {} kills, {} lines, {} missing, {} duplicated, {} cut",
        runit.kills, runit.lines, runit.missing, runit.duplicates, runit.malformed
    );
    assert!(runit.missing > 0, "runit's svlogd lost nothing this time");
}
