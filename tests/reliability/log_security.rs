//! Scenario 11, svlogd's part: symbolic links planted in a log directory, and the
//! processor's privileges. Each case plants a link named `current`, `lock`, `state`,
//! `newstate` or an archive name (`@….u`, `@….s`), pointing into another directory that holds
//! a file `victim`, runs svlogd over some input (with a processor or compression where the
//! file is only used then) and checks that nothing in the other directory was created,
//! changed or read into the log directory. Then svlogd runs as `nobody` through chpst, and its
//! processor reports its ids from /proc.

use crate::frame::{self, Report};
use crate::log_b_common::svlogd_with_input;
use crate::sup_common::Impl;
use harness::Scratch;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::time::Duration;

const SECRET: &str = "SECRET-bf6c1d\n";

/// One planted link.
struct Case {
    name: &'static str,
    /// The link's name in the log directory.
    link: &'static str,
    /// Its target, relative to the log directory (`../other/...`).
    target: &'static str,
    /// The log directory's config.
    config: &'static str,
    /// Where runit's svlogd is not run (our additions).
    ours_only: bool,
    /// Whether every line must be in the log at the end (not with `n2`).
    all_lines: bool,
}

const CASES: [Case; 8] = [
    Case {
        name: "`current` → the other directory's file (u+x, so \"closed cleanly\")",
        link: "current",
        target: "../other/victim",
        config: "",
        ours_only: false,
        all_lines: true,
    },
    Case {
        name: "`current` → a new name in the other directory",
        link: "current",
        target: "../other/created",
        config: "",
        ours_only: false,
        all_lines: true,
    },
    Case {
        name: "`lock` → a new name in the other directory",
        link: "lock",
        target: "../other/created",
        config: "",
        ours_only: false,
        all_lines: true,
    },
    Case {
        name: "`state` → the other directory's file (processor copies state)",
        link: "state",
        target: "../other/victim",
        config: "s100\n!cat; cat <&4 >&5\n",
        ours_only: false,
        all_lines: true,
    },
    Case {
        name: "`state` → a new name in the other directory (processor)",
        link: "state",
        target: "../other/created",
        config: "s100\n!cat\n",
        ours_only: false,
        all_lines: true,
    },
    Case {
        name: "`newstate` → the other directory's file (processor)",
        link: "newstate",
        target: "../other/victim",
        config: "s100\n!cat; echo new >&5\n",
        ours_only: false,
        all_lines: true,
    },
    Case {
        name: "`@….u` → the other directory's file (processor)",
        link: "@400000000000000100000000.u",
        target: "../other/victim",
        config: "s100\n!cat\n",
        ours_only: false,
        all_lines: true,
    },
    Case {
        name: "`@….s` → the other directory's file (`compress gzip`, `n2`)",
        link: "@400000000000000100000000.s",
        target: "../other/victim",
        config: "s100\nn2\ncompress gzip\n",
        ours_only: true,
        all_lines: false,
    },
];

/// What the other directory looks like: names, and the victim's content and mode.
fn other_state(other: &Path) -> String {
    let mut out = String::new();
    for n in harness::names(other) {
        let p = other.join(&n);
        let md = fs::symlink_metadata(&p).expect("stat");
        out.push_str(&format!(
            "{n} {:o} {:?}\n",
            md.permissions().mode() & 0o7777,
            fs::read_to_string(&p).unwrap_or_default()
        ));
    }
    out
}

/// A regular file's text (gzip decompressed); empty for anything else, links included.
fn file_text(p: &Path) -> String {
    if !fs::symlink_metadata(p).is_ok_and(|m| m.is_file()) {
        return String::new();
    }
    if p.extension().is_some_and(|e| e == "gz") {
        let out = std::process::Command::new("gzip")
            .arg("-dc")
            .arg(p)
            .output()
            .expect("gzip");
        return String::from_utf8_lossy(&out.stdout).into_owned();
    }
    harness::read_text(p)
}

