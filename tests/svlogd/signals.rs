//! Signals: HUP re-reads config, TERM flushes and exits 0, and the TERM bugs of runit fixed
//! (spec/svlogd.md §7, §8, §12 items 2, 6 and 10).

use crate::util::{drained, on_d, snapshot, spawn};
use harness::{
    alive, assert_text_eq, code, log_text, logdir, mask_stamps, mode, pipe_bytes, read_text,
    svlogd_stderr, wait_until, Impl, Scratch, Tmpfs,
};
use nix::sys::signal::Signal;
use std::fs;
use std::time::Duration;

#[test]
fn hup_rereads_config_and_appends() {
    let mut snaps = Vec::new();
    for imp in Impl::BOTH {
        let (s, mut p) = on_d("hup", imp, "pA: \n", &["-v"]);
        p.send(b"one\n");
        let cur = s.join("d/current");
        wait_until(Duration::from_secs(20), "one", || {
            read_text(&cur) == "A: one\n"
        });
        fs::write(s.join("d/config"), "pB: \n").unwrap();
        harness::signal_when_idle(p.pid(), Signal::SIGHUP, Duration::from_secs(20));
        wait_until(Duration::from_secs(20), "reopen", || {
            svlogd_stderr(&s.path).matches("read: d/config").count() == 2
        });
        p.send(b"two\n");
        wait_until(Duration::from_secs(20), "two", || {
            read_text(&cur) == "A: one\nB: two\n"
        });
        assert_eq!(code(p.end_input(Duration::from_secs(20))), 0);
        snaps.push(format!(
            "{}{}",
            snapshot(&s.join("d")),
            mask_stamps(&svlogd_stderr(&s.path))
        ));
    }
    assert_text_eq("HUP: runit vs ours", &snaps[0], &snaps[1]);
}

#[test]
fn hup_resets_the_stderr_selection() {
    // spec §12 item 6: after a HUP to a config with no patterns, runit keeps sending every
    // line to stderr (the last `e` selection is never reset).
    let mut alerts = Vec::new();
    for imp in Impl::BOTH {
        let (s, mut p) = on_d("hup-e", imp, "e*\n", &["-v"]);
        p.send(b"alert one\n");
        wait_until(Duration::from_secs(20), "alert", || {
            svlogd_stderr(&s.path).contains("alert one")
        });
        fs::write(s.join("d/config"), "").unwrap();
        harness::signal_when_idle(p.pid(), Signal::SIGHUP, Duration::from_secs(20));
        wait_until(Duration::from_secs(20), "reopen", || {
            svlogd_stderr(&s.path).matches("read: d/config").count() == 2
        });
        p.send(b"quiet two\n");
        wait_until(Duration::from_secs(20), "logged", || {
            read_text(s.join("d/current")).contains("quiet two")
        });
        assert!(p.end_input(Duration::from_secs(20)).success());
        alerts.push(svlogd_stderr(&s.path).contains("quiet two"));
    }
    assert_eq!(
        alerts,
        [true, false],
        "runit alerts after the HUP, ours does not"
    );
}

#[test]
fn term_flushes_and_exits_zero() {
    for imp in Impl::BOTH {
        let (s, mut p) = on_d("term", imp, "", &["-v"]);
        p.send(b"a\nb\n");
        wait_until(Duration::from_secs(20), "lines", || {
            read_text(s.join("d/current")) == "a\nb\n"
        });
        harness::signal_when_idle(p.pid(), Signal::SIGTERM, Duration::from_secs(20));
        assert_eq!(code(p.wait_timeout(Duration::from_secs(20))), 0);
        assert_eq!(mode(s.join("d/current")), Some(0o744));
        assert!(svlogd_stderr(&s.path).contains("svlogd: info: sigterm received.\n"));
    }
}

#[test]
fn term_completes_a_partial_line_and_keeps_it() {
    // spec §12 item 2: runit reads the rest of a partial line after TERM, then drops it.
    let mut logs = Vec::new();
    for imp in Impl::BOTH {
        let (s, mut p) = on_d("term-partial", imp, "", &[]);
        wait_until(Duration::from_secs(20), "current", || {
            s.join("d/current").exists()
        });
        p.send(b"partial");
        if imp == Impl::Runit {
            // runit reads the partial line (ours leaves it in the pipe until it is complete).
            drained(&p);
        }
        // The rest comes once the TERM has been taken: svlogd woke for it and waits again.
        let t = Duration::from_secs(20);
        harness::signal_taken(p.pid(), Signal::SIGTERM, t);
        p.send(b"rest\nafter\n");
        assert_eq!(code(p.wait_timeout(Duration::from_secs(20))), 0);
        logs.push(read_text(s.join("d/current")));
    }
    assert_eq!(logs[0], "", "runit drops the completed line");
    assert!(logs[1].starts_with("partialrest\n"), "ours: {:?}", logs[1]);
}

