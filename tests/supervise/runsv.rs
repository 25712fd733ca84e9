//! Our runsv's behaviour, end to end: the log pipe, finish, the throttle, control scripts,
//! SIGTERM, and the improvements (readiness, timeout-kill, orphans, a log added later).

use formats::status::{Ready, State};
use harness::{
    alive, children, control, copies, log_text, read_status, runit_sv, runsv, runsv_err, service,
    signal, start_in, supervised, sv_says_run, wait_down, wait_handled, wait_run, wait_status,
    wait_until, whole_lines, Impl, Scratch, WAIT as T,
};
use nix::sys::signal::Signal;
use std::collections::BTreeMap;
use std::fs;
use std::time::Duration;

#[test]
fn finish_gets_code_and_status_and_k_during_finish_runs_it_once() {
    // spec/supervise.md §1.4 (arguments) and §1.10 (runit ran finish twice after k).
    let s = Scratch::new("rs-finish");
    let dir = service(
        &s,
        "svc",
        "#!/bin/sh\n[ -e second ] && exec sleep 100\ntouch second\nexit 3\n",
    );
    s.script(
        "svc/finish",
        "#!/bin/sh\necho \"$1 $2\" >>finish.log\nexec sleep 100\n",
    );
    let p = runsv(&s, Impl::Ours, &dir);
    wait_until(T, "finish ran", || {
        whole_lines(dir.join("finish.log")) == ["3 0"]
    });
    // (runsv records state finish once before ./finish has a pid: wait for the pid.)
    let st = wait_status(&s, &dir, "state finish", |st| {
        st.state == State::Finish && st.pid != 0
    });
    control(&dir, b"k");
    // finish is not signalled by k, and once it ends it is not run again.
    wait_handled(&dir, p.pid());
    assert!(alive(st.pid as i32));
    signal(st.pid as i32, Signal::SIGKILL);
    let pid = wait_run(&s, &dir);
    control(&dir, b"d");
    wait_until(T, "finish after TERM", || {
        whole_lines(dir.join("finish.log")) == ["3 0", "-1 15"]
    });
    let f = wait_status(&s, &dir, "finish", |st| {
        st.state == State::Finish && st.pid != 0
    });
    assert_ne!(f.pid, pid);
    control(&dir, b"k");
    signal(f.pid as i32, Signal::SIGTERM);
    wait_down(&s, &dir);
    // Nothing left to do: no child (a second finish would be one) and runsv asleep.
    wait_until(T, "runsv idle", || {
        children(p.pid()).is_empty() && harness::in_poll(p.pid())
    });
    assert_eq!(
        whole_lines(dir.join("finish.log")),
        ["3 0", "-1 15"],
        "finish ran once per run"
    );
}

/// Seconds since boot (`/proc/uptime`): a clock the service and the test read alike.
fn uptime() -> f64 {
    harness::read_text("/proc/uptime")
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .expect("/proc/uptime")
}

#[test]
fn throttle_spaces_restarts_and_leaves_commands_working() {
    // §1.4: a run that exits at once restarts 1 s after it started; §9 item 1: `sv down`
    // during the throttle is not lost, and x exits at once, with no start after it.
    let s = Scratch::new("rs-throttle");
    let dir = service(
        &s,
        "svc",
        "#!/bin/sh
read up idle </proc/uptime
echo $up >>starts
exit 1
",
    );
    let mut p = runsv(&s, Impl::Ours, &dir);
    let starts = || -> Vec<f64> {
        whole_lines(dir.join("starts"))
            .iter()
            .map(|l| l.parse().unwrap())
            .collect()
    };
    wait_until(Duration::from_secs(60), "five starts", || {
        starts().len() >= 5
    });
    // 1 s apart; without the throttle they come milliseconds apart. (A lower bound: a slow
    // machine only makes the gaps longer, but for the start of the first shell, here spread
    // over four gaps.)
    let up = starts();
    assert!(
        (up[4] - up[0]) / 4.0 >= 0.5,
        "restarts not throttled: {up:?}"
    );
    // During the throttle: d, then u, then d again; the last word wins at once.
    control(&dir, b"d");
    let st = wait_status(&s, &dir, "want down", |st| {
        st.want == b'd' && st.state == State::Down
    });
    assert_eq!(st.pid, 0);
    let n = starts().len();
    // Past the deadline the throttle had set, runsv has nothing left to do.
    let last = *starts().last().unwrap();
    wait_until(T, "the throttle's deadline passed", || {
        uptime() > last + 1.5
    });
    wait_until(T, "runsv idle", || {
        children(p.pid()).is_empty() && harness::in_poll(p.pid())
    });
    assert_eq!(starts().len(), n, "down during the throttle held");
    control(&dir, b"u");
    wait_until(T, "restarted after up", || starts().len() > n);
    // It exited at once again: x comes during the throttle. runit's runsv slept through the
    // throttle and started the service once more before it read x.
    let n = starts().len();
    control(&dir, b"x");
    assert!(p.wait_timeout(T).success());
    assert_eq!(starts().len(), n, "a start after x");
}

