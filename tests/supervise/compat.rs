//! Compatibility with runit's runsv and with the reference clients: usage and exit codes, the
//! `supervise/` directory, and runit's `sv` and daemontools' `svc`/`svstat`/`svok` driving our
//! runsv exactly as they drive runit's (`spec/supervise.md` §1.9, §2, §3, §5, §6).

use formats::status::State;
use harness::{
    assert_text_eq, bin, code, command, control, exec, read_status, reference, run, runit_sv,
    runsv, service, supervised, wait_down, wait_run, wait_status, wait_until, whole_lines, Impl,
    Proc, Scratch, WAIT as T,
};
use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::PathBuf;
use std::time::Duration;

fn transcript(program: &std::path::Path, args: &[&str], cwd: &std::path::Path) -> (String, i32) {
    let out = run(
        &mut command(program, cwd, args, &[]),
        Duration::from_secs(10),
    );
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        code(out.status),
    )
}

/// The same service twice, `ours/` under our runsv and `runit/` under runit's, each with one
/// more script (`rel`, `text`: a logger, a finish); returns once both run.
fn side_by_side(s: &Scratch, run: &str, (rel, text): (&str, &str)) -> ([PathBuf; 2], [Proc; 2]) {
    let dirs = ["ours", "runit"].map(|name| {
        let d = service(s, name, run);
        s.script(d.join(rel), text);
        d
    });
    let sups = [
        runsv(s, Impl::Ours, &dirs[0]),
        runsv(s, Impl::Runit, &dirs[1]),
    ];
    for d in &dirs {
        wait_run(s, d);
    }
    (dirs, sups)
}

/// `sv status` output of `./ours` or `./runit` with pids, ages and the name masked, so the
/// two compare.
fn same_name(t: &str) -> String {
    regex::Regex::new(r"\(pid [0-9]+\) [0-9]+s")
        .unwrap()
        .replace_all(t, "(pid P) Ns")
        .replace("./runit", "./X")
        .replace("./ours", "./X")
}

#[test]
fn usage_and_startup_failures_match_runit() {
    // spec/supervise.md §1 (usage, exit 1) and §1.9 (111 with runit's wording).
    let s = Scratch::new("sv-usage");
    let ours = bin("runsv");
    let theirs = reference("/usr/bin/runsv");
    for args in [&[][..], &["a", "b"][..], &["nonexistent"][..]] {
        let (e1, c1) = transcript(&ours, args, &s.path);
        let (e2, c2) = transcript(&theirs, args, &s.path);
        let e1 = e1.replace(ours.to_str().unwrap(), "RUNSV");
        let e2 = e2.replace(theirs.to_str().unwrap(), "RUNSV");
        assert_text_eq(&format!("stderr for {args:?}"), &e2, &e1);
        assert_eq!(c1, c2, "exit code for {args:?}");
    }
    // A directory already supervised (by runit's runsv): the lock refuses a second one.
    let dir = service(&s, "held", "#!/bin/sh\nexec sleep 100\n");
    let _runit = runsv(&s, Impl::Runit, &dir);
    wait_until(T, "runit's runsv running", || supervised(&dir));
    let (e, c) = transcript(&ours, &["held"], &s.path);
    assert_eq!(c, 111);
    assert_text_eq(
        "lock failure",
        "runsv held: fatal: unable to lock supervise/lock: temporary failure\n",
        &e,
    );
    // Not a fifo where the control FIFO should be.
    let bad = service(&s, "bad", "#!/bin/sh\nexec sleep 100\n");
    fs::create_dir(bad.join("supervise")).unwrap();
    fs::write(bad.join("supervise/control"), "").unwrap();
    let (e, c) = transcript(&ours, &["bad"], &s.path);
    let (e2, c2) = transcript(&theirs, &["bad"], &s.path);
    assert_eq!((c, c2), (111, 111));
    assert_text_eq("control not a fifo", &e2, &e);
}

