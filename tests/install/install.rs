//! Installing, uninstalling, and running a service on the installed binaries alone.

use crate::*;
use harness::CleanEnv;
use harness::{bin_dir, reference, wait_until_or, Proc};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

#[test]
fn installs_every_binary_alias_and_page_where_the_variables_say() {
    let s = Scratch::new("inst-all");
    let dest = s.mkdir("dest");
    let o = install(
        &s,
        &[],
        &[
            ("BINSRC", bin_dir().to_str().unwrap()),
            ("DESTDIR", dest.to_str().unwrap()),
            ("PREFIX", "/usr"),
        ],
    );
    assert_eq!(transcript(&o), SILENT_OK);
    let bindir = dest.join("usr/bin");
    for b in binaries() {
        let p = bindir.join(&b);
        let m = fs::symlink_metadata(&p).unwrap_or_else(|e| panic!("{b} not installed: {e}"));
        assert!(m.is_file(), "{b} is not a regular file");
        assert_eq!(m.permissions().mode() & 0o777, 0o755, "{b} mode");
        assert_eq!(
            fs::read(&p).unwrap(),
            fs::read(bin_dir().join(&b)).unwrap(),
            "{b} is not the built binary"
        );
    }
    for a in CHPST_ALIASES {
        assert_eq!(
            fs::read_link(bindir.join(a)).unwrap(),
            Path::new("chpst"),
            "{a} is not a link to chpst"
        );
    }
    // Only those: no temporary names left behind.
    let mut expected: Vec<String> = binaries();
    expected.extend(CHPST_ALIASES.map(String::from));
    expected.sort();
    assert_eq!(names(&bindir), expected);

    // Every page, in the section its name says, and every command has one.
    let groff = reference("/usr/bin/groff");
    let pages = pages();
    for (name, sec, _) in &pages {
        let p = dest.join(format!("usr/share/man/man{sec}/{name}"));
        let m = fs::metadata(&p).unwrap_or_else(|e| panic!("{name} not installed: {e}"));
        assert_eq!(m.permissions().mode() & 0o777, 0o644, "{name} mode");
        let o = harness::run(
            Command::new(&groff)
                .args(["-man", "-Tutf8", "-ww", "-z"])
                .arg(&p),
            T,
        );
        assert_eq!(transcript(&o), SILENT_OK, "{name} does not format cleanly");
        let text = read_text(&p);
        let th = format!(
            ".TH {} {sec} ",
            name.rsplit_once('.').unwrap().0.to_uppercase()
        );
        assert!(text.starts_with(&th), "{name} does not start with `{th}`");
    }
    for c in expected {
        assert!(
            pages
                .iter()
                .any(|(n, _, _)| n.rsplit_once('.').unwrap().0 == c),
            "{c} has no man page"
        );
    }
}

/// Asserts that a command's standard output passes `ok`, showing the transcript if not.
#[track_caller]
fn stdout_is(o: &Output, ok: impl FnOnce(&str) -> bool) {
    assert!(ok(&String::from_utf8_lossy(&o.stdout)), "{}", transcript(o));
}

#[test]
fn the_installed_binaries_run_a_logged_service_on_their_own() {
    let s = Scratch::new("inst-run");
    let dest = s.mkdir("dest");
    let o = install(
        &s,
        &[
            &format!("--destdir={}", dest.display()),
            "--prefix=/opt/rs",
            &format!("--from={}", bin_dir().display()),
        ],
        &[],
    );
    assert_eq!(transcript(&o), SILENT_OK);
    let bindir = dest.join("opt/rs/bin");
    assert!(bindir.join("runsv").is_file());
    run_a_logged_service(&s, &bindir, &bindir.join("runsv"));
}