#[test]
fn control_scripts_run_as_runit_runs_them() {
    // §1.6: control/u before every start; control/t exit 0 suppresses TERM; control/d after.
    let s = Scratch::new("rs-control");
    let dir = service(&s, "svc", "#!/bin/sh\nexec sleep 100\n");
    s.script("svc/control/u", "#!/bin/sh\necho u >>control.log\n");
    s.script(
        "svc/control/t",
        "#!/bin/sh\necho \"t $1\" >>control.log\nexit 0\n",
    );
    s.script("svc/control/d", "#!/bin/sh\necho d >>control.log\n");
    s.script("svc/control/h", "#!/bin/sh\necho h >>control.log\nexit 1\n");
    let p = runsv(&s, Impl::Ours, &dir);
    let pid = wait_run(&s, &dir);
    wait_until(T, "control/u ran", || {
        whole_lines(dir.join("control.log")) == ["u"]
    });
    // control/h exits 1: the HUP is sent too (sleep dies of it and is restarted).
    control(&dir, b"h");
    let pid2 = wait_status(&s, &dir, "restarted after HUP", |st| {
        st.pid != pid && st.pid != 0
    })
    .pid;
    wait_until(T, "u before the restart", || {
        whole_lines(dir.join("control.log")) == ["u", "h", "u"]
    });
    control(&dir, b"d");
    wait_until(T, "t and d ran", || {
        whole_lines(dir.join("control.log")).len() == 5
    });
    assert_eq!(
        whole_lines(dir.join("control.log"))[3..],
        [format!("t {pid2}"), "d".to_string()]
    );
    // TERM was suppressed by control/t, CONT alone does not stop sleep.
    wait_handled(&dir, p.pid());
    assert!(alive(pid2 as i32));
    let st = read_status(&dir).unwrap();
    assert!(!st.got_term && st.want == b'd' && st.state == State::Run);
}

#[test]
fn pause_on_a_stopped_service_changes_nothing() {
    // §1.10: runit set the paused flag on a service that does not run.
    let s = Scratch::new("rs-pause");
    let dir = service(&s, "svc", "#!/bin/sh\nexec sleep 100\n");
    fs::write(dir.join("down"), "").unwrap();
    let _p = runsv(&s, Impl::Ours, &dir);
    wait_until(T, "supervised", || supervised(&dir));
    control(&dir, b"pu");
    let st = wait_status(&s, &dir, "running", |st| st.state == State::Run);
    assert!(!st.paused);
}

#[test]
fn sigterm_stops_service_then_logger_drains_every_line() {
    // §1.7: SIGTERM is x; the logger gets EOF once the service is gone and runsv exits 0.
    let s = Scratch::new("rs-term");
    let dir = service(
        &s,
        "svc",
        "#!/bin/sh\ntrap 'i=0; while [ $i -lt 2000 ]; do echo bye$i; i=$((i+1)); done; exit 0' TERM\necho hello\nwhile :; do sleep 0.05; done\n",
    );
    s.script("svc/log/run", "#!/bin/sh\nexec cat >out\n");
    let mut p = runsv(&s, Impl::Ours, &dir);
    wait_until(T, "hello logged", || {
        whole_lines(dir.join("log/out")) == ["hello"]
    });
    p.signal(Signal::SIGTERM);
    assert!(p.wait_timeout(T).success());
    let out = whole_lines(dir.join("log/out"));
    assert_eq!(out.len(), 2001);
    assert_eq!(out.last().unwrap(), "bye1999");
}

