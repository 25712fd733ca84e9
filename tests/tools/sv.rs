//! `sv` through the binary, side by side with runit's `/usr/bin/sv`, on directories run by
//! runit's runsv, ours and daemontools' supervise. See `spec/supervise.md` §5.

use crate::common::*;
use formats::status::State;
use harness::{
    bin, command, exec, mask_pids, read_status, reference, service, stderr, stdout, transcript,
    wait_run, wait_status, Scratch, WAIT,
};
use std::fs;
use std::path::Path;

fn sv_both(
    s: &Scratch,
    args: &[&str],
    env: &[(&str, &str)],
) -> (std::process::Output, std::process::Output) {
    (
        ours("sv", &s.path, args, env),
        theirs("/usr/bin/sv", &s.path, args, env),
    )
}

#[test]
fn usage_and_option_errors_match_runit() {
    let s = Scratch::new("sv-usage");
    for args in [
        &[][..],
        &["-x"],
        &["-V"],
        &["-w"],
        &["status"],
        &["bogus", "x"],
        &["rfoo", "x"],
        &["force", "x"],
        &["-v"],
    ] {
        let (o, t) = sv_both(&s, args, &[]);
        assert_same(&format!("sv {args:?}"), &o, &t);
    }
}

#[test]
fn status_lines_match_runit_for_every_state() {
    let s = Scratch::new("sv-status");
    let up = service(&s, "up", "#!/bin/sh\nexec sleep 100\n");
    s.script(up.join("log/run"), DISCARD_LOG);
    let nolog = service(&s, "nolog", "#!/bin/sh\nexec sleep 100\n");
    let dn = service(&s, "dn", "#!/bin/sh\nexec sleep 100\n");
    s.script(dn.join("log/run"), DISCARD_LOG);
    fs::write(dn.join("down"), "").unwrap();
    let paused = service(&s, "paused", "#!/bin/sh\nexec sleep 100\n");
    let stubborn = service(
        &s,
        "stubborn",
        "#!/bin/sh\ntrap '' TERM\n: >trapped\nwhile :; do sleep 0.1; done\n",
    );
    let _p: Vec<_> = [&up, &nolog, &dn, &paused, &stubborn]
        .iter()
        .map(|d| supervise(&s, Sup::Runit, d))
        .collect();
    wait_run(&s, &up);
    wait_run(&s, &nolog);
    wait_run(&s, &paused);
    wait_run(&s, &stubborn);
    // A TERM before the shell ignores it would end the service instead.
    harness::wait_until(WAIT, "stubborn ignores TERM", || {
        stubborn.join("trapped").exists()
    });
    wait_run(&s, &up.join("log"));
    formats::control::send(&paused, b"p").unwrap();
    wait_status(&s, &paused, "paused", |st| st.paused);
    formats::control::send(&stubborn, b"d").unwrap();
    wait_status(&s, &stubborn, "got TERM", |st| st.got_term);
    dead_service(&s, "dead");
    s.mkdir("unsupervised");
    let bad = dead_service(&s, "bad");
    fs::write(bad.join("supervise/status"), b"short").unwrap();
    let _reader = hold_ok(&bad);
    let args = [
        "status",
        "./up",
        "./nolog",
        "./dn",
        "./paused",
        "./stubborn",
        "./dead",
        "./unsupervised",
        "./bad",
        "./missing",
        "up/",
    ];
    let (o, t) = sv_both(&s, &args, &[]);
    assert_same("sv status over every state", &o, &t);
    assert_eq!(harness::code(o.status), 4);
    // Bare names go through SVDIR; `NAME/log` addresses the log service.
    let env = [("SVDIR", s.path.to_str().unwrap())];
    let (o, t) = sv_both(&s, &["s", "up", "up/log", "nolog", "missing"], &env);
    assert_same("sv status through SVDIR", &o, &t);
    assert!(stdout(&o).contains("run: up/log: (pid "), "{}", stdout(&o));
}