/// A service under the runsvdir in `bindir`, logging through its svlogd, driven by its sv and
/// the daemontools names, with only `bindir` and the system on PATH; the runsv processes must
/// run `runsv_exe`.
pub fn run_a_logged_service(s: &Scratch, bindir: &Path, runsv_exe: &Path) {
    // Only the installed tree and the system on PATH: runsvdir must find the installed runsv.
    let path = format!("{}:/usr/bin:/bin", bindir.display());

    // A service that reads its environment through the installed envdir alias, and logs
    // through the installed svlogd.
    s.write("sv/hello/env/GREETING", "hello\n");
    // (By full path: /usr/bin, on PATH for sh and sleep, has daemontools' envdir and
    // runit's svlogd.)
    s.script(
        "sv/hello/run",
        &format!(
            "#!/bin/sh\nexec 2>&1\nexec {}/envdir ./env sh -c 'echo \"greeting=$GREETING\"; exec sleep 1000'\n",
            bindir.display()
        ),
    );
    s.mkdir("sv/hello/log/main");
    s.script(
        "sv/hello/log/run",
        &format!("#!/bin/sh\nexec {}/svlogd -tt ./main\n", bindir.display()),
    );
    let services = s.mkdir("service");
    std::os::unix::fs::symlink(s.join("sv/hello"), services.join("hello")).unwrap();

    let mut c = Command::new(bindir.join("runsvdir"));
    c.clean_env()
        .env("PATH", &path)
        .arg(&services)
        .current_dir(&s.path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut tree = Proc::spawn_group(&mut c);
    let current = s.join("sv/hello/log/main/current");
    wait_until_or(
        T,
        "the service's line in the installed svlogd's log",
        &mut || read_text(&current).contains(" greeting=hello\n"),
        || s.listing(),
    );
    // The runsv that runsvdir started is the installed one.
    let runsv: Vec<PathBuf> = harness::children(tree.pid())
        .into_iter()
        .filter_map(|p| fs::read_link(format!("/proc/{p}/exe")).ok())
        .collect();
    assert_eq!(runsv, [runsv_exe.to_path_buf()]);

    let sv = |args: &[&str]| {
        let mut c = Command::new(bindir.join("sv"));
        c.clean_env()
            .env("PATH", &path)
            .env("SVDIR", &services)
            .args(args)
            .current_dir(&s.path);
        harness::run(&mut c, T)
    };
    // (The service can log before runsv has recorded it running.)
    let says_run = |o: &std::process::Output| {
        let out = String::from_utf8_lossy(&o.stdout);
        out.starts_with("run: hello: (pid ") && out.contains("; run: log: (pid ")
    };
    let last = std::cell::RefCell::new(String::new());
    wait_until_or(
        T,
        "sv status: both running",
        &mut || {
            let o = sv(&["status", "hello"]);
            *last.borrow_mut() = transcript(&o);
            says_run(&o)
        },
        || last.borrow().clone(),
    );
    let o = sv(&["-w", "10", "down", "hello"]);
    stdout_is(&o, |out| out.starts_with("ok: down: hello: "));
    // The daemontools names and filters are installed too.
    let o = harness::run(
        Command::new(bindir.join("svstat"))
            .clean_env()
            .arg(s.join("sv/hello")),
        T,
    );
    stdout_is(&o, |out| out.contains(": down "));
    let o = harness::run(
        Command::new(bindir.join("setuidgid"))
            .clean_env()
            .args(["nobody", "/usr/bin/id", "-u"]),
        T,
    );
    assert_eq!(
        transcript(&o),
        "--- stdout\n65534\n--- stderr\n--- exit 0\n"
    );
    let stamped =
        harness::run_with_input(Command::new(bindir.join("tai64n")).clean_env(), b"one\n", T);
    stdout_is(&stamped, |out| out.starts_with('@'));
    let local = harness::run_with_input(
        Command::new(bindir.join("tai64nlocal"))
            .clean_env()
            .env("TZ", "UTC"),
        &stamped.stdout,
        T,
    );
    let text = String::from_utf8_lossy(&local.stdout).into_owned();
    assert!(
        text.len() > 20 && text.ends_with(" one\n") && !text.starts_with('@'),
        "{}",
        transcript(&local)
    );

    // HUP: runsvdir stops every runsv (and so the service and its logger) and exits 111.
    let runsv_pids = harness::children(tree.pid());
    tree.signal(nix::sys::signal::Signal::SIGHUP);
    assert_eq!(code(tree.wait_timeout(T)), 111);
    wait_until_or(
        T,
        "the installed runsv gone after runsvdir's HUP",
        &mut || runsv_pids.iter().all(|p| !harness::alive(*p)),
        || s.listing(),
    );
}

#[test]
fn default_prefix_and_uninstall() {
    let s = Scratch::new("inst-default");
    let dest = s.mkdir("dest");
    let built = bin_dir();
    let env = [
        ("BINSRC", built.to_str().unwrap()),
        ("DESTDIR", dest.to_str().unwrap()),
    ];
    let o = install(&s, &[], &env);
    assert_eq!(transcript(&o), SILENT_OK);
    assert!(dest.join("usr/local/bin/svlogd").is_file());
    assert!(dest.join("usr/local/share/man/man8/svlogd.8").is_file());
    // Installing again over an existing tree works (binaries replaced by rename).
    let o = install(&s, &[], &env);
    assert_eq!(transcript(&o), SILENT_OK);
    let o = install(&s, &["--uninstall"], &env);
    assert_eq!(transcript(&o), SILENT_OK);
    assert_eq!(names(dest.join("usr/local/bin")), Vec::<String>::new());
    assert_eq!(
        names(dest.join("usr/local/share/man/man8")),
        Vec::<String>::new()
    );
}

#[test]
fn a_missing_binary_or_a_bad_option_fails_before_anything_is_written() {
    let s = Scratch::new("inst-fail");
    let dest = s.join("dest");
    let o = install(
        &s,
        &[],
        &[
            ("BINSRC", "/nonexistent"),
            ("DESTDIR", dest.to_str().unwrap()),
        ],
    );
    assert_eq!(code(o.status), 111, "{}", transcript(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).starts_with("scripts/install.sh: fatal: /nonexistent/"),
        "{}",
        transcript(&o)
    );
    assert!(!dest.exists());
    let o = install(&s, &["--prefix"], &[]);
    assert_eq!(code(o.status), 100, "{}", transcript(&o));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("usage: scripts/install.sh "));
    // --help: the script's own documentation, on stdout.
    let o = install(&s, &["--help"], &[]);
    assert_eq!(code(o.status), 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("--destdir=DIR   DESTDIR"));
}
