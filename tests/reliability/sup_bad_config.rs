//! Scenario 8, supervision half: a broken service directory gets a clear runit-style message
//! and the documented exit code, and nothing else suffers: `supervise` a file or a FIFO or a
//! link to nowhere, the FIFOs or the lock replaced, `run` a directory, a dangling link, not
//! executable, `log` broken, names with spaces, newlines and invalid UTF-8.

use crate::frame::{self, secs, Report};
use crate::sup_common::{tally, T};
use harness::{
    comes_true, cpu_time, read_status, runsv, runsv_err, runsvdir, service, wait_new_run,
    wait_until, Impl, Proc, Scratch,
};
use nix::sys::signal::Signal;
use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

const RUN: &str = "#!/bin/sh\nexec sleep 100000\n";

/// One broken service directory: how to break it, and what our runsv must say.
struct Case {
    name: &'static str,
    what: &'static str,
    setup: fn(&Path),
    /// Part of our message.
    expect: &'static str,
    /// runsv exits 111 at once (otherwise it keeps running).
    fatal: bool,
    /// Its message comes from a start retried once a second (not from each status change).
    paced: bool,
}

fn file(p: &Path) {
    fs::write(p, "x\n").expect("write");
}

const CASES: &[Case] = &[
    Case {
        name: "supervise-file",
        what: "`supervise` is a regular file",
        setup: |d| file(&d.join("supervise")),
        expect: "fatal: unable to open supervise/lock: not a directory",
        fatal: true,
        paced: false,
    },
    Case {
        name: "supervise-fifo",
        what: "`supervise` is a FIFO",
        setup: |d| {
            nix::unistd::mkfifo(&d.join("supervise"), nix::sys::stat::Mode::S_IRWXU)
                .expect("mkfifo")
        },
        expect: "fatal: unable to open supervise/lock: not a directory",
        fatal: true,
        paced: false,
    },
    Case {
        name: "supervise-deep-link",
        what: "`supervise` is a dangling symlink two levels deep",
        setup: |d| symlink("missing/deeper", d.join("supervise")).expect("symlink"),
        expect: "fatal: unable to create ./supervise -> missing/deeper: file does not exist",
        fatal: true,
        paced: false,
    },
    Case {
        name: "supervise-loop",
        what: "`supervise` is a symlink to itself",
        setup: |d| symlink("supervise", d.join("supervise")).expect("symlink"),
        expect: "fatal: unable to open supervise/lock: symbolic link loop",
        fatal: true,
        paced: false,
    },
    Case {
        name: "lock-dir",
        what: "`supervise/lock` is a directory",
        setup: |d| fs::create_dir_all(d.join("supervise/lock")).expect("mkdir"),
        expect: "fatal: unable to open supervise/lock: is a directory",
        fatal: true,
        paced: false,
    },
    Case {
        name: "control-file",
        what: "`supervise/control` is a regular file",
        setup: |d| {
            fs::create_dir(d.join("supervise")).expect("mkdir");
            file(&d.join("supervise/control"));
        },
        expect: "fatal: supervise/control exists but is not a fifo",
        fatal: true,
        paced: false,
    },
    Case {
        name: "ok-file",
        what: "`supervise/ok` is a regular file",
        setup: |d| {
            fs::create_dir(d.join("supervise")).expect("mkdir");
            file(&d.join("supervise/ok"));
        },
        expect: "fatal: supervise/ok exists but is not a fifo",
        fatal: true,
        paced: false,
    },
    Case {
        name: "not-a-directory",
        what: "the service directory is a regular file",
        setup: |d| {
            fs::remove_dir_all(d).expect("rm");
            file(d);
        },
        expect: "fatal: unable to change to directory: not a directory",
        fatal: true,
        paced: false,
    },
    Case {
        name: "run-dir",
        what: "`run` is a directory",
        setup: |d| {
            fs::remove_file(d.join("run")).expect("rm");
            fs::create_dir(d.join("run")).expect("mkdir");
        },
        expect: "fatal: unable to start ./run: is a directory",
        fatal: false,
        paced: true,
    },
    Case {
        name: "run-link",
        what: "`run` is a dangling symlink",
        setup: |d| {
            fs::remove_file(d.join("run")).expect("rm");
            symlink("nowhere", d.join("run")).expect("symlink");
        },
        expect: "fatal: unable to start ./run: file does not exist",
        fatal: false,
        paced: true,
    },
    Case {
        name: "run-noexec",
        what: "`run` is not executable",
        setup: |d| {
            fs::set_permissions(d.join("run"), fs::Permissions::from_mode(0o644)).expect("chmod")
        },
        expect: "fatal: unable to start ./run: access denied",
        fatal: false,
        paced: true,
    },
    Case {
        name: "finish-dir",
        what: "`finish` is a directory (and `run` exits at once)",
        setup: |d| {
            fs::write(d.join("run"), "#!/bin/sh\nexit 1\n").expect("write");
            fs::create_dir(d.join("finish")).expect("mkdir");
        },
        expect: "fatal: unable to start ./finish: is a directory",
        fatal: false,
        paced: true,
    },
    Case {
        name: "log-link",
        what: "`log` is a dangling symlink",
        setup: |d| symlink("nowhere", d.join("log")).expect("symlink"),
        expect: "warning: ./log: dangling symbolic link: no log service.",
        fatal: false,
        paced: true,
    },
    Case {
        name: "log-file",
        what: "`log` is a regular file",
        setup: |d| file(&d.join("log")),
        expect: "warning: ./log: not a directory.",
        fatal: false,
        paced: true,
    },
    Case {
        name: "log-run-dir",
        what: "`log/run` is a directory",
        setup: |d| fs::create_dir_all(d.join("log/run")).expect("mkdir"),
        expect: "fatal: unable to start log/./run: is a directory",
        fatal: false,
        paced: true,
    },
    Case {
        name: "status-dir",
        what: "`supervise/status` is a directory",
        setup: |d| fs::create_dir_all(d.join("supervise/status")).expect("mkdir"),
        expect: "warning: unable to rename status.new to supervise/status: is a directory",
        fatal: false,
        paced: false,
    },
];

