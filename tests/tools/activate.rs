//! `svactivate` and `svdeactivate` through the binaries, with runit's runsvdir, ours, and
//! daemontools' svscan picking the services up.

use crate::common::*;
use harness::CleanEnv;
use harness::{
    bin, read_status_any, reference, running, stderr, transcript, wait_run, wait_status_by, Proc,
    Scratch, SILENT_OK, WAIT,
};
use std::fs;
use std::path::PathBuf;
use std::process::Stdio;

/// An install location with services: `web` (no log: one is generated), `quiet` (an empty
/// `log` file: none wanted), `own` (its own `log/`), `old` (a stale `supervise/` from a run
/// in place).
fn install(s: &Scratch) -> PathBuf {
    let rc = s.mkdir("rc");
    for name in ["web", "quiet", "own", "old"] {
        s.script(
            format!("rc/{name}/run"),
            "#!/bin/sh\necho started\nexec sleep 100\n",
        );
    }
    s.write("rc/quiet/log", "");
    s.script("rc/own/log/run", "#!/bin/sh\nexec cat >/dev/null\n");
    s.write("rc/web/env/GREETING", "hello\n");
    s.write("rc/old/supervise/status", "stale");
    s.mkdir("service");
    rc
}

fn env(s: &Scratch) -> Vec<(String, String)> {
    vec![
        ("SVINSTALLDIR".into(), s.join("rc").to_string_lossy().into()),
        ("SVDIR".into(), s.join("service").to_string_lossy().into()),
        ("SVLOGDIR".into(), s.join("logs").to_string_lossy().into()),
    ]
}

fn tool(s: &Scratch, name: &str, args: &[&str]) -> std::process::Output {
    let e = env(s);
    let e: Vec<(&str, &str)> = e.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    ours(name, &s.path, args, &e)
}

#[test]
fn builds_the_live_copy_with_a_logger() {
    let s = Scratch::new("activate-build");
    install(&s);
    let o = tool(&s, "svactivate", &["web", "quiet", "own", "old"]);
    assert_eq!(transcript(&o), SILENT_OK);
    assert_eq!(
        harness::names(s.join("service")),
        ["old", "own", "quiet", "web"]
    );
    let web = s.join("service/web");
    assert_eq!(harness::names(&web), ["env", "log", "run"]);
    assert_eq!(
        fs::read_to_string(web.join("log/run")).unwrap(),
        format!(
            "#!/bin/sh\nexec svlogd -tt {}\n",
            s.join("logs/web").display()
        )
    );
    assert!(s.join("logs/web").is_dir());
    assert_eq!(
        fs::read_to_string(web.join("env/GREETING")).unwrap(),
        "hello\n"
    );
    assert_eq!(harness::names(s.join("service/quiet")), ["run"]);
    assert!(!s.join("logs/quiet").exists());
    assert_eq!(
        fs::read_to_string(s.join("service/own/log/run")).unwrap(),
        "#!/bin/sh\nexec cat >/dev/null\n"
    );
    assert_eq!(harness::names(s.join("service/old")), ["log", "run"]);
    // The install location is untouched.
    assert_eq!(harness::names(s.join("rc/web")), ["env", "run"]);
    // Again: nothing to do, a warning, still success.
    let o = tool(&s, "svactivate", &["web"]);
    assert_eq!(stderr(&o), "svactivate: warning: web: already active\n");
    assert_eq!(harness::code(o.status), 0);
    // Errors.
    let o = tool(&s, "svactivate", &["missing"]);
    assert_eq!(
        stderr(&o),
        format!(
            "svactivate: fatal: unable to activate {}: file does not exist\n",
            s.join("rc/missing").display()
        )
    );
    assert_eq!(harness::code(o.status), 111);
    for (t, args, err) in [
        ("svactivate", &[][..], "usage: svactivate [-asv] [-i installdir] [-d servicedir] [-L logdir] [-w sec] name ...\n"),
        ("svdeactivate", &[], "usage: svdeactivate [-v] [-d servicedir] [-w sec] name ...\n"),
        ("svactivate", &["-x"], "svactivate: illegal option -- x\nusage: svactivate [-asv] [-i installdir] [-d servicedir] [-L logdir] [-w sec] name ...\n"),
        ("svactivate", &["a/b"], "svactivate: fatal: not a service name: a/b\nusage: svactivate [-asv] [-i installdir] [-d servicedir] [-L logdir] [-w sec] name ...\n"),
    ] {
        let o = tool(&s, t, args);
        assert_eq!(stderr(&o), err);
        assert_eq!(harness::code(o.status), 100);
    }
    // Nothing half-made is left behind in the service directory.
    assert!(harness::names(s.join("service"))
        .iter()
        .all(|n| !n.starts_with('.')));
}

