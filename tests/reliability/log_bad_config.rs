//! Scenario 8, svlogd's half: bad configuration. Every kind of malformed `config` line, a
//! `config` that is a directory, a FIFO, unreadable or a dangling link, log directories that
//! are missing or a file, and a log directory removed or made read-only (`chattr +i`) while
//! svlogd writes to it. svlogd always runs with two directories, `good` and `bad`: it must say
//! what is wrong in runit's words (`svlogd: warning: ...`, `fatal:`), exit with the documented
//! code, keep logging to `good`, and lose no line it accepted.

use crate::frame::{self, Report};
use harness::{comes_true, log_text, Impl, Proc, Scratch};
use nix::mount::MsFlags;
use nix::sys::signal::Signal;
use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// What happens to `bad` while svlogd runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum During {
    Nothing,
    Removed,
    /// `chattr +i` on `bad` and its `current` until the second half of the lines was sent.
    ReadOnly,
}

/// One kind of bad configuration.
struct Case {
    name: &'static str,
    /// Prepares `bad` (inside the case's directory).
    setup: &'static dyn Fn(&Path),
    during: During,
    /// svlogd runs as `nobody` (through `chpst -u nobody`).
    as_nobody: bool,
    /// The directories svlogd gets (`good bad` for most).
    args: &'static [&'static str],
    /// Our exit code.
    code: i32,
    /// What our stderr must say (empty: runit says nothing either).
    says: &'static [&'static str],
    /// Whether every line must reach `bad` (false where `bad` cannot be written at all, or
    /// lines are documented to be dropped).
    bad_gets_all: bool,
}

fn config(text: &'static [u8]) -> impl Fn(&Path) {
    move |bad: &Path| {
        fs::create_dir_all(bad).expect("mkdir bad");
        fs::write(bad.join("config"), text).expect("config");
    }
}

