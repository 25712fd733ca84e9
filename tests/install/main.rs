//! The one install command, `scripts/install.sh`: it puts every binary of the workspace,
//! chpst's daemontools names and every man page into a prefix under a staging root, and the
//! installed binaries work on their own (a service under the installed runsvdir and runsv,
//! logging through the installed svlogd, driven by the installed sv).
//!
//! The tests install the debug build the test command made (`--from`/`BINSRC`), so they
//! need no release build; the default path (release and static-PIE builds) is the same code
//! after the build step.

use harness::{bin_dir, code, names, read_text, reference, wait_until_or, Proc, Scratch};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);
const CRATES: [&str; 3] = ["supervise", "svlogd", "tools"];
const ALIASES: [&str; 6] = [
    "envdir",
    "envuidgid",
    "pgrphack",
    "setuidgid",
    "setlock",
    "softlimit",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn script() -> PathBuf {
    root().join("scripts/install.sh")
}

/// Every binary of the workspace: one `src/bin/NAME.rs` per crate.
fn binaries() -> Vec<String> {
    let mut v = Vec::new();
    for c in CRATES {
        for n in names(root().join(c).join("src/bin")) {
            if let Some(b) = n.strip_suffix(".rs") {
                v.push(b.to_string());
            }
        }
    }
    assert!(v.len() >= 14, "too few binaries found: {v:?}");
    v
}

/// Every man page: (file name, section, source path).
fn pages() -> Vec<(String, String, PathBuf)> {
    let mut v = Vec::new();
    for c in CRATES {
        let dir = root().join(c).join("man");
        for n in names(&dir) {
            if let Some((_, sec)) = n.rsplit_once('.') {
                if sec.len() == 1 && ('1'..='8').contains(&sec.chars().next().unwrap()) {
                    v.push((n.clone(), sec.to_string(), dir.join(&n)));
                }
            }
        }
    }
    v
}

/// Runs the install script with only PATH and `env` in its environment.
fn install(s: &Scratch, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new("/bin/sh");
    c.arg(script())
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .envs(env.iter().copied())
        .current_dir(&s.path);
    harness::run(&mut c, T)
}

fn transcript(o: &Output) -> String {
    format!(
        "--- stdout\n{}--- stderr\n{}--- exit {}\n",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        code(o.status)
    )
}

const SILENT_OK: &str = "--- stdout\n--- stderr\n--- exit 0\n";

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
    for a in ALIASES {
        assert_eq!(
            fs::read_link(bindir.join(a)).unwrap(),
            Path::new("chpst"),
            "{a} is not a link to chpst"
        );
    }
    // Only those: no temporary names left behind.
    let mut expected: Vec<String> = binaries();
    expected.extend(ALIASES.map(String::from));
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

/// Processes whose parent is `ppid`.
fn children(ppid: u32) -> Vec<u32> {
    let mut v = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = read_text(format!("/proc/{pid}/stat"));
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        if rest.split_whitespace().nth(1) == Some(&ppid.to_string()) {
            v.push(pid);
        }
    }
    v
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
    c.env_clear()
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
    let runsv: Vec<PathBuf> = children(tree.pid() as u32)
        .into_iter()
        .filter_map(|p| fs::read_link(format!("/proc/{p}/exe")).ok())
        .collect();
    assert_eq!(runsv, [bindir.join("runsv")]);

    let sv = |args: &[&str]| {
        let mut c = Command::new(bindir.join("sv"));
        c.env_clear()
            .env("PATH", &path)
            .env("SVDIR", &services)
            .args(args)
            .current_dir(&s.path);
        harness::run(&mut c, T)
    };
    let o = sv(&["status", "hello"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.starts_with("run: hello: (pid ") && out.contains("; run: log: (pid "),
        "{}",
        transcript(&o)
    );
    let o = sv(&["-w", "10", "down", "hello"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("ok: down: hello: "),
        "{}",
        transcript(&o)
    );
    // The daemontools names and filters are installed too.
    let o = harness::run(
        Command::new(bindir.join("svstat"))
            .env_clear()
            .arg(s.join("sv/hello")),
        T,
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(": down "),
        "{}",
        transcript(&o)
    );
    let o = harness::run(
        Command::new(bindir.join("setuidgid"))
            .env_clear()
            .args(["nobody", "/usr/bin/id", "-u"]),
        T,
    );
    assert_eq!(
        transcript(&o),
        "--- stdout\n65534\n--- stderr\n--- exit 0\n"
    );
    let stamped =
        harness::run_with_input(Command::new(bindir.join("tai64n")).env_clear(), b"one\n", T);
    assert!(
        String::from_utf8_lossy(&stamped.stdout).starts_with('@'),
        "{}",
        transcript(&stamped)
    );
    let local = harness::run_with_input(
        Command::new(bindir.join("tai64nlocal"))
            .env_clear()
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
    let runsv_pids = children(tree.pid() as u32);
    tree.signal(nix::sys::signal::Signal::SIGHUP);
    assert_eq!(code(tree.wait_timeout(T)), 111);
    wait_until_or(
        T,
        "the installed runsv gone after runsvdir's HUP",
        &mut || runsv_pids.iter().all(|p| !harness::alive(*p as i32)),
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