#[test]
fn supervise_directory_matches_runit() {
    // spec/supervise.md §2.1-§2.3: names, types, modes, stat text, pid text, status bytes.
    let s = Scratch::new("sv-files");
    let (dirs, _sups) = side_by_side(
        &s,
        "#!/bin/sh\necho up\nexec sleep 100\n",
        ("log/run", "#!/bin/sh\nexec cat >out\n"),
    );
    for d in &dirs {
        wait_until(T, "logger output", || {
            whole_lines(d.join("log/out")) == ["up"]
        });
    }
    let describe = |d: &std::path::Path, sup: &str| -> String {
        let mut out = String::new();
        let mut names = harness::names(d.join(sup));
        names.retain(|n| n != "start" && n != "ready");
        for n in names {
            let md = fs::symlink_metadata(d.join(sup).join(&n)).unwrap();
            let kind = if md.file_type().is_fifo() {
                "fifo"
            } else if md.is_dir() {
                "dir"
            } else {
                "file"
            };
            out.push_str(&format!(
                "{n} {kind} {:o}\n",
                md.permissions().mode() & 0o7777
            ));
        }
        let st = read_status(d.join(sup).parent().unwrap()).unwrap();
        out.push_str(&format!(
            "stat={:?} pidfile={} status={:?}\n",
            harness::read_text(d.join(sup).join("stat")),
            harness::read_text(d.join(sup).join("pid")) == format!("{}\n", st.pid),
            &st.encode()[16..]
        ));
        let md = fs::metadata(d.join(sup)).unwrap();
        out.push_str(&format!("dir {:o}\n", md.permissions().mode() & 0o7777));
        out
    };
    for sup in ["supervise", "log/supervise"] {
        assert_text_eq(sup, &describe(&dirs[1], sup), &describe(&dirs[0], sup));
    }
    // sv status reads both the same way (pids and seconds masked).
    let (ours, c1) = runit_sv(&s, &["status", "./ours"]);
    let (theirs, c2) = runit_sv(&s, &["status", "./runit"]);
    assert_eq!((c1, c2), (0, 0));
    assert_text_eq("sv status", &same_name(&theirs), &same_name(&ours));
    // After `sv down` both show the same stat text and status flags.
    for d in ["./ours", "./runit"] {
        let (out, c) = runit_sv(&s, &["-w", "5", "down", d]);
        assert_eq!(c, 0, "{out}");
    }
    assert_text_eq(
        "after down",
        &describe(&dirs[1], "supervise"),
        &describe(&dirs[0], "supervise"),
    );
}

#[test]
fn runit_sv_drives_our_runsv() {
    // spec/supervise.md §5.3-§5.5: every waited command reaches its state.
    let s = Scratch::new("sv-drive");
    let dir = service(&s, "svc", "#!/bin/sh\nexec sleep 100\n");
    fs::write(dir.join("down"), "").unwrap();
    let mut p = runsv(&s, Impl::Ours, &dir);
    wait_until(T, "supervised", || supervised(&dir));
    let (out, _) = runit_sv(&s, &["status", "./svc"]);
    assert!(
        out.starts_with("down: ./svc: ") && out.ends_with("s\n"),
        "{out}"
    );
    let (out, c) = runit_sv(&s, &["-w", "5", "up", "./svc"]);
    assert_eq!(c, 0);
    assert!(
        out.starts_with("ok: run: ./svc: (pid ") && out.contains("normally down"),
        "{out}"
    );
    let pid = wait_run(&s, &dir);
    let (out, c) = runit_sv(&s, &["-w", "5", "pause", "./svc"]);
    assert!(c == 0 && out.contains(", paused"), "{out}");
    let (out, c) = runit_sv(&s, &["-w", "5", "cont", "./svc"]);
    assert!(c == 0 && !out.contains("paused"), "{out}");
    let (out, c) = runit_sv(&s, &["-w", "5", "restart", "./svc"]);
    assert_eq!(c, 0, "{out}");
    let pid2 = wait_run(&s, &dir);
    assert_ne!(pid, pid2, "restart gave a new process");
    let (out, c) = runit_sv(&s, &["-w", "5", "kill", "./svc"]);
    assert_eq!(c, 0, "{out}");
    let (out, c) = runit_sv(&s, &["-w", "5", "once", "./svc"]);
    assert_eq!(c, 0, "{out}");
    let (out, c) = runit_sv(&s, &["-w", "5", "down", "./svc"]);
    assert!(c == 0 && out.starts_with("ok: down: ./svc: "), "{out}");
    let (out, c) = runit_sv(&s, &["-w", "5", "exit", "./svc"]);
    assert_eq!(c, 0, "{out}");
    assert!(p.wait_timeout(T).success());
    let (out, c) = runit_sv(&s, &["status", "./svc"]);
    assert_eq!((out.as_str(), c), ("fail: ./svc: runsv not running\n", 1));
}