/// Regular files of the log directory (links not followed) that hold the secret, gzip
/// included.
fn leaked(log: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for n in harness::names(log) {
        let p = log.join(&n);
        let Ok(md) = fs::symlink_metadata(&p) else {
            continue;
        };
        if !md.is_file() {
            continue;
        }
        let text = file_text(&p);
        if text.contains(SECRET.trim_end()) {
            out.push(n);
        }
    }
    out
}

/// One case's outcome: what changed in the other directory, what leaked into the log.
struct Outcome {
    changed: bool,
    leaked: Vec<String>,
    code: i32,
    stderr: String,
    lines_kept: usize,
    all_lines: bool,
}

impl Outcome {
    fn cell(&self) -> String {
        let mut s = if self.changed {
            "**wrote into the other directory**".to_string()
        } else {
            "other directory untouched".to_string()
        };
        if !self.leaked.is_empty() {
            s.push_str(&format!(
                "; **its file copied into the log** ({})",
                self.leaked.join(", ")
            ));
        }
        s.push_str(&format!(
            "; exit {}; {} of 50 lines in the log",
            self.code, self.lines_kept
        ));
        let says: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.contains("link") || l.contains("symbolic"))
            .collect();
        if let Some(l) = says.first() {
            s.push_str(&format!("; `{l}`"));
        }
        s
    }
}

fn run_case(s: &Scratch, imp: Impl, n: usize, case: &Case) -> Outcome {
    let base = s.mkdir(format!("{}-{n}", imp.name()));
    let other = base.join("other");
    let log = base.join("log");
    fs::create_dir_all(&other).expect("mkdir other");
    fs::create_dir_all(&log).expect("mkdir log");
    fs::write(other.join("victim"), SECRET).expect("victim");
    fs::set_permissions(other.join("victim"), fs::Permissions::from_mode(0o744)).expect("chmod");
    if !case.config.is_empty() {
        fs::write(log.join("config"), case.config).expect("config");
    }
    symlink(case.target, log.join(case.link)).expect("plant the link");
    let before = other_state(&other);
    let input: String = (1..=50).map(|i| format!("line {i}\n")).collect();
    let logs = format!("{}-{n}/log", imp.name());
    let ended = svlogd_with_input(s, imp, &[&logs], input.as_bytes(), Duration::from_secs(30));
    // Compression and processors run in the background: give them their time.
    std::thread::sleep(Duration::from_millis(200));
    let after = other_state(&other);
    // The regular files in the order they were written (archives by name, then `current`;
    // a line can be split between two files by the size limit).
    let mut text = String::new();
    let mut names: Vec<String> = harness::names(&log)
        .into_iter()
        .filter(|n| n.starts_with('@'))
        .collect();
    names.push("current".into());
    for name in names {
        text.push_str(&file_text(&log.join(&name)));
    }
    let kept: std::collections::BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("line "))
        .collect();
    Outcome {
        changed: before != after,
        leaked: leaked(&log),
        code: ended.code,
        stderr: ended.stderr,
        lines_kept: kept.len(),
        all_lines: case.all_lines,
    }
}

