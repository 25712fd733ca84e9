//! `compress gzip`: rotated files become `@<tai64n>.s.gz` on a worker thread, and a SIGKILL at
//! any step of it leaves the original or a complete compressed file (issue 5).

use crate::util::{line_counts, numbered, Crashed, SharedPipe};
use harness::{
    archives, log_text, logdir, mode, read_log, read_text, wait_until, Impl, Scratch, SVLOGD_STDERR,
};
use std::path::Path;
use std::time::Duration;

fn uncompressed(dir: &Path) -> Vec<String> {
    archives(dir)
        .into_iter()
        .filter(|n| n.ends_with(".s") || n.ends_with(".tmp"))
        .collect()
}

#[test]
fn rotated_files_become_gzip_files_with_the_same_text() {
    let s = Scratch::new("gzip");
    logdir(&s.path, "d", "s1000\nn0\ncompress gzip\n");
    let input = numbered("line", 400);
    let out = crate::util::run(Impl::Ours, &s.path, &["d"], &input);
    assert!(out.status.success(), "{out:?}");
    let d = s.join("d");
    // The run ended before the worker caught up: the next svlogd compresses the rest.
    let mut p = SharedPipe::new();
    let mut logger = p.start(&s.path, &["d"], &[]);
    wait_until(Duration::from_secs(30), "every archive compressed", || {
        uncompressed(&d).is_empty()
    });
    p.close();
    assert!(logger.wait_timeout(Duration::from_secs(10)).success());
    let gz: Vec<String> = archives(&d)
        .into_iter()
        .filter(|n| n.ends_with(".s.gz"))
        .collect();
    assert!(gz.len() >= 4, "{gz:?}");
    for n in &gz {
        assert_eq!(n.len(), 30, "{n}");
        // The mode of a rotated file (u+x: closed cleanly).
        assert_eq!(mode(d.join(n)), Some(0o744), "{n}");
    }
    assert_eq!(log_text(&d), String::from_utf8(input).unwrap());
    // Smaller on disk.
    let first = d.join(&gz[0]);
    assert!(std::fs::metadata(&first).unwrap().len() < 1000 / 2);
    assert!(read_log(&first).starts_with(b"line 0000\n"));
}

#[test]
fn a_burst_with_many_rotations_is_logged_whole() {
    // The logger reads on while the worker compresses (at its slowest level here).
    let s = Scratch::new("gzip-burst");
    logdir(&s.path, "d", "s100000\nn0\ncompress gzip 9\n");
    let input = numbered("burst", 60_000);
    let out = crate::util::run(Impl::Ours, &s.path, &["d"], &input);
    assert!(out.status.success());
    let text = log_text(&s.join("d"));
    assert_eq!(text.len(), input.len());
    assert!(line_counts(&text, "burst", 60_000).iter().all(|&c| c == 1));
}

/// SIGKILLs our svlogd at `point` (see svlogd's `faults` module) while it compresses, checks
/// what the crash left, then lets a fresh svlogd on the same pipe finish: no line lost.
fn kill_at(point: &str) {
    let mut c = Crashed::at("gzip-kill", "s2000\nn0\ncompress gzip\n", 1000, point);
    let d = c.d.clone();
    // What the crash left: for every rotation, the original or a complete .s.gz.
    let names = archives(&d);
    let labels: std::collections::BTreeSet<&str> = names.iter().map(|n| &n[..25]).collect();
    assert!(!labels.is_empty(), "{point}: {names:?}");
    for l in &labels {
        let has = |suffix: &str| names.iter().any(|n| *n == format!("{l}{suffix}"));
        assert!(
            has(".s") || has(".s.gz") || has(".u"),
            "{point}: {l} has neither original nor compressed file: {names:?}"
        );
        if has(".s.gz") {
            read_log(&d.join(format!("{l}.s.gz")));
        }
    }
    if point == "gzip-renamed" {
        assert!(
            names.iter().any(|n| n.ends_with(".s")) && names.iter().any(|n| n.ends_with(".s.gz")),
            "{point}: both files at this step: {names:?}"
        );
    }
    // A fresh svlogd on the same pipe finishes the job and logs the rest.
    let mut q = c.resume();
    wait_until(
        Duration::from_secs(10),
        "everything logged and compressed",
        || {
            uncompressed(&d).is_empty()
                && line_counts(&log_text(&d), "line", 1000)
                    .iter()
                    .all(|&n| n >= 1)
        },
    );
    c.pipe.close();
    let st = q.wait_timeout(Duration::from_secs(10));
    assert!(st.success(), "{point}: {st:?}");
    c.check_lines(point);
    let err = read_text(c.s.join(SVLOGD_STDERR));
    assert!(!err.contains("unable to"), "{point}: {err}");
}

#[test]
fn sigkill_while_writing_the_compressed_file() {
    kill_at("gzip-started");
}

#[test]
fn sigkill_before_the_compressed_file_is_fsynced() {
    kill_at("gzip-written");
}

#[test]
fn sigkill_before_the_compressed_file_is_renamed() {
    kill_at("gzip-synced");
}

#[test]
fn sigkill_before_the_original_is_removed() {
    kill_at("gzip-renamed");
}

