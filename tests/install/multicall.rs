//! The multicall binary `runit-rs` (issue 13 item 2): `scripts/install.sh --multicall`
//! installs it with a link per program, every program answers through its link exactly as its
//! own binary does, `runit-rs NAME args` runs NAME, and a logged service runs on it alone
//! (the whole end-to-end suite runs on it too, through a directory of links: scripts/test.sh).

use crate::install::run_a_logged_service;
use crate::*;
use harness::{bin_dir, CleanEnv};
use std::os::unix::process::CommandExt;

/// Installs the multicall binary into a scratch prefix; returns its bin directory.
fn install_multicall(s: &Scratch) -> PathBuf {
    let dest = s.mkdir("dest");
    let o = install(
        s,
        &["--multicall", "--prefix=/opt/mc"],
        &[
            ("BINSRC", bin_dir().to_str().unwrap()),
            ("DESTDIR", dest.to_str().unwrap()),
        ],
    );
    assert_eq!(transcript(&o), SILENT_OK);
    dest.join("opt/mc/bin")
}

/// Every name a program answers to: the binaries and chpst's daemontools names.
fn every_name() -> Vec<String> {
    let mut all = binaries();
    all.extend(CHPST_ALIASES.map(String::from));
    all.sort();
    all
}

#[test]
fn one_binary_and_a_link_per_program() {
    let s = Scratch::new("mc-layout");
    let bindir = install_multicall(&s);
    let mc = bindir.join("runit-rs");
    assert_eq!(
        fs::read(&mc).unwrap(),
        fs::read(bin_dir().join("runit-rs")).unwrap(),
        "runit-rs is not the built binary"
    );
    for n in every_name() {
        assert_eq!(
            fs::read_link(bindir.join(&n)).unwrap_or_else(|e| panic!("{n}: {e}")),
            Path::new("runit-rs"),
            "{n} is not a link to runit-rs"
        );
    }
    let mut expected = every_name();
    expected.push("runit-rs".into());
    expected.sort();
    assert_eq!(names(&bindir), expected);

    // --list names exactly those programs; --uninstall takes everything away.
    let o = harness::run(Command::new(&mc).clean_env().arg("--list"), T);
    let mut listed: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(String::from)
        .collect();
    listed.sort();
    assert_eq!(listed, every_name(), "{}", transcript(&o));
    let o = install(
        &s,
        &["--uninstall", "--prefix=/opt/mc"],
        &[("DESTDIR", s.join("dest").to_str().unwrap())],
    );
    assert_eq!(transcript(&o), SILENT_OK);
    assert_eq!(names(&bindir), Vec::<String>::new());
}

#[test]
fn every_program_answers_as_its_own_binary() {
    let s = Scratch::new("mc-answers");
    let bindir = install_multicall(&s);
    let separate = |n: &str| match n {
        a if CHPST_ALIASES.contains(&a) => bin_dir().join("chpst"),
        _ => bin_dir().join(n),
    };
    let answer = |exe: &Path, argv0: &str, args: &[&str], input: &[u8]| {
        let mut c = Command::new(exe);
        c.arg0(argv0)
            .args(args)
            .clean_env()
            .env("TZ", "UTC")
            .current_dir(&s.path);
        transcript(&harness::run_with_input(&mut c, input, T))
    };
    for n in every_name() {
        let usage_error: &[&str] = match n.as_str() {
            "runsv" | "runsvdir" | "svlogd" => &[],
            "tai64n" => &["--help"],
            _ => &["-!"],
        };
        for args in [&["--help"][..], &["--version"], usage_error] {
            let ours = answer(&separate(&n), &n, args, b"");
            if args == ["--version"] {
                assert!(ours.contains(&format!("{n} (runit-rs) ")), "{n}: {ours}");
            }
            // Through the link (argv[0] the link's path, as a shell runs it) ...
            let link = bindir.join(&n);
            let link_arg0 = link.to_str().unwrap();
            assert_eq!(
                answer(&link, link_arg0, args, b""),
                answer(&separate(&n), link_arg0, args, b""),
                "{n} {args:?} through its link"
            );
            // ... and as `runit-rs NAME ...`.
            let mut named = vec![n.as_str()];
            named.extend_from_slice(args);
            assert_eq!(
                answer(&bindir.join("runit-rs"), "runit-rs", &named, b""),
                ours,
                "runit-rs {n} {args:?}"
            );
        }
    }
    // A filter: the same bytes out for the same bytes in.
    let stamped = b"@400000003c675c4a00000000 hello\n";
    assert_eq!(
        answer(&bindir.join("tai64nlocal"), "tai64nlocal", &[], stamped),
        answer(&separate("tai64nlocal"), "tai64nlocal", &[], stamped)
    );
    // No program by that name: the usage on stderr, exit 100.
    let o = harness::run(
        Command::new(bindir.join("runit-rs")).clean_env().arg("ls"),
        T,
    );
    assert_eq!(code(o.status), 100, "{}", transcript(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("runit-rs: fatal: no such program: ls\nusage: runit-rs program"),
        "{err}"
    );
}

#[test]
fn a_logged_service_runs_on_the_multicall_binary_alone() {
    let s = Scratch::new("mc-run");
    let bindir = install_multicall(&s);
    run_a_logged_service(&s, &bindir, &bindir.join("runit-rs"));
}
