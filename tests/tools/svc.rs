//! `svc`, `svok` and `svstat` through the binaries, side by side with daemontools' on
//! directories run by runit's runsv, ours and daemontools' supervise (`spec/supervise.md` §6).

use crate::common::*;
use formats::status::{State, Status};
use harness::{
    mask_pids, read_status, read_status_any, running, service, stdout, transcript, wait_run,
    wait_status, wait_status_by, Scratch, SILENT_OK, WAIT,
};
use std::fs;
use std::path::Path;
use std::process::Output;

fn both(s: &Scratch, tool: &str, args: &[&str], env: &[(&str, &str)]) -> (Output, Output) {
    (
        ours(tool, &s.path, args, env),
        theirs(&format!("/usr/bin/{tool}"), &s.path, args, env),
    )
}

#[test]
fn messages_and_exit_codes_match_daemontools() {
    let s = Scratch::new("svc-messages");
    let live = service(&s, "live", "#!/bin/sh\nexec sleep 100\n");
    let _p = supervise(&s, Sup::Runit, &live);
    dead_service(&s, "dead");
    s.mkdir("unsupervised");
    s.write("file", "");
    let short = dead_service(&s, "short");
    fs::write(short.join("supervise/status"), b"0123456789").unwrap();
    let _r = hold_ok(&short);
    let cases: &[(&str, &[&str])] = &[
        ("svc", &[]),
        ("svc", &["-z", "live"]),
        ("svc", &["-u"]),
        (
            "svc",
            &[
                "-h",
                "./missing",
                "./unsupervised",
                "./dead",
                "./file",
                "live/run",
            ],
        ),
        ("svc", &["--", "./live"]),
        ("svok", &[]),
        ("svok", &["./live"]),
        ("svok", &["./dead"]),
        ("svok", &["./unsupervised"]),
        ("svok", &["./missing"]),
        ("svok", &["./file"]),
        ("svok", &["-x"]),
        ("svstat", &[]),
        (
            "svstat",
            &[
                "./live",
                "./dead",
                "./unsupervised",
                "./missing",
                "./file",
                "./short",
                "-x",
            ],
        ),
    ];
    for (tool, args) in cases {
        let (o, t) = both(&s, tool, args, &[]);
        assert_same(&format!("{tool} {args:?}"), &o, &t);
    }
}

#[test]
fn svok_never_hangs_on_a_dead_supervisor() {
    let s = Scratch::new("svok-dead");
    dead_service(&s, "dead");
    // The harness bounds the run; busybox's svok blocks here for ever.
    let o = ours("svok", &s.path, &["./dead"], &[]);
    assert_eq!(harness::code(o.status), 100);
}

fn states_over(sup: Sup) {
    let s = Scratch::new("svstat-states");
    let a = service(&s, "a", "#!/bin/sh\nexec sleep 100\n");
    let dn = service(&s, "dn", "#!/bin/sh\nexec sleep 100\n");
    fs::write(dn.join("down"), "").unwrap();
    let _pa = supervise(&s, sup, &a);
    let _pd = supervise(&s, sup, &dn);
    // daemontools' supervise writes its own record: read as svstat reads it.
    let wait = |dir: &Path, what: &str, pred: &dyn Fn(&Status) -> bool| {
        wait_status_by(&s, what, WAIT, || read_status_any(dir), pred)
    };
    wait(&a, "a running", &running(0));
    let args = ["./a", "./dn"];
    let (o, t) = both(&s, "svstat", &args, &[]);
    assert_same(&format!("svstat on {sup:?}, first"), &o, &t);
    assert!(stdout(&o).contains("./dn: down "), "{}", stdout(&o));
    // Each command through our svc, then the same view from both svstats.
    for (letters, what) in [
        ("-p", "paused"),
        ("-c", "continued"),
        ("-u", "dn up"),
        ("-d", "down"),
    ] {
        let target = if what == "dn up" { "./dn" } else { "./a" };
        let o = ours("svc", &s.path, &[letters, target], &[]);
        assert_eq!(transcript(&o), SILENT_OK);
        let dir = s.join(target);
        match what {
            "paused" => wait(&dir, what, &|st| st.paused),
            "continued" => wait(&dir, what, &|st| !st.paused),
            "dn up" => wait(&dir, what, &|st| st.pid != 0),
            _ => wait(&dir, what, &|st| st.pid == 0),
        };
        let (o, t) = both(&s, "svstat", &args, &[]);
        assert_same(&format!("svstat on {sup:?} after svc {letters}"), &o, &t);
    }
    // -t restarts (a new pid) on a service that wants up.
    let before = wait(&dn, "dn running", &running(0)).pid;
    ours("svc", &s.path, &["-t", "./dn"], &[]);
    wait(&dn, "restarted", &|st| st.pid != 0 && st.pid != before);
    // -o: once; -k: killed and not restarted.
    ours("svc", &s.path, &["-o", "./a"], &[]);
    let pid = wait(&a, "a running", &running(0)).pid;
    ours("svc", &s.path, &["-k", "./a"], &[]);
    wait(&a, "killed once-service stays down", &|st| st.pid == 0);
    assert_ne!(pid, 0);
    // -dx: down and exit the supervisor.
    ours("svc", &s.path, &["-dx", "./a", "./dn"], &[]);
    harness::wait_until(WAIT, "supervisors gone", || {
        formats::control::probe(&a).is_err() && formats::control::probe(&dn).is_err()
    });
    let (o, t) = both(&s, "svstat", &args, &[]);
    assert_same(&format!("svstat on {sup:?} after exit"), &o, &t);
    assert_eq!(
        stdout(&o),
        "./a: supervise not running\n./dn: supervise not running\n"
    );
}

