//! `--help` and `--version` on every installed command (aliases included), and the answers
//! of runit's and daemontools' programs kept for the command lines they know.

use crate::*;
use formats::help::VERSION;
use harness::CleanEnv;
use harness::{bin_dir, reference};
use std::path::Path;

/// Installs the debug build into a scratch prefix; returns the installed `bin` directory.
fn installed(s: &Scratch) -> PathBuf {
    let dest = s.mkdir("dest");
    let o = install(
        s,
        &[],
        &[
            ("BINSRC", bin_dir().to_str().unwrap()),
            ("DESTDIR", dest.to_str().unwrap()),
            ("PREFIX", "/usr"),
        ],
    );
    assert_eq!(transcript(&o), SILENT_OK);
    dest.join("usr/bin")
}

fn run(program: &Path, args: &[&str]) -> Output {
    harness::run(
        Command::new(program)
            .args(args)
            .clean_env()
            .env("PATH", "/usr/bin:/bin"),
        T,
    )
}

#[test]
fn every_installed_command_answers_help_and_version() {
    let s = Scratch::new("inst-help");
    let bindir = installed(&s);
    let mut commands = binaries();
    commands.extend(CHPST_ALIASES.map(String::from));
    for c in &commands {
        let p = bindir.join(c);
        for args in [&["--version"][..], &["--version", "extra"]] {
            let o = run(&p, args);
            assert_eq!(
                transcript(&o),
                format!("--- stdout\n{c} (runit-rs) {VERSION}\n--- stderr\n--- exit 0\n"),
                "{c} {args:?}"
            );
        }
        let o = run(&p, &["--help"]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            code(o.status) == 0
                && o.stderr.is_empty()
                && out.starts_with(&format!("usage: {c}"))
                && out.ends_with(&format!("See {c}(8).\n")),
            "{c} --help: {}",
            transcript(&o)
        );
        // The page it points to is installed, and says so too.
        let page = read_text(bindir.join(format!("../share/man/man8/{c}.8")));
        assert!(
            page.contains(".SH \"HELP AND VERSION\"\n"),
            "{c}.8 does not document --help"
        );
    }
}

/// Runs ours (installed) and the reference with the same arguments and compares what they
/// say, with each program's path replaced by PROG.
fn same_answer(ours: &Path, theirs: &str, args: &[&str]) {
    let r = reference(theirs);
    let mask = |o: &Output, p: &Path| transcript(o).replace(p.to_str().unwrap(), "PROG");
    let a = mask(&run(ours, args), ours);
    let b = mask(&run(&r, args), &r);
    harness::assert_text_eq(&format!("{theirs} {args:?}"), &b, &a);
}

#[test]
fn forms_the_references_know_keep_their_answers() {
    let s = Scratch::new("inst-forms");
    let bindir = installed(&s);
    let b = |n: &str| bindir.join(n);
    // runit: usage without arguments, illegal options, sv -h (h is no option of sv).
    same_answer(&b("runsv"), "/usr/bin/runsv", &[]);
    same_answer(&b("runsvdir"), "/usr/bin/runsvdir", &[]);
    same_answer(&b("sv"), "/usr/bin/sv", &[]);
    same_answer(&b("sv"), "/usr/bin/sv", &["-h"]);
    same_answer(&b("sv"), "/usr/bin/sv", &["-h", "status", "x"]);
    same_answer(&b("svlogd"), "/usr/bin/svlogd", &[]);
    same_answer(&b("svlogd"), "/usr/bin/svlogd", &["-h", "d"]);
    same_answer(&b("chpst"), "/usr/bin/chpst", &[]);
    same_answer(&b("chpst"), "/usr/bin/chpst", &["-h", "true"]);
    // daemontools: usage texts and exit codes of the programs and chpst's names.
    for c in [
        "svok",
        "svstat",
        "setuidgid",
        "envuidgid",
        "envdir",
        "pgrphack",
        "setlock",
        "softlimit",
    ] {
        same_answer(&b(c), &format!("/usr/bin/{c}"), &[]);
    }
    same_answer(&b("svc"), "/usr/bin/svc", &["-h"]);
    // -V keeps runit's shape: a version line, then the usage, exit 111 (svlogd) or 100 (sv).
    for (c, rc) in [("svlogd", 111), ("sv", 100)] {
        let o = run(&b(c), &["-V"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            code(o.status) == rc && o.stdout.is_empty() && err.starts_with("$Id: "),
            "{c} -V: {}",
            transcript(&o)
        );
        assert!(
            err.lines().nth(1).unwrap_or("").starts_with("usage: "),
            "{err}"
        );
    }
}