#[test]
fn term_waits_a_bounded_time_for_a_partial_line() {
    // runit waits for the rest of the line as long as it takes; ours at most 2 s, then writes
    // what it has with a newline.
    let mut still_running = Vec::new();
    for imp in Impl::BOTH {
        let (s, mut p) = on_d("term-wait", imp, "", &[]);
        p.send(b"done\nno newline");
        wait_until(Duration::from_secs(20), "done", || {
            read_text(s.join("d/current")) == "done\n"
        });
        if imp == Impl::Runit {
            drained(&p);
        }
        let t = Duration::from_secs(20);
        let slept = harness::signal_when_idle(p.pid(), Signal::SIGTERM, t);
        if imp == Impl::Ours {
            // Within its bound (2 s; waited for up to ten times that).
            assert_eq!(code(p.wait_timeout(t)), 0);
            assert_eq!(read_text(s.join("d/current")), "done\nno newline\n");
            still_running.push(false);
        } else {
            // runit took the TERM and went back to reading, with no deadline: it waits for
            // the rest of the line for ever.
            harness::wait_slept_again(p.pid(), slept, t);
            still_running.push(alive(p.pid()));
        }
        p.signal(Signal::SIGKILL);
    }
    assert_eq!(still_running, [true, false]);
}

#[test]
fn term_with_data_in_the_pipe_logs_all_of_it() {
    // spec §7: svlogd stopped, `x\ny\n` written, TERM and CONT: runit stores only x.
    let mut logs = Vec::new();
    for imp in Impl::BOTH {
        let (s, mut p) = on_d("term-pipe", imp, "", &[]);
        p.send(b"w\n");
        wait_until(Duration::from_secs(20), "w", || {
            read_text(s.join("d/current")) == "w\n"
        });
        p.signal(Signal::SIGSTOP);
        p.send(b"x\ny\n");
        p.signal(Signal::SIGTERM);
        p.signal(Signal::SIGCONT);
        assert_eq!(code(p.wait_timeout(Duration::from_secs(20))), 0);
        logs.push(read_text(s.join("d/current")));
    }
    assert_eq!(logs, ["w\nx\n", "w\nx\ny\n"]);
}

#[test]
fn eof_keeps_the_partial_last_line() {
    // spec §12 item 1: `printf 'a\nb-partial' | svlogd d` stores only `a` with runit.
    let mut logs = Vec::new();
    for imp in Impl::BOTH {
        let s = Scratch::new(&format!("eof-{}", imp.name()));
        logdir(&s.path, "d", "");
        let out = crate::util::run(imp, &s.path, &["d"], b"a\nb-partial");
        assert_eq!(code(out.status), 0);
        logs.push(read_text(s.join("d/current")));
    }
    assert_eq!(logs, ["a\n", "a\nb-partial\n"]);
}

/// Whether `pid` holds a SIGTERM back: pending, blocked (`/proc/PID/status`), and the process
/// asleep in a plain sleep, where nothing will take it (a poll on a signalfd would).
fn term_held(pid: i32) -> bool {
    use nix::libc;
    let sleeping = harness::syscall_of(pid)
        .is_some_and(|n| n == libc::SYS_nanosleep || n == libc::SYS_clock_nanosleep);
    let mask = |field: &str| harness::status_mask(pid, field);
    let term = 1u64 << (Signal::SIGTERM as i32 - 1);
    sleeping && (mask("ShdPnd") | mask("SigPnd")) & term != 0 && mask("SigBlk") & term != 0
}