fn cases() -> Vec<Case> {
    const BOTH: &[&str] = &["good", "bad"];
    let plain = |name, text: &'static [u8], says: &'static [&'static str]| Case {
        name,
        setup: Box::leak(Box::new(config(text))),
        during: During::Nothing,
        as_nobody: false,
        args: BOTH,
        code: 0,
        says,
        bad_gets_all: true,
    };
    let overlong: &'static [u8] = Box::leak(
        [b"-".as_slice(), &vec![b'x'; 1 << 20], b"\ns100000\n"]
            .concat()
            .into_boxed_slice(),
    );
    vec![
        plain("unknown directives (`xyz`, `Q`, `?`)", b"xyz\nQ\n?\n", &[]),
        plain(
            "bad numbers (`sfoo`, `n-1`, `N`, `t1d`)",
            b"sfoo\nn-1\nN\nt1d\n",
            &[],
        ),
        plain(
            "overflowing number (`s` + 23 digits)",
            b"s99999999999999999999999\n",
            &[],
        ),
        plain("`s` with garbage (`s 1000`)", b"s 1000\n", &[]),
        plain(
            "`u` with a bad host (`unot.an.ip`)",
            b"unot.an.ip\n",
            &["svlogd: warning: unable to scan ip address: not.an.ip"],
        ),
        plain(
            "`u` with bad ports (`:0`, `:abc`)",
            b"u127.0.0.1:0\nu127.0.0.1:abc\n",
            &[
                "svlogd: warning: unable to scan port number: 0",
                "svlogd: warning: unable to scan port number: abc",
            ],
        ),
        plain(
            "`U` with a host name (`Ulocalhost`)",
            b"Ulocalhost\n",
            &["svlogd: warning: unable to scan ip address: localhost"],
        ),
        plain(
            "empty patterns (`+`, `-`, `e`, `E` alone)",
            b"+\n-\ne\nE\n",
            &[],
        ),
        plain("a 1 MiB line (a pattern)", overlong, &[]),
        plain(
            "NUL bytes in lines (`p\\0x`, `+foo\\0bar`)",
            b"p\0x\n+foo\0bar\n",
            &[],
        ),
        plain(
            "our additions with bad values",
            b"compress gzip 99\nmaxage banana\noverload sometimes\n",
            &[
                "svlogd: warning: invalid config line: compress gzip 99",
                "svlogd: warning: invalid config line: maxage banana",
                "svlogd: warning: invalid config line: overload sometimes",
            ],
        ),
        Case {
            setup: &|bad| fs::create_dir_all(bad.join("config")).expect("mkdir config"),
            says: &["svlogd: warning: unable to read config: bad: is a directory"],
            ..plain("`config` is a directory", b"", &[])
        },
        Case {
            setup: &|bad| {
                fs::create_dir_all(bad).expect("mkdir bad");
                nix::unistd::mkfifo(
                    &bad.join("config"),
                    nix::sys::stat::Mode::from_bits_truncate(0o644),
                )
                .expect("mkfifo");
            },
            ..plain("`config` is a FIFO, no writer", b"", &[])
        },
        Case {
            setup: &|bad| {
                fs::create_dir_all(bad).expect("mkdir bad");
                fs::write(bad.join("config"), "s100\n").expect("config");
                fs::set_permissions(bad.join("config"), fs::Permissions::from_mode(0o000))
                    .expect("chmod");
            },
            as_nobody: true,
            says: &["svlogd: warning: unable to read config: bad: access denied"],
            ..plain("`config` unreadable (mode 0, svlogd as nobody)", b"", &[])
        },
        Case {
            setup: &|bad| {
                fs::create_dir_all(bad).expect("mkdir bad");
                std::os::unix::fs::symlink("/nonexistent/config", bad.join("config"))
                    .expect("symlink");
            },
            ..plain("`config` a dangling symlink", b"", &[])
        },
        Case {
            setup: &|_| {},
            says: &["svlogd: warning: unable to open log directory: bad: file does not exist"],
            bad_gets_all: false,
            ..plain("log directory missing", b"", &[])
        },
        Case {
            setup: &|bad| fs::write(bad, "").expect("file"),
            says: &["svlogd: warning: unable to change directory: bad: not a directory"],
            bad_gets_all: false,
            ..plain("log directory is a file", b"", &[])
        },
        Case {
            setup: &|_| {},
            args: &["bad", "bad2"],
            code: 111,
            says: &[
                "svlogd: warning: unable to open log directory: bad: file does not exist",
                "svlogd: fatal: no functional log directories.",
            ],
            bad_gets_all: false,
            ..plain("every log directory missing", b"", &[])
        },
        Case {
            during: During::Removed,
            // (Which step fails first, the rename or the new `current`, is a matter of
            // timing.)
            says: &["svlogd: warning: log directory removed, giving it up: bad"],
            bad_gets_all: false,
            ..plain(
                "log directory removed while running (`s200`)",
                b"s200\n",
                &[],
            )
        },
        Case {
            during: During::ReadOnly,
            says: &["svlogd: pausing: unable to write to current: bad: permission denied"],
            ..plain(
                "read-only while running (`chattr +i`), `overload block`",
                b"",
                &[],
            )
        },
        Case {
            during: During::ReadOnly,
            says: &["svlogd: warning: dropping lines, directory cannot keep up: bad"],
            bad_gets_all: false,
            ..plain(
                "read-only while running (`chattr +i`), `overload drop`",
                b"overload drop\n",
                &[],
            )
        },
    ]
}

/// What one run of a case showed.
struct Outcome {
    /// Exit code; `None`: it had not exited 15 s after its input ended (then TERM, KILL).
    code: Option<i32>,
    stderr: Vec<String>,
    good: usize,
    /// Lines of `good` that had arrived while `bad` was read-only (before it was writable
    /// again).
    good_while_blocked: Option<usize>,
    bad: usize,
    /// `svlogd: dropped N lines` markers in `bad`, summed.
    dropped: usize,
}

/// The numbers of the `line N` lines in a log directory.
fn numbers(dir: &Path) -> BTreeSet<u32> {
    log_text(dir)
        .lines()
        .filter_map(|l| l.rsplit_once("line ").and_then(|(_, n)| n.parse().ok()))
        .collect()
}

fn dropped(dir: &Path) -> usize {
    log_text(dir)
        .lines()
        .filter_map(|l| {
            let rest = l.split_once("svlogd: dropped ")?.1;
            rest.split(' ').next()?.parse::<usize>().ok()
        })
        .sum()
}

