//! Issue 17 item 8: `supervise/` removed while runsv runs. runsv must make it again so the
//! service can be controlled, and a second runsv started on the directory meanwhile must not
//! start a second copy of the service.

use crate::frame::{self, median, secs, Measure, Report};
use crate::sup_common::T;
use harness::{
    comes_true, copies, runit_sv, runsv, runsvdir, service, signal, sv_says_run, wait_new_run,
    Impl, Proc, Scratch,
};
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

/// The service's argv, as /proc shows it: how its copies are counted.
const ARGV: [&str; 2] = ["sleep", "100000"];

struct Figures {
    services: usize,
    /// Removal to `sv status` saying `run` with the same pid again, per service (`None`:
    /// not within the bound).
    back: Vec<Option<Duration>>,
    /// Services that `sv down` stopped afterwards.
    stopped: usize,
    /// Second runsv processes that exited at once (within 3 s), and with which codes.
    second_exited: usize,
    second_codes: Vec<i32>,
    /// The most copies of one service running after a second runsv was started.
    max_copies: usize,
}

fn run(imp: Impl, services: usize) -> Figures {
    let s = Scratch::new(&format!("rel-supgone-{}", imp.name()));
    let sdir = s.mkdir("service");
    let names: Vec<String> = (0..services).map(|i| format!("s{i:02}")).collect();
    for n in &names {
        service(
            &s,
            &format!("service/{n}"),
            "#!/bin/sh\nexec sleep 100000\n",
        );
        s.script(format!("service/{n}/log/run"), "#!/bin/sh\nexec cat >out\n");
    }
    let tree = runsvdir(&s, imp, &[&sdir]);
    let mut pids = Vec::new();
    for n in &names {
        pids.push(wait_new_run(&s, &sdir.join(n), 0, T).pid);
    }
    // 1. supervise/ and log/supervise/ removed: controllable again?
    let mut back = Vec::new();
    for (n, &pid) in names.iter().zip(&pids) {
        let dir = sdir.join(n);
        let t = Instant::now();
        std::fs::remove_dir_all(dir.join("supervise")).expect("rm supervise");
        std::fs::remove_dir_all(dir.join("log/supervise")).expect("rm log/supervise");
        back.push(
            comes_true(Duration::from_secs(20), || sv_says_run(&s, &dir, pid)).then(|| t.elapsed()),
        );
    }
    let mut stopped = 0;
    for (n, &pid) in names.iter().zip(&pids) {
        let dir = sdir.join(n);
        runit_sv(&s, &["down", dir.to_str().expect("utf-8 path")]);
        if comes_true(Duration::from_secs(10), || !harness::alive(pid as i32)) {
            stopped += 1;
        }
        runit_sv(&s, &["up", dir.to_str().expect("utf-8 path")]);
    }
    // 2. Removed again, and a second runsv started on the directory by hand.
    let mut seconds: Vec<Proc> = Vec::new();
    let mut second_exited = 0;
    let mut second_codes = Vec::new();
    let mut max_copies = 0;
    for n in &names {
        let dir = sdir.join(n);
        comes_true(T, || copies(Some(&dir), &ARGV).len() == 1);
        let _ = std::fs::remove_dir_all(dir.join("supervise"));
        let _ = std::fs::remove_dir_all(dir.join("log/supervise"));
        let mut p = runsv(&s, imp, &dir);
        if comes_true(Duration::from_secs(3), || !p.is_running()) {
            second_exited += 1;
            second_codes.push(harness::code(p.wait_timeout(T)));
        }
        // A second copy, if one is started, is there within a second.
        let _ = comes_true(Duration::from_secs(1), || {
            copies(Some(&dir), &ARGV).len() > 1
        });
        max_copies = max_copies.max(copies(Some(&dir), &ARGV).len());
        seconds.push(p);
    }
    // Stop everything: runsvdir's HUP, the second runsv processes, leftover copies, by pid.
    tree.signal(Signal::SIGHUP);
    for p in &seconds {
        p.signal(Signal::SIGTERM);
    }
    for n in &names {
        let dir = sdir.join(n);
        let _ = comes_true(Duration::from_secs(10), || {
            copies(Some(&dir), &ARGV).is_empty()
        });
        for p in copies(Some(&dir), &ARGV) {
            signal(p, Signal::SIGTERM);
        }
    }
    second_codes.sort_unstable();
    second_codes.dedup();
    Figures {
        services,
        back,
        stopped,
        second_exited,
        second_codes,
        max_copies,
    }
}