#[test]
fn log_pipe_survives_restarts_of_both_sides_without_losing_a_line() {
    // §1.3: one pipe, created and held by runsv; kill the service and the logger repeatedly.
    let s = Scratch::new("rs-pipe");
    let dir = service(
        &s,
        "svc",
        "#!/bin/sh\ni=0\nwhile [ $i -lt 30000 ]; do echo \"$$ $i\"; i=$((i+1)); done\nexec sleep 100\n",
    );
    s.mkdir("svc/log/main");
    // Our svlogd: runit's drops the last line of its final read on TERM (spec/svlogd.md §7),
    // which this test would count against runsv's pipe.
    s.script(
        "svc/log/run",
        &format!(
            "#!/bin/sh\nexec {} main\n",
            harness::bin("svlogd").display()
        ),
    );
    let _p = runsv(&s, Impl::Ours, &dir);
    let logdir = dir.join("log");
    for round in 0..2 {
        let svc = wait_run(&s, &dir);
        let log = wait_run(&s, &logdir);
        // Kill the logger in the middle of this run's lines, then the service: at once in the
        // first round, once the new logger is up in the second.
        wait_until(T, "this run's lines logged", || {
            log_text(&logdir.join("main")).contains(&format!("\n{svc} 1000\n"))
        });
        control(&logdir, b"t");
        if round == 1 {
            wait_until(T, "logger restarted", || {
                read_status(&dir.join("log")).is_some_and(|st| st.pid != log && st.pid != 0)
            });
        }
        control(&dir, b"k");
        wait_status(&s, &dir, "service restarted", |st| {
            st.pid != svc && st.pid != 0
        });
        wait_until(T, "logger restarted", || {
            read_status(&dir.join("log")).is_some_and(|st| st.pid != log && st.pid != 0)
        });
    }
    // Let the last run finish its lines, then stop everything and read the whole log.
    wait_until(Duration::from_secs(20), "last run complete", || {
        let text = log_text(&logdir.join("main"));
        let last = read_status(&dir).unwrap().pid;
        text.contains(&format!("{last} 29999\n"))
    });
    let text = log_text(&logdir.join("main"));
    let mut runs: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for line in text.lines() {
        let (pid, i) = line.split_once(' ').expect("whole line");
        runs.entry(pid.parse().unwrap())
            .or_default()
            .push(i.parse().unwrap());
    }
    assert_eq!(runs.len(), 3, "three runs of the service");
    for (pid, seq) in runs {
        let expected: Vec<u32> = (0..seq.len() as u32).collect();
        assert!(
            seq == expected,
            "run {pid}: lines lost, duplicated or reordered"
        );
    }
}

#[test]
fn notification_fd_readiness_is_recorded_and_cleared() {
    // s6's convention: a line on fd N makes the service ready (supervise/ready).
    let s = Scratch::new("rs-ready");
    let dir = service(
        &s,
        "svc",
        "#!/bin/sh\n[ -e go ] || sleep 0.3\necho >&5\nexec sleep 100\n",
    );
    fs::write(dir.join("notification-fd"), "5\n").unwrap();
    let _p = runsv(&s, Impl::Ours, &dir);
    let pid = wait_run(&s, &dir);
    wait_until(T, "ready", || {
        fs::read(dir.join("supervise/ready"))
            .ok()
            .and_then(|b| Ready::decode(&b))
            .is_some_and(|r| r.pid == pid)
    });
    control(&dir, b"d");
    wait_down(&s, &dir);
    assert!(
        !dir.join("supervise/ready").exists(),
        "ready removed when down"
    );
}

#[test]
fn timeout_kill_kills_a_service_that_ignores_term() {
    let s = Scratch::new("rs-tkill");
    let dir = service(&s, "svc", "#!/bin/sh\ntrap '' TERM\nexec sleep 100\n");
    fs::write(dir.join("timeout-kill"), "200\n").unwrap();
    let _p = runsv(&s, Impl::Ours, &dir);
    wait_run(&s, &dir);
    control(&dir, b"d");
    wait_down(&s, &dir);
}

#[test]
fn a_new_runsv_stops_the_orphan_of_a_killed_one() {
    // §4.2 / §9 item 8: runit's new runsv started a second copy.
    let s = Scratch::new("rs-orphan");
    let dir = service(&s, "svc", "#!/bin/sh\nexec sleep 4711\n");
    s.script("svc/log/run", "#!/bin/sh\nexec cat >out\n");
    let mut p = runsv(&s, Impl::Ours, &dir);
    let old = wait_run(&s, &dir);
    p.signal(Signal::SIGKILL);
    p.wait_timeout(T);
    assert!(alive(old as i32), "the orphan outlives its runsv");
    let _q = runsv(&s, Impl::Ours, &dir);
    let new = wait_status(&s, &dir, "a new run", |st| {
        st.state == State::Run && st.pid != old
    })
    .pid;
    wait_until(T, "orphan gone", || !alive(old as i32));
    // The new process may still be on its way from `sh ./run` to `exec sleep`; a second copy
    // would keep this from ever holding.
    wait_until(T, "exactly one copy", || {
        copies(None, &["sleep", "4711"]) == [new as i32]
    });
}

