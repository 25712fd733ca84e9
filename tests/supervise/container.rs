//! Container mode: runsvdir as process 1 of a pid namespace reaps orphans and, on SIGTERM,
//! stops every service, lets every logger drain, and exits 0 within a bound.

use harness::{
    as_pid1, children, code, forking_daemon, service, signal, start_in, wait_run, wait_until,
    wait_until_or, whole_lines, Impl, Scratch, WAIT as T,
};
use nix::sys::signal::Signal;
use std::fs;
use std::time::Duration;

#[test]
fn as_pid_one_sigterm_stops_services_then_loggers_and_exits_zero() {
    let s = Scratch::new("ct-pid1");
    service(
        &s,
        "sv/a",
        "#!/bin/sh\ntrap 'echo bye; exit 0' TERM\necho hi\nwhile :; do sleep 0.05; done\n",
    );
    s.script("sv/a/log/run", "#!/bin/sh\nexec cat >out\n");
    // b ignores TERM: only the bound ends it.
    service(&s, "sv/b", "#!/bin/sh\ntrap '' TERM\nexec sleep 1000\n");
    let mut c = as_pid1(Impl::Ours, "runsvdir");
    c.arg("sv").env("RUNSVDIR_SHUTDOWN_TIMEOUT", "1500");
    let mut p = start_in(&s, &mut c, Some("runsvdir.err"));
    let a = s.join("sv/a");
    wait_until(T, "hi logged", || whole_lines(a.join("log/out")) == ["hi"]);
    wait_run(&s, &s.join("sv/b"));
    let init = *children(p.pid())
        .first()
        .expect("runsvdir in the namespace");
    signal(init, Signal::SIGTERM);
    // b ignores TERM for ever: only the bound (1.5 s) ends the shutdown, and says so.
    let st = p.wait_timeout(Duration::from_secs(30));
    let err = harness::read_text(s.join("runsvdir.err"));
    assert_eq!(code(st), 0, "{err}");
    assert!(
        err.contains("shutdown timed out: killing what is left"),
        "{err}"
    );
    assert_eq!(
        whole_lines(a.join("log/out")),
        ["hi", "bye"],
        "service stopped, logger drained"
    );
}

#[test]
fn without_pid_one_the_env_selects_container_mode() {
    let s = Scratch::new("ct-env");
    service(
        &s,
        "sv/a",
        "#!/bin/sh\ntrap 'echo bye; exit 0' TERM\necho hi\nwhile :; do sleep 0.05; done\n",
    );
    s.script("sv/a/log/run", "#!/bin/sh\nexec cat >out\n");
    let mut c = Impl::Ours.cmd("runsvdir");
    c.arg("sv").env("RUNSVDIR_CONTAINER", "1");
    let mut p = start_in(&s, &mut c, Some("runsvdir.err"));
    let a = s.join("sv/a");
    wait_until(T, "hi logged", || whole_lines(a.join("log/out")) == ["hi"]);
    // Under load the service can print before runsv has recorded its pid.
    let svc = wait_run(&s, &a);
    // The service does not see runsvdir's setting.
    let env = fs::read(format!("/proc/{svc}/environ")).unwrap();
    assert!(!String::from_utf8_lossy(&env).contains("RUNSVDIR_CONTAINER"));
    p.signal(Signal::SIGTERM);
    assert_eq!(code(p.wait_timeout(T)), 0);
    assert_eq!(whole_lines(a.join("log/out")), ["hi", "bye"]);
}

fn orphan_pid(s: &Scratch, name: &str) -> i32 {
    let mut pid = 0;
    wait_until(T, "the daemon's pid", || {
        pid = harness::read_text(s.join(format!("{name}.pid")))
            .trim()
            .parse()
            .unwrap_or(0);
        pid > 0
    });
    pid
}