#[test]
fn supervise_removed_while_runsv_runs() {
    let services = frame::size(2, 10);
    let mut r = Report::new(
        "17.8-supervise-removed",
        "supervise/ removed while runsv runs",
    );
    r.how(&format!(
        "{services} services (`exec sleep`, with a `cat` logger) under runsvdir. For each, \
         `supervise/` and `log/supervise/` are removed (`rm -rf`) and `sv status` (runit's, \
         for both) is asked until it says `run` with the same pid again; then `sv down` must \
         stop the service, and `sv up` starts it again. Then, for each, both are removed again \
         and a second runsv of the same implementation is started on the directory by hand; \
         counted: the second runsv processes that exit within 3 s, and the copies of the \
         service running afterwards (from /proc, by argv and working directory). \
         `tests/reliability/sup_supervise_gone.rs`."
    ));
    let (ours, runit) = frame::ours_and_runit(|imp| run(imp, services));
    let (ours, runit) = (&ours, runit.as_ref());
    let back = |f: &Figures| f.back.iter().filter(|b| b.is_some()).count();
    let times = |f: &Figures| -> Vec<Duration> { f.back.iter().flatten().copied().collect() };
    let rows: &[Measure<Figures>] = &[
        ("services", &|f| f.services.to_string()),
        ("controllable again after the removal (within 20 s)", &|f| {
            format!("{} of {}", back(f), f.services)
        }),
        ("removal to `sv status` working, median", &|f| {
            if times(f).is_empty() {
                "–".into()
            } else {
                secs(median(&mut times(f)))
            }
        }),
        ("removal to `sv status` working, longest", &|f| {
            times(f).into_iter().max().map_or("–".into(), secs)
        }),
        ("`sv down` stopped the service afterwards", &|f| {
            format!("{} of {}", f.stopped, f.services)
        }),
        ("second runsv exited at once (exit codes)", &|f| {
            let codes: Vec<String> = f.second_codes.iter().map(i32::to_string).collect();
            if codes.is_empty() {
                format!("{} of {}", f.second_exited, f.services)
            } else {
                format!(
                    "{} of {} ({})",
                    f.second_exited,
                    f.services,
                    codes.join(", ")
                )
            }
        }),
        ("most copies of one service afterwards", &|f| {
            f.max_copies.to_string()
        }),
    ];
    r.rows(ours, runit, rows);
    let key = |f: &Figures| {
        format!(
            "{} of {} controllable again; at most {} cop{} after a second runsv",
            back(f),
            f.services,
            f.max_copies,
            if f.max_copies == 1 { "y" } else { "ies" }
        )
    };
    r.summary(key(ours), runit.map(key).unwrap_or_default());
    r.note(
        "Ours: runsvdir sees `supervise` go (inotify on the service directory) and sends the \
         runsv SIGCHLD 200 ms later; runsv finds its lock and FIFOs are no longer the files \
         `supervise/` names and, a second later (not in a directory that was itself removed), \
         makes them again and rewrites the status files. runsv also holds a lock on the \
         service directory itself, so a second runsv fails with runit's `unable to lock \
         supervise/lock: temporary failure` (exit 111) and wakes the first one. runit's runsv \
         keeps the service running with nothing to control it by, and a second runsv makes a \
         new `supervise/`, takes its fresh lock and starts a second copy.",
    );
    r.check(
        back(ours) == ours.services,
        "every service controllable again",
    );
    r.check(ours.stopped == ours.services, "`sv down` works afterwards");
    r.check(
        ours.second_exited == ours.services && ours.second_codes == [111],
        "a second runsv exits 111",
    );
    r.check(ours.max_copies == 1, "never a second copy of a service");
    r.finish();
}
