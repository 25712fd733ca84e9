//! Issue 17 item 4: runsvdir past its service limit. More service directories than the limit;
//! once the limit is running, some running services are removed, and the waiting ones must
//! take the free slots at once, while the warning about them is said once per spell, not once
//! per scan and service.

use crate::frame::{self, secs, Measure, Report};
use formats::status::State;
use harness::{comes_true, cpu_time, read_status, service, start_in, wait_until_or, Impl, Scratch};
use nix::sys::signal::Signal;
use std::path::Path;
use std::time::{Duration, Instant};

struct Figures {
    services: usize,
    limit: usize,
    removed: usize,
    /// runsvdir's start to `limit` services running.
    startup: Duration,
    /// From the removal to every freed slot taken by a waiting service, or `None` if that did
    /// not happen within the bound.
    refill: Option<Duration>,
    /// `too many services` lines before the removal, and in all.
    warned_before: usize,
    warned: usize,
    runsvdir_cpu: Duration,
}

/// How many services under `sdir` run (state run, a pid).
fn running(sdir: &Path, names: &[String]) -> usize {
    names
        .iter()
        .filter(|n| {
            read_status(&sdir.join(n)).is_some_and(|st| st.state == State::Run && st.pid != 0)
        })
        .count()
}

fn warned(s: &Scratch) -> usize {
    harness::read_text(s.join("runsvdir.err"))
        .lines()
        .filter(|l| l.contains("too many services"))
        .count()
}

fn run(imp: Impl, services: usize, limit: Option<usize>, remove: usize) -> Figures {
    let s = Scratch::new(&format!("rel-limit-{}", imp.name()));
    let sdir = s.mkdir("service");
    let mut names: Vec<String> = (0..services).map(|i| format!("s{i:04}")).collect();
    for n in &names {
        service(
            &s,
            &format!("service/{n}"),
            "#!/bin/sh\nexec sleep 100000\n",
        );
    }
    let limit_n = limit.unwrap_or(1000);
    let mut c = imp.cmd("runsvdir");
    if let Some(l) = limit {
        c.args(["-c", &l.to_string()]);
    }
    c.arg(&sdir);
    let t0 = Instant::now();
    let tree = start_in(&s, &mut c, Some("runsvdir.err"));
    let bound = Duration::from_secs(300);
    wait_until_or(
        bound,
        "the limit running",
        &mut || {
            std::thread::sleep(Duration::from_millis(50));
            running(&sdir, &names) >= limit_n
        },
        || harness::read_text(s.join("runsvdir.err")),
    );
    let startup = t0.elapsed();
    // A quiet spell, as a system past its limit would have: runsvdir's rescans come and go.
    std::thread::sleep(Duration::from_secs(frame::size(2, 10)));
    let warned_before = warned(&s);
    // Some running services leave (moved out, as svdeactivate does).
    let gone: Vec<String> = names
        .iter()
        .filter(|n| read_status(&sdir.join(n)).is_some_and(|st| st.pid != 0))
        .take(remove)
        .cloned()
        .collect();
    let out = s.mkdir("gone");
    let t1 = Instant::now();
    for n in &gone {
        std::fs::rename(sdir.join(n), out.join(n)).expect("move a service out");
    }
    names.retain(|n| !gone.contains(n));
    let refilled = comes_true(Duration::from_secs(120), || {
        std::thread::sleep(Duration::from_millis(20));
        running(&sdir, &names) >= limit_n
    });
    let refill = refilled.then(|| t1.elapsed());
    // The warnings of a while past the limit, after the refill.
    std::thread::sleep(Duration::from_secs(frame::size(2, 10)));
    let warned = warned(&s);
    let runsvdir_cpu = cpu_time(tree.pid()).unwrap_or_default();
    tree.signal(Signal::SIGHUP);
    wait_until_or(
        bound,
        "every runsv gone",
        &mut || {
            std::thread::sleep(Duration::from_millis(50));
            names.iter().chain(gone.iter()).all(|n| {
                let d = if gone.contains(n) {
                    out.join(n)
                } else {
                    sdir.join(n)
                };
                formats::control::probe(&d).is_err()
            })
        },
        || harness::read_text(s.join("runsvdir.err")),
    );
    Figures {
        services,
        limit: limit_n,
        removed: gone.len(),
        startup,
        refill,
        warned_before,
        warned,
        runsvdir_cpu,
    }
}

#[test]
fn past_the_service_limit() {
    let services = frame::size(60, 2000);
    let limit = frame::size(Some(50), None);
    let remove = frame::size(10, 14);
    let limit_text = match limit {
        Some(l) => format!("`-c {l}` (ours only: runit has no `-c`)"),
        None => "runit's limit of 1000".to_string(),
    };
    let mut r = Report::new("17.4-service-limit", "Past the service limit");
    r.how(&format!(
        "{services} services (`exec sleep`) under one runsvdir with {limit_text}. Once the \
         limit runs and a quiet spell has passed, {remove} running services are moved out of \
         the directory (as `svdeactivate` does); the waiting services must take the freed \
         slots. Measured: the time from the move to the limit running again, and the lines \
         of runsvdir's stderr that say `too many services`, before the move and in all (after \
         another quiet spell). The issue's run found ours starting the waiting services only \
         at its 60 s fallback rescan, after 29,643 warnings. \
         `tests/reliability/sup_limit.rs`."
    ));
    let (ours, runit) = frame::ours_and_runit(|imp| run(imp, services, limit, remove));
    let (ours, runit) = (&ours, runit.as_ref());
    let rows: &[Measure<Figures>] = &[
        ("services / limit", &|f| {
            format!("{} / {}", frame::count(f.services as u64), f.limit)
        }),
        ("runsvdir start to the limit running", &|f| secs(f.startup)),
        ("running services moved out", &|f| f.removed.to_string()),
        ("move to every freed slot taken", &|f| {
            f.refill.map_or("not within 120 s".into(), secs)
        }),
        ("`too many services` lines before the move", &|f| {
            frame::count(f.warned_before as u64)
        }),
        ("`too many services` lines in all", &|f| {
            frame::count(f.warned as u64)
        }),
        ("runsvdir CPU time", &|f| secs(f.runsvdir_cpu)),
    ];
    r.rows(ours, runit, rows);
    let key = |f: &Figures| {
        format!(
            "{} freed slots taken in {}; {} warning lines",
            f.removed,
            f.refill.map_or("more than 120 s".into(), secs),
            frame::count(f.warned as u64)
        )
    };
    r.summary(key(ours), runit.map(key).unwrap_or_default());
    r.note(
        "Ours drops the entries a scan no longer sees before it adds new ones, so a slot \
         freed by a removal is taken in the scan the removal triggers (inotify); it says \
         runit's `unable to start runsv NAME: too many services.` for the first service \
         turned away, how many more wait, summaries at most once a minute (then rarer), and \
         `none waiting any more` at the end. runit's scans when the directory's mtime \
         changes, checked every 5 s, counts the entries it is about to drop, and warns once \
         per waiting service at every scan.",
    );
    r.check(
        ours.refill.is_some(),
        "every freed slot taken by a waiting service",
    );
    r.check(
        ours.warned <= 4,
        "the limit warned about once per spell, not once per scan and service",
    );
    r.finish();
}