#[test]
fn sigkill_after_the_original_is_removed() {
    kill_at("gzip-unlinked");
}

#[test]
fn a_processors_output_is_compressed_once_handed_over() {
    let s = Scratch::new("gzip-processor");
    logdir(&s.path, "d", "s300\nn0\ncompress gzip\n!sed 's/^/P:/'\n");
    let d = s.join("d");
    let mut pipe = SharedPipe::new();
    let mut p = pipe.start(&s.path, &["d"], &[]);
    pipe.send(&numbered("line", 100));
    wait_until(Duration::from_secs(30), "processed and compressed", || {
        let names = archives(&d);
        names.len() >= 3 && names.iter().all(|n| n.ends_with(".s.gz"))
    });
    pipe.close();
    assert!(p.wait_timeout(Duration::from_secs(10)).success());
    let text = log_text(&d);
    assert!(line_counts(&text, "line", 100).iter().all(|&c| c == 1));
    let archived: Vec<u8> = archives(&d)
        .iter()
        .flat_map(|n| read_log(&d.join(n)))
        .collect();
    let archived = String::from_utf8_lossy(&archived);
    assert!(
        archived.lines().all(|l| l.starts_with("P:line ")),
        "{archived}"
    );
}

#[test]
fn the_log_viewer_reads_compressed_archives() {
    // p_log (tools) shows a compressed directory's lines in order, as if nothing was
    // compressed.
    let s = Scratch::new("gzip-p_log");
    logdir(&s.path, "d", "s1000\nn0\ncompress gzip\n");
    let d = s.join("d");
    let mut pipe = SharedPipe::new();
    let mut p = pipe.start(&s.path, &["-tt", "d"], &[]);
    pipe.send(&numbered("line", 200));
    wait_until(Duration::from_secs(30), "compressed", || {
        let names = archives(&d);
        names.len() >= 3 && names.iter().all(|n| n.ends_with(".s.gz"))
    });
    pipe.close();
    assert!(p.wait_timeout(Duration::from_secs(10)).success());
    let out = harness::run(
        std::process::Command::new(harness::bin("p_log")).arg(&d),
        Duration::from_secs(10),
    );
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let counts = line_counts(&text, "line", 200);
    assert!(counts.iter().all(|&c| c == 1), "{text}");
    let order: Vec<usize> = text
        .lines()
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "in order");
}

#[test]
fn the_file_being_compressed_is_never_pruned() {
    // `n1`: every rotation prunes down to one archive. The compressor is held in the middle of
    // a file (svlogd's test hook `wait:gzip-started`: its work file is there, part written,
    // while the hold file exists), and three more rotations come and prune: that file stays,
    // until it is compressed.
    let s = Scratch::new("gzip-busy-kept");
    logdir(&s.path, "d", "s500000\nn1\ncompress gzip 9\n");
    let d = s.join("d");
    let hold = s.join("hold");
    std::fs::write(&hold, "").unwrap();
    let hold_var = hold.to_str().unwrap();
    let mut pipe = SharedPipe::new();
    let mut p = pipe.start(
        &s.path,
        &["d"],
        &[
            ("SVLOGD_FAULT", "wait:gzip-started"),
            ("SVLOGD_FAULT_WAIT", hold_var),
        ],
    );
    let t = Duration::from_secs(30);
    let mut blocks = 0;
    // A rotation or two per block: 710,000 bytes of `bN NNNN` lines.
    let mut block = |pipe: &mut SharedPipe| {
        pipe.send(&numbered(&format!("b{blocks}"), 80_000));
        blocks += 1;
    };
    let newest = |d: &Path| archives(d).into_iter().map(|n| n[..25].to_string()).max();
    let before = newest(&d);
    block(&mut pipe);
    wait_until(t, "a rotation", || newest(&d) > before);
    let mut tmp = None;
    wait_until(t, "the compressor held in the middle of a file", || {
        tmp = archives(&d).into_iter().find(|n| n.ends_with(".s.gz.tmp"));
        tmp.is_some()
    });
    let label = tmp.unwrap()[..25].to_string();
    let busy = d.join(format!("{label}.s"));
    assert!(busy.exists());
    for _ in 0..3 {
        let before = newest(&d);
        block(&mut pipe);
        wait_until(t, "a rotation", || newest(&d) > before);
    }
    // The others were pruned as `n1` says; the file being compressed was not.
    let names = archives(&d);
    let later: std::collections::BTreeSet<&str> = names
        .iter()
        .map(|n| &n[..25])
        .filter(|l| *l > label.as_str())
        .collect();
    assert!(later.len() <= 2, "not pruned: {names:?}");
    assert!(
        busy.exists(),
        "the file being compressed was pruned: {names:?}"
    );
    std::fs::remove_file(&hold).unwrap();
    wait_until(t, "its compression finished", || {
        !busy.exists() && !d.join(format!("{label}.s.gz.tmp")).exists()
    });
    pipe.close();
    assert!(p.wait_timeout(t).success());
    let err = read_text(s.join(SVLOGD_STDERR));
    assert!(!err.contains("unable to"), "{err}");
}