#[test]
fn control_commands_do_what_runits_do() {
    let s = Scratch::new("sv-control");
    // The signal commands must not kill the service, or restarts make the runs diverge.
    let body = "#!/bin/sh\ntrap '' HUP ALRM INT USR1 USR2\nexec sleep 100\n";
    let a = service(&s, "a", body);
    s.script(a.join("log/run"), DISCARD_LOG);
    let b = service(&s, "b", body);
    s.script(b.join("log/run"), DISCARD_LOG);
    let _pa = supervise(&s, Sup::Runit, &a);
    let _pb = supervise(&s, Sup::Runit, &b);
    wait_run(&s, &a);
    wait_run(&s, &b);
    for cmd in [
        "down",
        "up",
        "pause",
        "cont",
        "hup",
        "alarm",
        "interrupt",
        "1",
        "2",
        "once",
        "down",
        "start",
        "stop",
        "o",
        "d",
        "status",
        "reload",
    ] {
        let o = ours("sv", &s.path, &["-w", "5", cmd, "./a"], &[]);
        let t = theirs("/usr/bin/sv", &s.path, &["-w", "5", cmd, "./b"], &[]);
        assert_same(&format!("sv -w 5 {cmd}"), &o, &{
            let mut t = t;
            t.stdout = stdout(&t).replace("./b", "./a").into_bytes();
            t
        });
        let sa = ours("sv", &s.path, &["status", "./a"], &[]);
        let sb = ours("sv", &s.path, &["status", "./b"], &[]);
        harness::assert_text_eq(
            &format!("state after {cmd}"),
            &mask_pids(&stdout(&sb).replace("./b", "./a")),
            &mask_pids(&stdout(&sa)),
        );
    }
    // exit: runsv goes away, and a second exit says so with "ok".
    let o = ours("sv", &s.path, &["-w", "5", "exit", "./a"], &[]);
    assert_eq!(stdout(&o), "ok: ./a: runsv not running\n");
    let (o, t) = sv_both(&s, &["exit", "./a"], &[]);
    assert_same("exit on a dead runsv", &o, &t);
    let (o, t) = sv_both(&s, &["up", "./a"], &[]);
    assert_same("up on a dead runsv", &o, &t);
    assert_eq!(harness::code(o.status), 1);
}

fn restart_waits_for_the_new_process(sup: Sup) {
    let s = Scratch::new("sv-restart");
    let a = service(&s, "a", "#!/bin/sh\nexec sleep 100\n");
    let _p = supervise(&s, sup, &a);
    let before = wait_run(&s, &a);
    let o = ours("sv", &s.path, &["restart", "./a"], &[]);
    assert_eq!(harness::code(o.status), 0, "{}", transcript(&o));
    let after = read_status(&a).unwrap().pid;
    assert_ne!(after, before, "sv restart returned before the restart");
    assert!(
        stdout(&o).contains(&format!("ok: run: ./a: (pid {after}) ")),
        "{}",
        stdout(&o)
    );
    // term waits the same way.
    let o = ours("sv", &s.path, &["-w", "5", "term", "./a"], &[]);
    assert_eq!(harness::code(o.status), 0, "{}", transcript(&o));
    assert_ne!(read_status(&a).unwrap().pid, after);
}

#[test]
fn restart_waits_for_the_new_process_runit() {
    restart_waits_for_the_new_process(Sup::Runit);
}

#[test]
fn restart_waits_for_the_new_process_ours() {
    restart_waits_for_the_new_process(Sup::Ours);
}

/// See: void-linux/runit#33. While runsv sleeps after a fast crash, `sv down` is queued and a
/// following `sv up` reads a stale "want up"; runit's sv then sends nothing.
#[test]
fn up_after_down_is_not_lost_while_runsv_sleeps() {
    let s = Scratch::new("sv-race");
    let a = service(&s, "a", "#!/bin/sh\nexit 1\n");
    let _p = supervise(&s, Sup::Runit, &a);
    for _ in 0..3 {
        let d = ours("sv", &s.path, &["down", "./a"], &[]);
        let u = ours("sv", &s.path, &["up", "./a"], &[]);
        assert_eq!(harness::code(d.status) + harness::code(u.status), 0);
        wait_status(&s, &a, "want up after down+up", |st| st.want == b'u');
        // Once runsv has read everything queued, it must end up wanting up: the `u` read last
        // is published a moment after the read, so wait for it (a lost `u` never comes).
        wait_until_fifo_drained(&a);
        wait_status(&s, &a, "want up once the FIFO is read", |st| {
            st.want == b'u'
        });
    }
}