#[test]
fn daemontools_svc_svstat_svok_drive_our_runsv() {
    // spec/supervise.md §6.
    let s = Scratch::new("sv-dt");
    let dir = service(&s, "svc", "#!/bin/sh\nexec sleep 100\n");
    let tool = |s: &Scratch, path: &str, args: &[&str]| exec(&reference(path), &s.path, args, &[]);
    let svok = |s: &Scratch| code(tool(s, "/usr/bin/svok", &["svc"]).status);
    let svstat = |s: &Scratch| harness::stdout(&tool(s, "/usr/bin/svstat", &["svc"]));
    assert_eq!(svok(&s), 100, "not supervised yet");
    let mut p = runsv(&s, Impl::Ours, &dir);
    wait_run(&s, &dir);
    assert_eq!(svok(&s), 0);
    assert!(svstat(&s).starts_with("svc: up (pid "), "{}", svstat(&s));
    tool(&s, "/usr/bin/svc", &["-d", "svc"]);
    wait_down(&s, &dir);
    let st = svstat(&s);
    assert!(
        st.starts_with("svc: down ") && st.ends_with("seconds, normally up\n"),
        "{st}"
    );
    tool(&s, "/usr/bin/svc", &["-u", "svc"]);
    wait_run(&s, &dir);
    tool(&s, "/usr/bin/svc", &["-p", "svc"]);
    wait_status(&s, &dir, "paused", |st| st.paused);
    assert!(svstat(&s).ends_with("seconds, paused\n"), "{}", svstat(&s));
    tool(&s, "/usr/bin/svc", &["-c", "svc"]);
    wait_status(&s, &dir, "continued", |st| !st.paused);
    // runsv's x stops the service and exits (unlike daemontools' supervise).
    tool(&s, "/usr/bin/svc", &["-x", "svc"]);
    assert!(p.wait_timeout(T).success());
    assert_eq!(svok(&s), 100);
    assert_eq!(svstat(&s), "svc: supervise not running\n");
}

#[test]
fn our_status_for_finish_and_term_matches_runit() {
    // §2.3: `finish, want down` and `got TERM` flags read the same through sv.
    let s = Scratch::new("sv-finish");
    let (dirs, _sups) = side_by_side(
        &s,
        "#!/bin/sh\ntrap '' TERM\n: >trapped\nexec sleep 100\n",
        ("finish", "#!/bin/sh\nexec sleep 100\n"),
    );
    for d in &dirs {
        // A TERM before the shell ignores it ends the service instead (finish, not got TERM).
        harness::wait_until(T, "the service ignores TERM", || d.join("trapped").exists());
        control(d, b"d");
        wait_status(&s, d, "got TERM", |st| st.got_term);
    }
    let a = runit_sv(&s, &["status", "./ours"]).0;
    let b = runit_sv(&s, &["status", "./runit"]).0;
    assert_text_eq("got TERM", &same_name(&b), &same_name(&a));
    for d in &dirs {
        control(d, b"k");
        // Both runsv record the finish state once before ./finish has a pid.
        wait_status(&s, d, "finish", |st| {
            st.state == State::Finish && st.pid != 0
        });
    }
    let a = runit_sv(&s, &["status", "./ours"]).0;
    let b = runit_sv(&s, &["status", "./runit"]).0;
    assert_text_eq("finish", &same_name(&b), &same_name(&a));
    assert_eq!(
        harness::read_text(dirs[0].join("supervise/stat")),
        "finish, want down\n"
    );
}