#[test]
fn a_log_directory_added_later_is_picked_up() {
    // §9 item 5 (g-pape/runit#36): runit needed a restart of runsv.
    let s = Scratch::new("rs-addlog");
    let dir = service(&s, "svc", "#!/bin/sh\necho line-$$\nexec sleep 100\n");
    let _p = runsv(&s, Impl::Ours, &dir);
    let pid = wait_run(&s, &dir);
    s.script("svc/log/run", "#!/bin/sh\nexec cat >out\n");
    control(&dir, &[formats::control::RECHECK_LOG]);
    wait_until(T, "log supervised", || supervised(&dir.join("log")));
    assert_eq!(read_status(&dir).unwrap().pid, pid, "service not restarted");
    control(&dir, b"t");
    let pid2 = wait_status(&s, &dir, "restarted", |st| st.pid != pid && st.pid != 0).pid;
    wait_until(T, "output in the new log", || {
        whole_lines(dir.join("log/out")) == [format!("line-{pid2}")]
    });
}

#[test]
fn supervise_removed_is_made_again_and_a_second_runsv_starts_no_duplicate() {
    // Issue 17 item 8: runit's runsv (and ours before) kept running the service without a
    // supervise/ to control it by, and a second runsv on the directory started a second copy.
    let s = Scratch::new("rs-supgone");
    let dir = service(&s, "svc", "#!/bin/sh\nexec sleep 4713\n");
    s.script("svc/log/run", "#!/bin/sh\nexec cat >out\n");
    let _p = runsv(&s, Impl::Ours, &dir);
    let pid = wait_run(&s, &dir);
    wait_until(T, "log supervised", || supervised(&dir.join("log")));
    fs::remove_dir_all(dir.join("supervise")).unwrap();
    fs::remove_dir_all(dir.join("log/supervise")).unwrap();
    // A second runsv (by hand, or a second runsvdir) must not start a copy.
    let mut second = start_in(&s, Impl::Ours.cmd("runsv").arg(&dir), Some("second.err"));
    let st = second.wait_timeout(T);
    assert_eq!(harness::code(st), 111);
    assert_eq!(
        harness::read_text(s.join("second.err")),
        format!(
            "runsv {}: fatal: unable to lock supervise/lock: temporary failure\n",
            dir.display()
        )
    );
    assert_eq!(copies(None, &["sleep", "4713"]), [pid as i32]);
    // The first runsv was woken by the second one, and made supervise/ again: it can be
    // controlled again, through runit's sv, for the service and its logger.
    wait_until(Duration::from_secs(20), "controllable again", || {
        sv_says_run(&s, &dir, pid)
    });
    wait_until(T, "log controllable again", || supervised(&dir.join("log")));
    let (_, code) = runit_sv(&s, &["down", dir.to_str().unwrap()]);
    assert_eq!(code, 0);
    wait_down(&s, &dir);
    assert!(!alive(pid as i32));
    let err = harness::read_text(s.join(runsv_err(Impl::Ours, &dir)));
    assert!(
        err.contains("warning: supervise was removed or replaced: made again"),
        "{err}"
    );
}

#[test]
fn supervise_replaced_by_a_link_is_made_again_at_the_next_wake_up() {
    // Issue 17 item 8: supervise/ moved away and replaced by a link to a fresh directory (the
    // tmpfs convention set up while the service runs). runsv has no timer for this: it looks
    // whenever it wakes up, here at the SIGCHLD runsvdir would send.
    let s = Scratch::new("rs-suplink");
    let dir = service(&s, "svc", "#!/bin/sh\nexec sleep 4714\n");
    let p = runsv(&s, Impl::Ours, &dir);
    let pid = wait_run(&s, &dir);
    fs::rename(dir.join("supervise"), s.join("old")).unwrap();
    s.mkdir("run");
    std::os::unix::fs::symlink("../run/supervise.svc", dir.join("supervise")).unwrap();
    p.signal(Signal::SIGCHLD);
    wait_until(Duration::from_secs(20), "controllable again", || {
        sv_says_run(&s, &dir, pid)
    });
    assert!(s.join("run/supervise.svc/lock").exists());
    // The old lock is let go.
    assert!(sys::lock::open(&s.join("old/lock"), false).is_ok());
    control(&dir, b"d");
    wait_down(&s, &dir);
    assert_eq!(copies(None, &["sleep", "4714"]), Vec::<i32>::new());
}