/// Waits until runsv has read every byte of its control FIFO (runit's runsv may be asleep in
/// its throttle, not in poll, so [`harness::wait_handled`] would not do).
fn wait_until_fifo_drained(dir: &Path) {
    let f = formats::control::open_writer(&dir.join("supervise/control")).unwrap();
    harness::wait_until(WAIT, "control FIFO read by runsv", || {
        tools::sv::fifo_pending(&f) == Some(0)
    });
}

#[test]
fn check_script_decides_when_a_service_is_up() {
    let s = Scratch::new("sv-check");
    let a = service(&s, "a", "#!/bin/sh\nexec sleep 100\n");
    s.script("a/check", "#!/bin/sh\ntest -e ready-flag\n");
    fs::write(a.join("down"), "").unwrap();
    let _p = supervise(&s, Sup::Runit, &a);
    let o = ours("sv", &s.path, &["-w", "1", "up", "./a"], &[]);
    assert!(
        stdout(&o).starts_with("timeout: run: ./a: (pid "),
        "{}",
        transcript(&o)
    );
    assert_eq!(harness::code(o.status), 1);
    fs::write(a.join("ready-flag"), "").unwrap();
    let o = ours("sv", &s.path, &["-w", "5", "up", "./a"], &[]);
    assert!(
        stdout(&o).starts_with("ok: run: ./a: (pid "),
        "{}",
        transcript(&o)
    );
    let (o, t) = sv_both(&s, &["check", "./a"], &[]);
    assert_same("sv check", &o, &t);
    // A check that cannot be run counts as success, with a warning on stderr.
    fs::write(a.join("check"), "#!/bin/sh\nexit 1\n").unwrap();
    fs::set_permissions(
        a.join("check"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let (o, t) = sv_both(&s, &["-w", "2", "check", "./a"], &[]);
    assert_same("non-executable check", &o, &t);
    assert!(stderr(&o).contains("warning: unable to run ./a/check: access denied"));
}

#[test]
fn sv_timeout_file_gives_a_service_its_own_wait() {
    let s = Scratch::new("sv-timeout");
    let a = service(
        &s,
        "a",
        "#!/bin/sh\ntrap '' TERM\n: >trapped\nwhile :; do sleep 0.1; done\n",
    );
    fs::write(a.join("sv-timeout"), "1\n").unwrap();
    let _p = supervise(&s, Sup::Runit, &a);
    wait_run(&s, &a);
    harness::wait_until(WAIT, "a ignores TERM", || a.join("trapped").exists());
    // The harness bounds the command (15 times the file's wait): the $SVWAIT of 120 s would
    // not fit in this one.
    let bound = std::time::Duration::from_secs(15);
    let mut cmd = command(&bin("sv"), &s.path, &["stop", "./a"], &[("SVWAIT", "120")]);
    let o = harness::run(&mut cmd, bound);
    assert!(
        stdout(&o).starts_with("timeout: run: ./a: (pid "),
        "{}",
        transcript(&o)
    );
    assert!(
        stdout(&o).contains(", want down, got TERM"),
        "{}",
        stdout(&o)
    );
    assert_eq!(harness::code(o.status), 1);
    // -w overrides the file; force-stop kills after the wait.
    fs::write(a.join("sv-timeout"), "100\n").unwrap();
    let mut cmd = command(&bin("sv"), &s.path, &["-w", "1", "force-stop", "./a"], &[]);
    let o = harness::run(&mut cmd, bound);
    assert!(
        stdout(&o).starts_with("kill: run: ./a: (pid "),
        "{}",
        transcript(&o)
    );
    wait_status(&s, &a, "killed", |st| {
        st.pid == 0 && st.state == State::Down
    });
}

#[test]
fn svwait_alone_sets_the_wait() {
    // $SVWAIT, with no `sv-timeout` file and no -w: sv waits that long, not its default 7 s.
    // Two services ignore TERM; `sv stop` with SVWAIT=600 on one, then a plain `sv stop` on
    // the other: the plain one gives up (after the default) while the first still waits, and
    // the first sees its service go down once it lets itself be stopped.
    let s = Scratch::new("sv-svwait");
    let body = "#!/bin/sh\ntrap '' TERM\n: >trapped\nwhile [ ! -e release ]; do sleep 0.05; done\n";
    let a = service(&s, "a", body);
    let b = service(&s, "b", body);
    let _pa = supervise(&s, Sup::Ours, &a);
    let _pb = supervise(&s, Sup::Ours, &b);
    for d in [&a, &b] {
        wait_run(&s, d);
        harness::wait_until(WAIT, "TERM ignored", || d.join("trapped").exists());
    }
    let mut cmd = command(&bin("sv"), &s.path, &["stop", "./a"], &[("SVWAIT", "600")]);
    cmd.stdout(std::process::Stdio::piped());
    let mut long = harness::Proc::spawn(&mut cmd);
    // It has sent `d` and waits.
    wait_status(&s, &a, "a asked down", |st| st.want == b'd');
    harness::wait_idle_in_syscall(long.pid(), WAIT);
    let o = harness::run(
        &mut command(&bin("sv"), &s.path, &["stop", "./b"], &[]),
        std::time::Duration::from_secs(70),
    );
    assert!(
        stdout(&o).starts_with("timeout: run: ./b: (pid "),
        "{}",
        transcript(&o)
    );
    assert!(
        long.is_running(),
        "SVWAIT=600 gave up with the default wait"
    );
    fs::write(a.join("release"), "").unwrap();
    fs::write(b.join("release"), "").unwrap();
    let st = long.wait_timeout(WAIT);
    let mut out = String::new();
    std::io::Read::read_to_string(long.child.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert!(out.starts_with("ok: down: ./a: "), "{out}");
    assert!(st.success());
}

#[test]
fn init_script_mode() {
    let s = Scratch::new("sv-lsb");
    let svdir = s.mkdir("service");
    let up = service(&s, "service/web", "#!/bin/sh\nexec sleep 100\n");
    s.script(up.join("log/run"), DISCARD_LOG);
    let down = service(&s, "service/db", "#!/bin/sh\nexec sleep 100\n");
    s.script(down.join("log/run"), DISCARD_LOG);
    fs::write(down.join("down"), "").unwrap();
    dead_service(&s, "service/gone");
    s.mkdir("service/new");
    let _p1 = supervise(&s, Sup::Runit, &up);
    let _p2 = supervise(&s, Sup::Runit, &down);
    wait_run(&s, &up);
    wait_run(&s, &down.join("log"));
    let env = [("SVDIR", svdir.to_str().unwrap())];
    let init = s.mkdir("init.d");
    let refs = s.mkdir("ref.d");
    for name in ["web", "db", "gone", "new", "nothere"] {
        std::os::unix::fs::symlink(bin("sv"), init.join(name)).unwrap();
        std::os::unix::fs::symlink(reference("/usr/bin/sv"), refs.join(name)).unwrap();
    }
    let lsb = |dir: &Path, name: &str, args: &[&str]| exec(&dir.join(name), &s.path, args, &env);
    let code = |o: &std::process::Output| harness::code(o.status);
    // status: 0 running, 3 down (runit 2.1.2 answers the log's 0 here), 1 no runsv, 4 unreadable.
    assert_eq!(code(&lsb(&init, "web", &["status"])), 0);
    let o = lsb(&init, "db", &["status"]);
    assert_eq!(code(&o), 3, "{}", transcript(&o));
    assert_eq!(
        code(&lsb(&refs, "db", &["status"])),
        0,
        "runit 2.1.2's log-masking bug"
    );
    for (name, args) in [
        ("gone", &["status"][..]),
        ("new", &["status"]),
        ("nothere", &["status"]),
        ("web", &["stat"]),
        ("web", &[]),
        ("web", &["-x", "status"]),
        ("web", &["bogus"]),
        ("web", &["-w", "3", "restart", "ignored"]),
    ] {
        let o = lsb(&init, name, args);
        let t = lsb(&refs, name, args);
        assert_same(&format!("{name} {args:?}"), &o, &t);
    }
}

#[test]
fn daemontools_directories_are_a_bad_format_for_sv() {
    let s = Scratch::new("sv-daemontools");
    let a = service(&s, "a", "#!/bin/sh\nexec sleep 100\n");
    let _p = supervise(&s, Sup::Daemontools, &a);
    let (o, t) = sv_both(&s, &["status", "./a"], &[]);
    assert_same("sv status on a daemontools directory", &o, &t);
    assert!(stdout(&o).contains("bad format"));
}

#[test]
fn status_matches_runit_on_our_runsv() {
    let s = Scratch::new("sv-ours");
    let a = service(&s, "a", "#!/bin/sh\nexec sleep 100\n");
    s.script(a.join("log/run"), DISCARD_LOG);
    let b = service(&s, "b", "#!/bin/sh\nexec sleep 100\n");
    s.script(b.join("log/run"), DISCARD_LOG);
    fs::write(b.join("down"), "").unwrap();
    let _pa = supervise(&s, Sup::Ours, &a);
    let _pb = supervise(&s, Sup::Ours, &b);
    wait_run(&s, &a);
    wait_run(&s, &b.join("log"));
    let (o, t) = sv_both(&s, &["status", "./a", "./b"], &[]);
    assert_same("sv status on our runsv", &o, &t);
    for cmd in ["up", "pause", "cont", "down", "once"] {
        let (o, t) = sv_both(&s, &["-w", "5", cmd, "./b"], &[]);
        assert_same(&format!("sv -w 5 {cmd} on our runsv"), &o, &t);
    }
    let o = ours("sv", &s.path, &["-w", "5", "exit", "./a", "./b"], &[]);
    let mut lines: Vec<String> = stdout(&o).lines().map(String::from).collect();
    lines.sort();
    assert_eq!(
        lines,
        ["ok: ./a: runsv not running", "ok: ./b: runsv not running"]
    );
}

/// With a `notification-fd` file, "up" means ready: sv waits for `supervise/ready`.
#[test]
fn up_waits_for_readiness_on_our_runsv() {
    let s = Scratch::new("sv-ready");
    let a = service(&s, "a", "#!/bin/sh\nsleep 0.5\necho >&3\nexec sleep 100\n");
    fs::write(a.join("notification-fd"), "3\n").unwrap();
    fs::write(a.join("down"), "").unwrap();
    let _p = supervise(&s, Sup::Ours, &a);
    let o = ours("sv", &s.path, &["-w", "5", "up", "./a"], &[]);
    assert!(
        stdout(&o).starts_with("ok: run: ./a: (pid "),
        "{}",
        transcript(&o)
    );
    let st = read_status(&a).unwrap();
    let ready = formats::status::Ready::read_for(&a.join("supervise"), &st);
    assert!(ready.is_some(), "sv returned before the service was ready");
}

fn finish_state_is_reported(sup: Sup) {
    let s = Scratch::new("sv-finish");
    let a = service(&s, "a", "#!/bin/sh\nexec sleep 100\n");
    s.script(a.join("log/run"), DISCARD_LOG);
    s.script("a/finish", "#!/bin/sh\nexec sleep 100\n");
    let _p = supervise(&s, sup, &a);
    wait_run(&s, &a);
    formats::control::send(&a, b"d").unwrap();
    wait_status(&s, &a, "finish running", |st| {
        st.state == State::Finish && st.pid != 0
    });
    let (o, t) = sv_both(&s, &["status", "./a"], &[]);
    assert_same(&format!("finish state on {sup:?}"), &o, &t);
    assert!(
        stdout(&o).starts_with("finish: ./a: (pid "),
        "{}",
        stdout(&o)
    );
    // down waits for finish to end too.
    let o = ours("sv", &s.path, &["-w", "1", "down", "./a"], &[]);
    assert!(
        stdout(&o).starts_with("timeout: finish: ./a: (pid "),
        "{}",
        transcript(&o)
    );
}

#[test]
fn finish_state_is_reported_runit() {
    finish_state_is_reported(Sup::Runit);
}

#[test]
fn finish_state_is_reported_ours() {
    finish_state_is_reported(Sup::Ours);
}