/// The `Uid:`, `Gid:` and `Groups:` lines a processor of svlogd run as `nobody` reports.
fn processor_ids(s: &Scratch, imp: Impl) -> String {
    let log = s.mkdir(format!("ids-{}", imp.name()));
    fs::write(
        log.join("config"),
        "s100\n!cat >/dev/null; grep -E '^(Uid|Gid|Groups):' /proc/self/status\n",
    )
    .expect("config");
    nix::unistd::chown(&log, Some(65534.into()), Some(65534.into())).expect("chown");
    let input: String = (1..=20).map(|i| format!("line {i}\n")).collect();
    let mut c = imp.cmd("chpst");
    c.args(["-u", "nobody"])
        .arg(imp.bin("svlogd"))
        .arg(&log)
        .current_dir(&s.path);
    let out = harness::run_with_input(&mut c, input.as_bytes(), Duration::from_secs(30));
    assert_eq!(
        harness::code(out.status),
        0,
        "{} svlogd as nobody: {}",
        imp.name(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut found = String::new();
    for n in harness::names(&log) {
        if n.ends_with(".s") {
            found = harness::read_text(log.join(&n));
            break;
        }
    }
    found
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn svlogd_planted_links_and_processor_privileges() {
    let s = Scratch::new("rel-seclinks");
    let mut r = Report::new(
        "11-security-svlogd-links",
        "Security: svlogd and planted links",
    );
    r.how(
        "For each case a log directory gets a symbolic link planted under one of the names \
         svlogd writes or reads, pointing into a sibling directory `other` that holds `victim` \
         (a secret line, mode 0744); svlogd then gets 50 lines and the end of input, with a \
         processor or compression where the name is only used then. Checked: `other` is \
         exactly as before (names, modes, contents), no regular file of the log directory \
         holds the secret, and the lines are in the log. Then svlogd runs as `nobody` \
         (`chpst -u nobody`) with a processor that prints its `Uid`, `Gid` and `Groups` from \
         /proc/self/status into the archive. `tests/reliability/log_security.rs`.",
    );
    let mut n = 0;
    let mut bad_ours = 0;
    let mut bad_runit = 0;
    for case in &CASES {
        n += 1;
        let ours = run_case(&s, Impl::Ours, n, case);
        let runit = (frame::with_runit() && !case.ours_only).then(|| {
            n += 1;
            run_case(&s, Impl::Runit, n, case)
        });
        let unsafe_ = |o: &Outcome| o.changed || !o.leaked.is_empty();
        bad_ours += usize::from(unsafe_(&ours));
        bad_runit += usize::from(runit.as_ref().is_some_and(unsafe_));
        r.row(
            case.name,
            ours.cell(),
            runit.as_ref().map(Outcome::cell).unwrap_or_else(|| {
                if case.ours_only && frame::with_runit() {
                    "(not runit's: ignores `compress`)".into()
                } else {
                    String::new()
                }
            }),
        );
        r.check(
            !ours.changed,
            &format!("{}: other directory untouched", case.name),
        );
        r.check(
            ours.leaked.is_empty(),
            &format!("{}: nothing read through the link", case.name),
        );
        r.check(ours.code == 0, &format!("{}: exit 0", case.name));
        r.check(
            !ours.all_lines || ours.lines_kept == 50,
            &format!("{}: every line in the log", case.name),
        );
    }
    let ids_ours = processor_ids(&s, Impl::Ours);
    let ids_runit = frame::with_runit().then(|| processor_ids(&s, Impl::Runit));
    r.row(
        "processor's ids, svlogd run as `nobody`",
        &ids_ours,
        ids_runit.clone().unwrap_or_default(),
    );
    let nobody = ids_ours
        .split("; ")
        .all(|l| l.split(' ').skip(1).all(|v| v == "65534"));
    r.check(
        nobody && ids_ours.contains("Uid:") && ids_ours.contains("Groups:"),
        "the processor runs with the logger's ids only",
    );
    r.summary(
        format!(
            "{bad_ours} of {} planted links followed; processor as nobody: {}",
            CASES.len(),
            if nobody { "yes" } else { "no" }
        ),
        if frame::with_runit() {
            format!(
                "{bad_runit} of {} planted links followed",
                CASES.iter().filter(|c| !c.ours_only).count()
            )
        } else {
            String::new()
        },
    );
    r.note(
        "Ours opens every file inside a log directory with O_NOFOLLOW (the directory itself \
         and `config` may still be links, as admins use them); a link planted as `current`, \
         `lock` or `state` is removed with a warning and a real file takes its place, and a \
         link with an archive's name is never processed, compressed or forwarded (pruning \
         removes the link, not its target). `newstate` and a processor's `.t` were already \
         removed before each processor run.",
    );
    r.finish();
}