#[test]
fn symlink_mode_and_boot_mode() {
    let s = Scratch::new("activate-links");
    install(&s);
    let o = tool(&s, "svactivate", &["-s", "web"]);
    assert!(o.status.success(), "{}", transcript(&o));
    let run = s.join("service/web/run");
    assert!(fs::symlink_metadata(&run).unwrap().file_type().is_symlink());
    assert_eq!(fs::read_link(&run).unwrap(), s.join("rc/web/run"));
    assert!(fs::symlink_metadata(s.join("service/web/log"))
        .unwrap()
        .is_dir());
    // -a: everything else installed; web is already there and not complained about.
    let o = tool(&s, "svactivate", &["-a"]);
    assert_eq!(transcript(&o), SILENT_OK);
    assert_eq!(
        harness::names(s.join("service")),
        ["old", "own", "quiet", "web"]
    );
    // Deactivating a symlink-built service leaves the installed files alone.
    let o = tool(&s, "svdeactivate", &["web"]);
    assert!(o.status.success(), "{}", transcript(&o));
    assert_eq!(harness::names(s.join("rc/web")), ["env", "run"]);
    let o = tool(&s, "svdeactivate", &["web"]);
    assert_eq!(stderr(&o), "svdeactivate: warning: web: not active\n");
    assert_eq!(harness::code(o.status), 111);
}

/// A scanner on `scratch/service`: runit's runsvdir (with runit's runsv and svlogd on PATH),
/// ours (with ours first on PATH), or daemontools' svscan.
fn scanner(s: &Scratch, which: &str) -> Proc {
    let (prog, path) = match which {
        "runit" => (reference("/usr/bin/runsvdir"), "/usr/bin:/bin".to_string()),
        "ours" => (bin("runsvdir"), harness::test_path()),
        _ => (reference("/usr/bin/svscan"), "/usr/bin:/bin".to_string()),
    };
    let mut cmd = std::process::Command::new(prog);
    cmd.clean_env()
        .env("PATH", path)
        .arg(s.join("service"))
        .current_dir(&s.path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Proc::spawn_group(&mut cmd)
}

fn lifecycle(which: &str) {
    let s = Scratch::new(&format!("activate-{which}"));
    install(&s);
    let _scan = scanner(&s, which);
    let o = tool(&s, "svactivate", &["-w", "15", "web", "quiet"]);
    assert_eq!(transcript(&o), SILENT_OK);
    let web = s.join("service/web");
    formats::control::probe(&web).expect("web supervised when svactivate -w returns");
    // The generated logger writes the service's output into the log directory.
    let logs = s.join("logs/web");
    harness::wait_until_or(
        WAIT,
        "the service's output in its log",
        &mut || harness::read_text(logs.join("current")).contains("started"),
        || s.listing(),
    );
    // svscan's supervise writes daemontools' record: read as svstat reads it.
    let pid = wait_status_by(
        &s,
        "web running",
        WAIT,
        || read_status_any(&web),
        running(0),
    )
    .pid;
    let o = tool(&s, "svdeactivate", &["web", "quiet"]);
    assert_eq!(transcript(&o), SILENT_OK);
    assert!(
        harness::names(s.join("service")).is_empty(),
        "{}",
        s.listing()
    );
    harness::wait_until(WAIT, "the service gone", || !harness::alive(pid as i32));
    assert!(harness::read_text(logs.join("current")).contains("started"));
}

#[test]
fn lifecycle_under_runits_runsvdir() {
    lifecycle("runit");
}

#[test]
fn lifecycle_under_our_runsvdir() {
    lifecycle("ours");
}

#[test]
fn lifecycle_under_daemontools_svscan() {
    lifecycle("svscan");
}

#[test]
fn deactivate_kills_a_service_that_ignores_term() {
    let s = Scratch::new("activate-stubborn");
    install(&s);
    s.script(
        "rc/stubborn/run",
        "#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 0.1; done\n",
    );
    s.write("rc/stubborn/log", "");
    let o = tool(&s, "svactivate", &["stubborn"]);
    assert!(o.status.success());
    let dir = s.join("service/stubborn");
    let _sup = supervise(&s, Sup::Runit, &dir);
    let pid = wait_run(&s, &dir);
    let o = tool(&s, "svdeactivate", &["-w", "1", "stubborn"]);
    assert_eq!(transcript(&o), SILENT_OK);
    assert!(!dir.exists());
    harness::wait_until(WAIT, "the service killed", || !harness::alive(pid as i32));
}
