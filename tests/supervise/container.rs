//! Container mode: runsvdir as process 1 of a pid namespace reaps orphans and, on SIGTERM,
//! stops every service, lets every logger drain, and exits 0 within a bound.

use crate::common::*;
use harness::{code, wait_until, wait_until_or, Proc, Scratch};
use nix::sys::signal::Signal;
use std::fs;
use std::process::Stdio;
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
    let err = fs::File::create(s.join("runsvdir.err")).unwrap();
    let mut c = harness::cmd_clean(harness::reference("/usr/bin/unshare").as_os_str());
    c.args(["--pid", "--fork", "--mount-proc"])
        .arg(harness::bin("runsvdir"))
        .arg("sv")
        .env("RUNSVDIR_SHUTDOWN_TIMEOUT", "1500")
        .current_dir(&s.path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err);
    let mut p = Proc::spawn_group(&mut c);
    let a = s.join("sv/a");
    wait_until(T, "hi logged", || lines(&a.join("log/out")) == ["hi"]);
    wait_run(&s, &s.join("sv/b"));
    let init = *children(p.pid())
        .first()
        .expect("runsvdir in the namespace");
    kill(init, Signal::SIGTERM);
    // b ignores TERM for ever: only the bound (1.5 s) ends the shutdown, and says so.
    let st = p.wait_timeout(Duration::from_secs(30));
    let err = harness::read_text(s.join("runsvdir.err"));
    assert_eq!(code(st), 0, "{err}");
    assert!(
        err.contains("shutdown timed out: killing what is left"),
        "{err}"
    );
    assert_eq!(
        lines(&a.join("log/out")),
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
    let err = fs::File::create(s.join("runsvdir.err")).unwrap();
    let mut c = ours_in(&s, "runsvdir");
    c.arg("sv")
        .env("RUNSVDIR_CONTAINER", "1")
        .stdin(Stdio::null())
        .stderr(err);
    let mut p = Proc::spawn_group(&mut c);
    let a = s.join("sv/a");
    wait_until(T, "hi logged", || lines(&a.join("log/out")) == ["hi"]);
    // Under load the service can print before runsv has recorded its pid.
    let svc = wait_run(&s, &a);
    // The service does not see runsvdir's setting.
    let env = fs::read(format!("/proc/{svc}/environ")).unwrap();
    assert!(!String::from_utf8_lossy(&env).contains("RUNSVDIR_CONTAINER"));
    p.signal(Signal::SIGTERM);
    assert_eq!(code(p.wait_timeout(T)), 0);
    assert_eq!(lines(&a.join("log/out")), ["hi", "bye"]);
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
    let err = fs::File::create(s.join("runsvdir.err")).unwrap();
    let mut c = harness::cmd_clean(harness::reference("/usr/bin/unshare").as_os_str());
    c.args(["--pid", "--fork", "--mount-proc"])
        .arg(harness::bin("runsvdir"))
        .arg("sv")
        .current_dir(&s.path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err);
    let p = Proc::spawn_group(&mut c);
    wait_run(&s, &s.join("sv/a"));
    let init = *children(p.pid())
        .first()
        .expect("runsvdir in the namespace");
    let orphans = || -> Vec<i32> {
        harness::child_pids(init)
            .into_iter()
            .filter(|&pid| {
                harness::read_text(format!("/proc/{pid}/cmdline")) == "sleep\x004713\x00"
            })
            .collect()
    };
    wait_until(T, "50 orphans re-parented to runsvdir", || {
        orphans().len() == 50
    });
    for pid in orphans() {
        kill(pid, Signal::SIGKILL);
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