fn chattr(flag: &str, paths: &[&Path]) {
    let st = Command::new("chattr")
        .arg(flag)
        .args(paths)
        .status()
        .expect("chattr (e2fsprogs)");
    assert!(st.success(), "chattr {flag} failed on an ext4 file system");
}

fn run(s: &Scratch, imp: Impl, n: usize, case: &Case, lines: usize) -> Outcome {
    let cwd = s.mkdir(format!("{}-{n}", imp.name()));
    // Made read-only with `chattr +i`: on an ext4 of its own, as the scratch file system may
    // not have the attribute.
    let _fs = (case.during == During::ReadOnly)
        .then(|| harness::Ext4::mount(s, &format!("fs-{n}"), &cwd, 16, MsFlags::empty()));
    fs::create_dir_all(cwd.join("good")).expect("mkdir good");
    (case.setup)(&cwd.join("bad"));
    let err = fs::File::create(cwd.join("stderr")).expect("stderr file");
    let mut c = if case.as_nobody {
        for d in ["good", "bad"] {
            nix::unistd::chown(&cwd.join(d), Some(65534.into()), Some(65534.into()))
                .expect("chown");
        }
        let mut c = imp.cmd("chpst");
        c.args(["-u", "nobody"])
            .arg(imp.bin_for_anyone(s, "svlogd"));
        c
    } else {
        imp.cmd("svlogd")
    };
    c.args(case.args)
        .current_dir(&cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(err);
    let mut p = Proc::spawn_group(&mut c);
    let send = |p: &mut Proc, from: usize, to: usize| {
        let text: String = (from..=to).map(|i| format!("line {i}\n")).collect();
        if let Some(stdin) = p.child.stdin.as_mut() {
            use std::io::Write;
            let _ = stdin.write_all(text.as_bytes());
        }
    };
    let good = cwd.join("good");
    let bad = cwd.join("bad");
    let half = lines / 2;
    send(&mut p, 1, half);
    let mut good_while_blocked = None;
    if case.during != During::Nothing {
        comes_true(Duration::from_secs(5), || numbers(&good).len() >= half);
        match case.during {
            // Again while svlogd creates files in it (ENOTEMPTY).
            During::Removed => harness::wait_until(Duration::from_secs(10), "rm -rf bad", || {
                fs::remove_dir_all(&bad).is_ok() || !bad.exists()
            }),
            During::ReadOnly => chattr("+i", &[&bad, &bad.join("current")]),
            During::Nothing => {}
        }
    }
    send(&mut p, half + 1, lines);
    if case.during == During::ReadOnly {
        // In drop mode (the case whose `bad` may miss lines) every line reaches `good`;
        // otherwise svlogd pauses on `bad` (and says so), and `good` gets what it got.
        let drop_mode = !case.bad_gets_all;
        let err = cwd.join("stderr");
        comes_true(Duration::from_secs(20), || {
            numbers(&good).len() >= lines
                || (!drop_mode && harness::read_text(&err).contains("pausing: unable to write"))
        });
        good_while_blocked = Some(numbers(&good).len());
        chattr("-i", &[&bad, &bad.join("current")]);
    }
    p.close_stdin();
    let code = p.exit_within(Duration::from_secs(15)).map(harness::code);
    if code.is_none() {
        p.signal(Signal::SIGTERM);
        if !comes_true(Duration::from_secs(2), || !p.is_running()) {
            p.signal(Signal::SIGKILL);
        }
        let _ = p.wait_timeout(Duration::from_secs(5));
    }
    let mut stderr: Vec<String> = Vec::new();
    for l in harness::read_text(cwd.join("stderr")).lines() {
        if !stderr.iter().any(|x| x == l) {
            stderr.push(l.to_string());
        }
    }
    let bad_numbers = if bad.is_dir() { numbers(&bad).len() } else { 0 };
    Outcome {
        code,
        stderr,
        good: numbers(&good).len(),
        good_while_blocked,
        bad: bad_numbers,
        dropped: if bad.is_dir() { dropped(&bad) } else { 0 },
    }
}

impl Outcome {
    fn cell(&self, lines: usize) -> String {
        let code = match self.code {
            Some(c) => format!("exit {c}"),
            None => "**hung** (TERM/KILL 15 s after EOF)".to_string(),
        };
        let blocked = match self.good_while_blocked {
            Some(g) => format!(" ({g} while `bad` was read-only)"),
            None => String::new(),
        };
        let dropped = if self.dropped > 0 {
            format!(", {} counted as dropped", self.dropped)
        } else {
            String::new()
        };
        let says = if self.stderr.is_empty() {
            "nothing on stderr".to_string()
        } else {
            self.stderr
                .iter()
                .map(|l| format!("`{l}`"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        format!(
            "{code}; good {}/{lines}{blocked}, bad {}/{lines}{dropped}; {says}",
            self.good, self.bad
        )
    }
}

#[test]
fn bad_config_svlogd() {
    let lines = frame::size(200, 2000);
    let s = Scratch::new("rel-badconf");
    let mut r = Report::new("08-bad-config-svlogd", "Bad configuration (svlogd)");
    r.how(&format!(
        "For each case a fresh svlogd runs with two log directories, `good` (no config) and \
         `bad` (the case), and gets {lines} numbered lines in two halves (a directory is \
         removed, or made immutable with `chattr +i` on it and its `current`, between the \
         halves; the attribute is cleared again before the input ends). Recorded: the exit \
         code (svlogd that has not exited 15 s after the end of its input is TERMed, then \
         KILLed), every distinct stderr line, and how many of the lines each directory \
         holds. `tests/reliability/log_bad_config.rs`."
    ));
    let mut n = 0;
    let mut held = 0;
    let mut runit_hung = 0;
    let cases = cases();
    for case in &cases {
        let mut outs = Vec::new();
        for imp in frame::impls() {
            n += 1;
            outs.push((imp, run(&s, imp, n, case, lines)));
        }
        let ours = &outs[0].1;
        let runit = outs.get(1).map(|(_, o)| o);
        runit_hung += usize::from(runit.is_some_and(|o| o.code.is_none()));
        r.row(
            case.name,
            ours.cell(lines),
            runit.map(|o| o.cell(lines)).unwrap_or_default(),
        );
        let mut ok = true;
        let mut check = |cond: bool, what: String| {
            ok &= cond;
            r.check(cond, &what);
        };
        check(
            ours.code == Some(case.code),
            format!("{}: exit {}", case.name, case.code),
        );
        for want in case.says {
            check(
                ours.stderr.iter().any(|l| l == want),
                format!("{}: says `{want}`", case.name),
            );
        }
        if case.code == 0 {
            check(
                ours.good == lines,
                format!("{}: every line in `good`", case.name),
            );
        }
        if case.bad_gets_all {
            check(
                ours.bad == lines,
                format!("{}: every line in `bad`", case.name),
            );
        }
        if case.during == During::ReadOnly && !case.bad_gets_all {
            check(
                ours.good_while_blocked == Some(lines)
                    && ours.bad + ours.dropped == lines
                    && ours.dropped > 0,
                format!(
                    "{}: `good` unaffected, every line of `bad` written or counted",
                    case.name
                ),
            );
        }
        held += usize::from(ok);
    }
    r.summary(
        format!(
            "{held} of {} cases: right message and exit code, no line lost",
            cases.len()
        ),
        if frame::with_runit() {
            format!("hung in {runit_hung} case(s); see the table")
        } else {
            String::new()
        },
    );
    r.note(
        "Deliberately the same as runit: lines that start with an unknown byte and numbers \
         that do not parse are ignored without a word (`sfoo` is `s0`, no size rotation); \
         `svlogd -C DIR` names every such line with its number. Differences, each a fix: a \
         `U` line that does not parse changes nothing (runit's kept \"UDP only\" and wrote \
         the directory's lines nowhere); a `config` FIFO is read without blocking (ours \
         blocked in open(2), deaf to TERM, until the suite found it); a directory removed \
         while open is given up with a warning instead of pausing for ever and holding up \
         every other directory (exit 111 once none is left); with `overload drop` a \
         read-only directory sheds its lines, counted and marked, while the others go on \
         (the marker used to be lost when no line came after the directory recovered; it is \
         now written at the end). With `overload block` (runit's behaviour, the default) \
         svlogd stops taking input while the directory cannot be written, and takes it up \
         again once it can: nothing is lost.",
    );
    r.finish();
}