#[test]
fn another_users_lock_on_the_service_directory_is_not_honoured() {
    // runsv locks the service directory too (issue 17 item 8), and anyone who can read a
    // directory can flock it: a lock held by another user must not keep runsv from starting.
    let s = Scratch::new("rs-hostile-lock");
    let dir = service(&s, "svc", "#!/bin/sh\nexec sleep 100\n");
    let mut c = harness::cmd_clean(harness::reference("/usr/bin/setpriv").as_os_str());
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(harness::reference("/usr/bin/flock"))
        .args(["-n", "svc", "sleep", "1000"])
        .current_dir(&s.path);
    let _hostile = harness::Proc::spawn_group(&mut c);
    wait_until(T, "the other user's lock", || {
        supervise::runsv::guard::holder(&dir).is_some()
    });
    let _p = runsv(&s, Impl::Ours, &dir);
    wait_run(&s, &dir);
}

#[test]
fn signal_letters_reach_the_service() {
    // §1.6: `a i q 1 2` (and `h`) send ALRM, INT, QUIT, USR1, USR2 (HUP) to the service
    // itself, which goes on running; each arrives before the next letter is sent.
    let s = Scratch::new("rs-signals");
    let mut traps = String::new();
    for sig in ["ALRM", "INT", "QUIT", "USR1", "USR2", "HUP"] {
        traps.push_str(&format!("trap 'echo {sig} >>got' {sig}\n"));
    }
    // `wait` returns at once when a trapped signal comes.
    let dir = service(
        &s,
        "svc",
        &format!(
            "#!/bin/sh\n{traps}: >ready\nwhile :; do sleep 1000 & pid=$!; wait $pid; kill $pid; done\n"
        ),
    );
    let _p = runsv(&s, Impl::Ours, &dir);
    let pid = wait_run(&s, &dir);
    wait_until(T, "traps set", || dir.join("ready").exists());
    let mut want: Vec<String> = Vec::new();
    for (letter, sig) in [
        (b'a', "ALRM"),
        (b'i', "INT"),
        (b'q', "QUIT"),
        (b'1', "USR1"),
        (b'2', "USR2"),
        (b'h', "HUP"),
    ] {
        control(&dir, &[letter]);
        want.push(sig.to_string());
        wait_until(T, &format!("{} for {}", sig, letter as char), || {
            whole_lines(dir.join("got")) == want
        });
    }
    let st = read_status(&dir).unwrap();
    assert_eq!((st.pid, st.state), (pid, State::Run), "the service runs on");
}

#[test]
fn a_runsv_through_starts_stops_and_commands_never_makes_a_heap() {
    // One runsv per service: its few small allocations come from a static buffer
    // (sys::arena), so it never makes the C allocator's heap, whose first page would stay
    // private and dirty for the process's whole life (runit's runsv has none either).
    let s = Scratch::new("rs-no-heap");
    let dir = service(&s, "svc", "#!/bin/sh\nexec sleep 1000\n");
    s.script("svc/finish", "#!/bin/sh\nexit 0\n");
    s.script("svc/log/run", "#!/bin/sh\nexec cat >/dev/null\n");
    let p = runsv(&s, Impl::Ours, &dir);
    let logdir = dir.join("log");
    let first = wait_run(&s, &dir);
    let log = wait_run(&s, &logdir);
    // Restarts of both sides (with ./finish), down and up, a signal, status read back.
    control(&dir, b"t");
    let second = wait_status(&s, &dir, "service restarted", |st| {
        st.state == State::Run && st.pid != first && st.pid != 0
    })
    .pid;
    control(&logdir, b"k");
    wait_status(&s, &logdir, "logger restarted", |st| {
        st.pid != log && st.pid != 0
    });
    control(&dir, b"d");
    wait_down(&s, &dir);
    control(&dir, b"u");
    wait_status(&s, &dir, "service up again", |st| {
        st.state == State::Run && st.pid != second && st.pid != 0
    });
    control(&dir, b"pc");
    wait_handled(&dir, p.pid());
    let maps = harness::read_text(format!("/proc/{}/maps", p.pid()));
    assert!(
        !maps.lines().any(|l| l.ends_with("[heap]")),
        "runsv made a heap:\n{maps}"
    );
}