/// Fills a 64 KiB tmpfs through an svlogd, then sends TERM.
fn term_on_a_full_disk(imp: Impl) -> (bool, Scratch) {
    let s = Scratch::new(&format!("full-{}", imp.name()));
    let fs_ = Tmpfs::mount(&s.join("mnt"), 64);
    logdir(&fs_.path, "d", "");
    let mut p = spawn(imp, &s.path, &["mnt/d"]);
    let line = [b'x'; 99];
    let mut chunk = Vec::new();
    for _ in 0..20 {
        chunk.extend_from_slice(&line);
        chunk.push(b'\n');
    }
    // 100 KiB: more than the disk holds (the pipe takes the rest).
    for _ in 0..50 {
        p.send(&chunk);
    }
    wait_until(Duration::from_secs(10), "disk full", || {
        svlogd_stderr(&s.path)
            .contains("pausing: unable to write to current: mnt/d: out of disk space")
    });
    p.signal(Signal::SIGTERM);
    // It exits, or holds the TERM blocked (pending) through its pause: runit's pause is a
    // sleep with its signals blocked.
    let pid = p.pid();
    wait_until(
        Duration::from_secs(20),
        "svlogd to exit or hold TERM",
        || !alive(pid) || term_held(pid),
    );
    let exited = !alive(pid);
    if exited {
        assert_eq!(code(p.wait_timeout(Duration::from_secs(20))), 0);
        assert_eq!(
            mode(fs_.path.join("d/current")),
            Some(0o644),
            "current left without u+x"
        );
        // Zero loss: what could not be written is still in the pipe for the next svlogd.
        assert!(pipe_bytes(p.child.stdin.as_ref().unwrap()) > 0);
    }
    p.signal(Signal::SIGKILL);
    p.wait_timeout(Duration::from_secs(20));
    drop(fs_);
    (exited, s)
}

#[test]
fn term_works_during_a_disk_full_pause() {
    // spec §12 item 10: runit blocks TERM while it pauses; only SIGKILL stops it.
    let (runit, _a) = term_on_a_full_disk(Impl::Runit);
    let (ours, _b) = term_on_a_full_disk(Impl::Ours);
    assert!(!runit, "runit exited on TERM during the pause");
    assert!(ours, "ours did not exit on TERM during the pause");
}

#[test]
fn disk_full_deletes_old_files_down_to_n_min() {
    // spec §2.7: with N < n, old files are deleted on ENOSPC and nothing is lost from
    // what remains; every line reaches the disk.
    for imp in Impl::BOTH {
        let s = Scratch::new(&format!("full-n-{}", imp.name()));
        let fs_ = Tmpfs::mount(&s.join("mnt"), 64);
        logdir(&fs_.path, "d", "s8000\nn20\nN2\n");
        let input = crate::util::numbered("line of some length to fill the disk", 4000);
        let out = crate::util::run(imp, &s.path, &["mnt/d"], &input);
        assert_eq!(code(out.status), 0, "{}", imp.name());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("svlogd: warning: out of disk space, delete: mnt/d/@"),
            "{}: {err}",
            imp.name()
        );
        let logs = log_text(&fs_.path.join("d"));
        assert!(
            logs.ends_with("line of some length to fill the disk 3999\n"),
            "{}",
            imp.name()
        );
        drop(fs_);
    }
}

#[test]
fn hup_never_lets_go_of_the_directory_lock() {
    // runit releases `lock` and takes it again on every HUP. In between, another process can
    // take the directory, and a processor child that shares the lock between its fork and its
    // exec makes the retake fail ("unable to lock directory", then "no functional log
    // directories": seen in a CI run). Ours keeps the lock of the same directory across a HUP.
    use std::os::fd::AsRawFd;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    let s = Scratch::new("hup-lock");
    logdir(&s.path, "d", "s100\n");
    let mut p = spawn(Impl::Ours, &s.path, &["-v", "d"]);
    p.send(b"first\n");
    let cur = s.join("d/current");
    wait_until(Duration::from_secs(20), "first line", || {
        read_text(&cur) == "first\n"
    });
    // A competitor tries to take the lock as fast as it can while HUPs come in.
    let stop = Arc::new(AtomicBool::new(false));
    let taken = Arc::new(AtomicUsize::new(0));
    let competitor = {
        let (stop, taken, lock) = (stop.clone(), taken.clone(), s.join("d/lock"));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let f = fs::OpenOptions::new().append(true).open(&lock).unwrap();
                // SAFETY: flock on an fd we own.
                if unsafe {
                    nix::libc::flock(f.as_raw_fd(), nix::libc::LOCK_EX | nix::libc::LOCK_NB)
                } == 0
                {
                    taken.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    for i in 0..40 {
        p.signal(Signal::SIGHUP);
        wait_until(Duration::from_secs(20), "reopen", || {
            svlogd_stderr(&s.path).matches("read: d/config").count() == i + 2
        });
    }
    stop.store(true, Ordering::Relaxed);
    competitor.join().unwrap();
    p.send(b"last\n");
    wait_until(Duration::from_secs(20), "last line", || {
        read_text(&cur) == "first\nlast\n"
    });
    assert_eq!(code(p.end_input(Duration::from_secs(20))), 0);
    assert_eq!(
        taken.load(Ordering::Relaxed),
        0,
        "the lock was free during a HUP"
    );
    assert!(
        !svlogd_stderr(&s.path).contains("unable to lock"),
        "{}",
        svlogd_stderr(&s.path)
    );
}