/// What one runsv said and did on one broken directory.
struct Outcome {
    /// Its distinct stderr lines, the directory name replaced by `DIR`.
    lines: Vec<String>,
    /// How many stderr lines in the window.
    count: usize,
    /// Exit code, or `None` if it was still running at the end of the window.
    code: Option<i32>,
    /// How long until it exited.
    after: Duration,
    /// How long it ran (until it exited or was TERMed): the window, or longer on a slow
    /// machine.
    ran: Duration,
}

impl Outcome {
    fn cell(&self, window: Duration) -> String {
        let msg = self
            .lines
            .iter()
            .map(|l| format!("`{l}`"))
            .collect::<Vec<_>>()
            .join(" ");
        let msg = if msg.is_empty() {
            "(nothing)".into()
        } else {
            msg
        };
        match self.code {
            Some(c) => format!("{msg}, exit {c} after {}", secs(self.after)),
            None => format!(
                "{msg}, {} line{} in {}, runsv keeps running",
                self.count,
                if self.count == 1 { "" } else { "s" },
                secs(window)
            ),
        }
    }
}

/// Runs `imp`'s runsv on every case at once for `window`; TERMs the ones still running.
fn run_cases(imp: Impl, window: Duration) -> Vec<Outcome> {
    let s = Scratch::new(&format!("rel-badcfg-{}", imp.name()));
    let mut procs: Vec<(Proc, Instant)> = Vec::new();
    for c in CASES {
        let dir = service(&s, c.name, RUN);
        (c.setup)(&dir);
        procs.push((runsv(&s, imp, &dir), Instant::now()));
    }
    let end = Instant::now() + window;
    let mut exits: Vec<Option<(i32, Duration)>> = vec![None; procs.len()];
    while Instant::now() < end {
        for (i, (p, t0)) in procs.iter_mut().enumerate() {
            if exits[i].is_none() {
                if let Ok(Some(st)) = p.child.try_wait() {
                    exits[i] = Some((harness::code(st), t0.elapsed()));
                }
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut out = Vec::new();
    for (i, c) in CASES.iter().enumerate() {
        let (p, t0) = &mut procs[i];
        let ran = match exits[i] {
            Some((_, after)) => after,
            None => t0.elapsed(),
        };
        if exits[i].is_none() {
            p.signal(Signal::SIGTERM);
            p.wait_timeout(T);
        }
        let text = harness::read_text(s.join(runsv_err(imp, &s.join(c.name))));
        let all: Vec<String> = text
            .lines()
            .map(|l| {
                l.replace(
                    &format!("runsv {}:", s.join(c.name).display()),
                    "runsv DIR:",
                )
            })
            .collect();
        let mut lines: Vec<String> = Vec::new();
        for l in &all {
            if !lines.contains(l) {
                lines.push(l.clone());
            }
        }
        out.push(Outcome {
            lines,
            count: all.len(),
            code: exits[i].map(|(c, _)| c),
            after: exits[i].map(|(_, d)| d).unwrap_or_default(),
            ran,
        });
    }
    out
}

/// Service names that must work like any other.
fn odd_names() -> Vec<OsString> {
    [
        &b"with space"[..],
        b"new\nline",
        b"tab\there",
        b"-dash",
        b"bad\xffutf-8",
        "\u{fc}n\u{ef}c\u{f6}d\u{e9}".as_bytes(),
        b"star*and?",
    ]
    .iter()
    .map(|b| OsString::from_vec(b.to_vec()))
    .collect()
}

/// The whole set under one runsvdir beside a healthy service.
struct Tree {
    good_restarts: u32,
    good_lines_gap: u64,
    good_lines_grew: bool,
    odd_running: usize,
    odd_controlled: usize,
    dangling_warned: bool,
    runsvdir_cpu: Duration,
    wall: Duration,
    messages: usize,
}

fn run_tree(imp: Impl, period: Duration) -> Tree {
    let s = Scratch::new(&format!("rel-badtree-{}", imp.name()));
    let sdir = s.mkdir("service");
    let out = s.join("good.out");
    for c in CASES {
        let dir = service(&s, &format!("service/{}", c.name), RUN);
        (c.setup)(&dir);
    }
    let names = odd_names();
    for n in &names {
        let d = sdir.join(n);
        fs::create_dir(&d).expect("mkdir odd");
        fs::write(d.join("run"), RUN).expect("run");
        fs::set_permissions(d.join("run"), fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    symlink("/nonexistent/service", sdir.join("dangling")).expect("symlink");
    file(&sdir.join("a-regular-file"));
    let good = service(
        &s,
        "service/good",
        "#!/bin/sh\necho start $$\ni=0\nwhile :; do i=$((i+1)); echo \"$$ $i\"; sleep 0.05; done\n",
    );
    s.script(
        "service/good/log/run",
        &format!("#!/bin/sh\nexec cat >>{}\n", out.display()),
    );
    let tree = runsvdir(&s, imp, &[&sdir]);
    let t0 = Instant::now();
    let first = wait_new_run(&s, &good, 0, T).pid;
    let mut odd_running = 0;
    for n in &names {
        let d = sdir.join(n);
        let ok = comes_true(T, || read_status(&d).is_some_and(|st| st.pid != 0));
        odd_running += usize::from(ok);
    }
    let lines_before = harness::read_text(&out).lines().count();
    // The tools on the odd names: sv down and up by name (SVDIR), svc and svok by path.
    let mut odd_controlled = 0;
    for n in &names {
        let mut down = imp.cmd("sv");
        down.env("SVDIR", &sdir).args(["-w", "5", "down"]).arg(n);
        let d = harness::run(&mut down, Duration::from_secs(10));
        let mut up = harness::ours("svc");
        up.arg("-u").arg(sdir.join(n));
        let u = harness::run(&mut up, Duration::from_secs(10));
        let running = comes_true(T, || {
            read_status(&sdir.join(n)).is_some_and(|st| st.pid != 0)
        });
        let mut ok = harness::ours("svok");
        ok.arg(sdir.join(n));
        let k = harness::run(&mut ok, Duration::from_secs(10));
        if d.status.success() && u.status.success() && running && k.status.success() {
            odd_controlled += 1;
        }
    }
    let cpu0 = cpu_time(tree.pid()).unwrap_or_default();
    let rest = period.saturating_sub(t0.elapsed());
    std::thread::sleep(rest);
    let runsvdir_cpu = cpu_time(tree.pid()).unwrap_or_default() - cpu0;
    let wall = rest;
    let now = read_status(&good).map_or(0, |st| st.pid);
    let good_restarts = u32::from(now != first);
    wait_until(T, "the good service still logging", || {
        harness::read_text(&out).lines().count() > lines_before
    });
    let t = tally(&harness::read_text(&out));
    let good_lines_gap = t.lost(first, 0) + t.duplicates + t.torn;
    let good_lines_grew = harness::read_text(&out).lines().count() > lines_before;
    let err = harness::read_text(s.join("runsvdir.err"));
    tree.signal(Signal::SIGHUP);
    Tree {
        good_restarts,
        good_lines_gap,
        good_lines_grew,
        odd_running,
        odd_controlled,
        dangling_warned: err.contains("unable to stat dangling: file does not exist"),
        runsvdir_cpu,
        wall,
        messages: err.lines().count(),
    }
}

#[test]
fn broken_service_directories() {
    let window = Duration::from_millis(frame::size(2500, 5000));
    let mut r = Report::new(
        "08-bad-config-supervise",
        "Bad configuration: service directories",
    );
    r.how(&format!(
        "Each broken directory below gets its own runsv for {} (then TERM if it is still \
         running); the message (directory name replaced by DIR) and the exit code are \
         recorded. Then all of them, {} services with odd names (a space, a newline, a tab, a \
         leading dash, invalid UTF-8, non-ASCII, glob characters), a dangling symlink and a \
         regular file are put under one runsvdir beside a healthy service that logs a line \
         every 50 ms; each odd name is taken down with `sv -w 5 down NAME` and up with \
         `svc -u`, checked with `svok`, and for {} the healthy service must keep its pid and \
         its log every line. `tests/reliability/sup_bad_config.rs`.",
        secs(window),
        odd_names().len(),
        secs(Duration::from_secs(frame::size(4, 15)))
    ));
    let mut cases = Vec::new();
    for imp in frame::impls() {
        cases.push((imp, run_cases(imp, window)));
    }
    let ours = &cases[0].1;
    let runit = cases.get(1).map(|(_, c)| c);
    for (i, c) in CASES.iter().enumerate() {
        let o = &ours[i];
        r.row(
            c.what,
            o.cell(window),
            runit.map(|v| v[i].cell(window)).unwrap_or_default(),
        );
        let said = o.lines.iter().any(|l| l.contains(c.expect));
        r.check(said, &format!("{}: says `{}`", c.name, c.expect));
        r.check(
            !o.lines.iter().any(|l| l.contains("panicked")),
            &format!("{}: no panic", c.name),
        );
        if c.fatal {
            r.check(o.code == Some(111), &format!("{}: exits 111", c.name));
        } else {
            r.check(
                o.code.is_none(),
                &format!("{}: runsv keeps running", c.name),
            );
        }
        if c.paced {
            // runit's pace: one attempt a second, so one line a second at most, counted over
            // the time it actually ran (a slow machine only makes that longer).
            let most = o.ran.as_secs() as usize + 2;
            r.check(
                o.count <= most,
                &format!("{}: at most one line a second", c.name),
            );
        }
    }
    let period = Duration::from_secs(frame::size(4, 15));
    let mut trees = Vec::new();
    for imp in frame::impls() {
        trees.push((imp, run_tree(imp, period)));
    }
    let ot = &trees[0].1;
    let rt = trees.get(1).map(|(_, t)| t);
    let n = odd_names().len();
    let rows: &[frame::Measure<Tree>] = &[
        ("tree: healthy service restarted", &|t| {
            t.good_restarts.to_string()
        }),
        ("tree: healthy service's lines lost, twice or torn", &|t| {
            t.good_lines_gap.to_string()
        }),
        ("tree: odd-named services running", &|t| {
            format!("{} of {n}", t.odd_running)
        }),
        ("tree: odd-named services taken down and up by name", &|t| {
            format!("{} of {n}", t.odd_controlled)
        }),
        (
            "tree: dangling symlink reported (`unable to stat dangling`)",
            &|t| if t.dangling_warned { "yes" } else { "no" }.to_string(),
        ),
        (
            "tree: runsvdir CPU time while the broken ones retry",
            &|t| format!("{} in {}", secs(t.runsvdir_cpu), secs(t.wall)),
        ),
        ("tree: lines in runsvdir's log (all runsv messages)", &|t| {
            t.messages.to_string()
        }),
    ];
    r.rows(ot, rt, rows);
    let key = |cs: &Vec<Outcome>, t: &Tree| {
        format!(
            "{} broken directories: {} exit 111 at once, {} retry once a second; healthy \
             service untouched: {}",
            CASES.len(),
            cs.iter()
                .zip(CASES)
                .filter(|(o, c)| c.fatal && o.code == Some(111))
                .count(),
            cs.iter()
                .zip(CASES)
                .filter(|(o, c)| !c.fatal && o.code.is_none())
                .count(),
            if t.good_restarts == 0 && t.good_lines_gap == 0 {
                "yes"
            } else {
                "no"
            }
        )
    };
    r.summary(
        key(ours, ot),
        runit.zip(rt).map(|(c, t)| key(c, t)).unwrap_or_default(),
    );
    r.check(
        ot.good_restarts == 0,
        "the healthy service was never restarted",
    );
    r.check(
        ot.good_lines_gap == 0 && ot.good_lines_grew,
        "its log lost nothing",
    );
    r.check(ot.odd_running == n, "every odd-named service ran");
    r.check(
        ot.odd_controlled == n,
        "every odd-named service was controlled by name",
    );
    r.check(ot.dangling_warned, "the dangling entry was reported");
    // CPU time, not a wall-clock bound: about 0.1 % here, 50 times less than asserted.
    r.check(
        ot.runsvdir_cpu.as_secs_f64() < 0.05 * ot.wall.as_secs_f64(),
        "runsvdir used under 5 % of one CPU",
    );
    r.finish();
}