#[test]
fn outside_pid_one_adopted_orphans_get_term_and_none_is_left_behind() {
    // Issue 17 item 6: with RUNSVDIR_CONTAINER=1 a double-forked daemon was re-parented to
    // runsvdir (a child subreaper) and, when runsvdir exited, to the host's init, still
    // running. Now it gets TERM with the services, and one that ignores it KILL at the bound.
    let s = Scratch::new("ct-orphans");
    // Daemons that double-fork (re-parented to runsvdir) and write nothing to the log pipe.
    for (name, ignore_term) in [("a", false), ("b", true)] {
        let daemon = forking_daemon(name, ignore_term);
        service(
            &s,
            &format!("sv/{name}"),
            &format!("#!/bin/sh\n{daemon}exec sleep 1000\n"),
        );
    }
    let mut c = Impl::Ours.cmd("runsvdir");
    c.arg("sv")
        .env("RUNSVDIR_CONTAINER", "1")
        .env("RUNSVDIR_SHUTDOWN_TIMEOUT", "1500");
    let mut p = start_in(&s, &mut c, Some("runsvdir.err"));
    let (a, b) = (orphan_pid(&s, "a"), orphan_pid(&s, "b"));
    wait_until(T, "adopted by runsvdir", || {
        let kids = children(p.pid());
        kids.contains(&a) && kids.contains(&b)
    });
    p.signal(Signal::SIGTERM);
    assert_eq!(code(p.wait_timeout(Duration::from_secs(20))), 0);
    assert_eq!(harness::read_text(s.join("a.term")), "term\n", "a got TERM");
    assert!(!harness::alive(a), "a is gone");
    // b ignored TERM: KILLed at the bound, not left to the host's init.
    assert!(!harness::alive(b), "b is gone");
}

#[test]
fn as_pid_one_an_orphan_gets_term_before_the_end() {
    // Issue 17 item 6: as process 1, the daemon got no TERM, only the kernel's KILL when
    // runsvdir exited.
    let s = Scratch::new("ct-pid1-orphan");
    let daemon = forking_daemon("a", false);
    service(&s, "sv/a", &format!("#!/bin/sh\n{daemon}exec sleep 1000\n"));
    let mut c = as_pid1(Impl::Ours, "runsvdir");
    c.arg("sv");
    let mut p = start_in(&s, &mut c, Some("runsvdir.err"));
    wait_until(T, "the daemon's pid", || s.join("a.pid").exists());
    wait_until(T, "runsvdir in the namespace", || {
        !children(p.pid()).is_empty()
    });
    let init = children(p.pid())[0];
    signal(init, Signal::SIGTERM);
    assert_eq!(code(p.wait_timeout(Duration::from_secs(20))), 0);
    assert_eq!(harness::read_text(s.join("a.term")), "term\n", "a got TERM");
}

#[test]
fn as_pid_one_orphans_are_reaped() {
    // 50 orphans of a service (each started by a subshell that exits at once) belong to
    // runsvdir, process 1 of the namespace. When they die, none stays a zombie.
    let s = Scratch::new("ct-reap");
    service(
        &s,
        "sv/a",
        "#!/bin/sh\ni=0\nwhile [ $i -lt 50 ]; do (exec sleep 4713 &); i=$((i+1)); done\nexec sleep 1000\n",
    );
    let mut c = as_pid1(Impl::Ours, "runsvdir");
    c.arg("sv");
    let p = start_in(&s, &mut c, Some("runsvdir.err"));
    wait_run(&s, &s.join("sv/a"));
    let init = *children(p.pid())
        .first()
        .expect("runsvdir in the namespace");
    let orphans = || -> Vec<i32> {
        harness::child_pids(init)
            .into_iter()
            .filter(|&pid| harness::runs_argv(pid, &["sleep", "4713"]))
            .collect()
    };
    wait_until(T, "50 orphans re-parented to runsvdir", || {
        orphans().len() == 50
    });
    for pid in orphans() {
        signal(pid, Signal::SIGKILL);
    }
    // A zombie's command line is empty: count every zombie child of runsvdir.
    let zombies = || {
        harness::child_pids(init)
            .into_iter()
            .filter(|&p| harness::zombie(p))
            .count()
    };
    wait_until_or(
        T,
        "every orphan reaped",
        &mut || orphans().is_empty() && zombies() == 0,
        || format!("{} zombies left", zombies()),
    );
    // runsv and its service are still there.
    assert!(harness::alive(init));
    wait_run(&s, &s.join("sv/a"));
}
