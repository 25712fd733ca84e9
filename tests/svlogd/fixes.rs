//! The remaining fixes of spec/svlogd.md §12, each shown against runit's behaviour: the
//! matcher never reads past a line (item 7), the just-rotated file is never pruned whatever
//! the clock did (item 9), the directory and `.t` are fsynced (item 11), `t` deadlines use a
//! monotonic clock (item 12).

use crate::util::{exited_0, run};
use harness::{
    archives_ending, log_text, logdir, read_text, reference, svlogd_cmd, wait_until, Impl, Scratch,
};
use std::fs;
use std::process::Command;
use std::time::Duration;

#[test]
fn the_matcher_never_reads_past_a_line() {
    // spec §3.1: `+ab+c` matched `ab` right after the line `abc` (stale byte in the buffer).
    let mut logs = Vec::new();
    for imp in Impl::BOTH {
        let s = Scratch::new(&format!("pmatch-{}", imp.name()));
        logdir(&s.path, "d", "-*\n+ab+c\n");
        let out = run(imp, &s.path, &["d"], b"abc\nab\nabcc\n");
        exited_0(imp, &out);
        logs.push(read_text(s.join("d/current")));
    }
    assert_eq!(logs, ["abc\nab\nabcc\n", "abc\nabcc\n"]);
}

/// Two "future" rotated files, as left by a clock that was ahead.
fn future_files(dir: &std::path::Path) {
    for i in 1..=2 {
        fs::write(
            dir.join(format!("@4fffffffffffff0{i}00000000.s")),
            "future\n",
        )
        .unwrap();
    }
}

#[test]
fn the_just_rotated_file_is_never_pruned() {
    // spec §2.6 / §12 item 9: with names from "the future" in the directory, runit's oldest
    // name is the file it just rotated, and it deletes it at once.
    let mut kept = Vec::new();
    for imp in Impl::BOTH {
        let s = Scratch::new(&format!("prune-future-{}", imp.name()));
        logdir(&s.path, "d", "s10\nn2\n");
        future_files(&s.join("d"));
        let out = run(imp, &s.path, &["d"], b"0123456789\n");
        exited_0(imp, &out);
        kept.push(log_text(&s.join("d")).contains("0123456789"));
    }
    assert_eq!(
        kept,
        [false, true],
        "runit deleted the fresh file, ours kept it"
    );
}

#[test]
fn the_pending_u_is_never_pruned() {
    let s = Scratch::new("prune-future-u");
    logdir(&s.path, "d", "s10\nn1\n!cat\n");
    future_files(&s.join("d"));
    let out = run(Impl::Ours, &s.path, &["d"], b"0123456789\n");
    exited_0(Impl::Ours, &out);
    // The 11-byte line is split by the 10-byte cap: its first 10 bytes went to the .u.
    assert!(log_text(&s.join("d")).contains("0123456789"));
    assert!(archives_ending(&s.join("d"), ".u").is_empty(), "processed");
}

/// The fsync calls (with paths) an svlogd makes for one rotation with a processor.
fn fsyncs(imp: Impl) -> String {
    let s = Scratch::new(&format!("fsync-{}", imp.name()));
    logdir(&s.path, "d", "s10\n!cat\n");
    let trace = s.join("trace");
    let bin = imp.bin("svlogd");
    let mut c = Command::new(reference("/usr/bin/strace"));
    c.arg("-f")
        .arg("-y")
        .args(["-e", "trace=fsync,fdatasync", "-o"])
        .arg(&trace)
        .arg(bin)
        .arg("d")
        .current_dir(&s.path);
    let out = harness::run_with_input(&mut c, b"0123456789\n", Duration::from_secs(10));
    assert!(out.status.success());
    let text = fs::read_to_string(&trace).unwrap();
    assert!(archives_ending(&s.join("d"), ".s").len() == 1);
    text.replace(&s.path.display().to_string(), "")
}

#[test]
fn directory_and_processed_output_are_fsynced() {
    let runit = fsyncs(Impl::Runit);
    let ours = fsyncs(Impl::Ours);
    let dir_sync = |t: &str| {
        t.lines()
            .any(|l| l.contains("fsync(") && l.contains("</d>)"))
    };
    let t_sync = |t: &str| {
        t.lines()
            .any(|l| l.contains("fsync(") && l.contains(".t>)"))
    };
    assert!(!dir_sync(&runit) && !t_sync(&runit), "runit: {runit}");
    assert!(dir_sync(&ours), "ours: {ours}");
    assert!(t_sync(&ours), "ours: {ours}");
}

#[test]
fn t_deadlines_ignore_wall_clock_jumps() {
    // spec §12 item 12: runit measures `t` with gettimeofday, so a wall clock that jumps
    // forward rotates at once. The wall clock moves (not the monotonic one): runit's under
    // libfaketime, ours through its test-only clock hook (a static build is out of
    // LD_PRELOAD's reach); both read the offset in seconds from the same file.
    let mut rotated_after_jump = Vec::new();
    for imp in Impl::BOTH {
        let s = Scratch::new(&format!("tmono-{}", imp.name()));
        logdir(&s.path, "d", "t3600\n");
        let stamp = s.join("faketime");
        fs::write(&stamp, "+0\n").unwrap();
        let mut c = svlogd_cmd(imp, &s.path);
        match imp {
            Impl::Runit => harness::faketime_file(&mut c, "libfaketime.so.1", &stamp),
            Impl::Ours => harness::svlogd_clock_file(&mut c, &stamp),
        }
        .arg("d")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
        let mut p = harness::Proc::spawn_group(&mut c);
        p.send(b"before\n");
        let cur = s.join("d/current");
        wait_until(Duration::from_secs(20), "before", || {
            read_text(&cur) == "before\n"
        });
        fs::write(&stamp, "+7200\n").unwrap();
        p.send(b"after\n");
        wait_until(Duration::from_secs(20), "after", || {
            log_text(&s.join("d")).contains("after\n")
        });
        // Another line, so that runit has gone back to its deadline check once more.
        p.send(b"third\n");
        wait_until(Duration::from_secs(20), "third", || {
            log_text(&s.join("d")).contains("third\n")
        });
        rotated_after_jump.push(!archives_ending(&s.join("d"), ".s").is_empty());
        let st = p.end_input(Duration::from_secs(20));
        harness::faketime_cleanup(p.pid());
        assert!(st.success(), "{}: {st:?}", imp.name());
    }
    assert_eq!(rotated_after_jump, [true, false]);
}