#[test]
fn svc_and_svstat_on_runits_runsv() {
    states_over(Sup::Runit);
}

#[test]
fn svc_and_svstat_on_our_runsv() {
    states_over(Sup::Ours);
}

#[test]
fn svc_and_svstat_on_daemontools_supervise() {
    states_over(Sup::Daemontools);
}

#[test]
fn letters_are_sent_once_each_in_the_order_given() {
    let s = Scratch::new("svc-order");
    let a = service(&s, "a", "#!/bin/sh\nexec sleep 100\n");
    let b = service(&s, "b", "#!/bin/sh\nexec sleep 100\n");
    let _pa = supervise(&s, Sup::Runit, &a);
    let _pb = supervise(&s, Sup::Runit, &b);
    let old = wait_run(&s, &a);
    wait_run(&s, &b);
    // "-du": down then up, the service ends up wanted up (a new process: d stopped the old
    // one); "-u -d -u": "ud", ends down.
    ours("svc", &s.path, &["-du", "./a"], &[]);
    ours("svc", &s.path, &["-u", "-d", "-u", "./b"], &[]);
    wait_status(&s, &b, "b down", |st| st.pid == 0 && st.want == b'd');
    wait_status(&s, &a, "a restarted, wanted up", |st| {
        st.pid != 0 && st.pid != old && st.want == b'u'
    });
    // runsv's extra letters: -1 sends SIGUSR1.
    let c = service(
        &s,
        "c",
        "#!/bin/sh\ntrap 'echo usr1 >>got' USR1\ntouch trapped\nwhile :; do sleep 0.05; done\n",
    );
    let _pc = supervise(&s, Sup::Runit, &c);
    wait_run(&s, &c);
    // Running is not enough: USR1 before the trap is set would end the shell.
    harness::wait_until(WAIT, "trap set", || c.join("trapped").exists());
    ours("svc", &s.path, &["-1", "./c"], &[]);
    harness::wait_until(WAIT, "USR1 seen", || c.join("got").exists());
}

#[test]
fn bare_names_are_looked_up_under_svdir_then_here() {
    let s = Scratch::new("svc-svdir");
    let svdir = s.mkdir("service");
    let a = service(&s, "service/a", "#!/bin/sh\nexec sleep 100\n");
    let here = service(&s, "here", "#!/bin/sh\nexec sleep 100\n");
    let _pa = supervise(&s, Sup::Runit, &a);
    let _ph = supervise(&s, Sup::Runit, &here);
    wait_run(&s, &a);
    wait_run(&s, &here);
    let env = [("SVDIR", svdir.to_str().unwrap())];
    let o = ours("svstat", &s.path, &["a", "here", "nowhere"], &env);
    let text = mask_pids(&stdout(&o));
    assert_eq!(
        text,
        "a: up (pid N) N seconds\nhere: up (pid N) N seconds\nnowhere: unable to chdir: file does not exist\n"
    );
    assert_eq!(harness::code(ours("svok", &s.path, &["a"], &env).status), 0);
    ours("svc", &s.path, &["-d", "a"], &env);
    wait_status(&s, &a, "a down through SVDIR", |st| {
        st.pid == 0 && st.state == State::Down
    });
}

#[test]
fn svstat_shows_readiness_and_json() {
    let s = Scratch::new("svstat-ready");
    let a = service(&s, "a", "#!/bin/sh\necho >&3\nexec sleep 100\n");
    fs::write(a.join("notification-fd"), "3\n").unwrap();
    let d = service(&s, "d", "#!/bin/sh\nexec sleep 100\n");
    fs::write(d.join("down"), "").unwrap();
    let _pa = supervise(&s, Sup::Ours, &a);
    let _pd = supervise(&s, Sup::Ours, &d);
    let pid = wait_run(&s, &a);
    harness::wait_until(WAIT, "ready recorded", || {
        formats::status::Ready::read_for(&a.join("supervise"), &read_status(&a).unwrap()).is_some()
    });
    let o = ours("svstat", &s.path, &["./a"], &[]);
    assert_eq!(
        mask_pids(&stdout(&o)),
        "./a: up (pid N) N seconds, ready N seconds\n"
    );
    let o = ours("svstat", &s.path, &["-j", "./a", "./d", "./missing"], &[]);
    let lines: Vec<&str> = std::str::from_utf8(&o.stdout).unwrap().lines().collect();
    assert_eq!(lines.len(), 3, "{}", stdout(&o));
    assert!(
        lines[0].starts_with(&format!(
            "{{\"service\":\"./a\",\"supervised\":true,\"up\":true,\"state\":\"run\",\"pid\":{pid},"
        )),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("\"ready\":true,\"ready_seconds\":"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("\"up\":false,\"state\":\"down\""),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains("\"normally_up\":false,\"want\":\"down\""),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines[2],
        "{\"service\":\"./missing\",\"error\":\"unable to chdir: file does not exist\"}"
    );
}
