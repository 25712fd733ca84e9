//! Issue 17 item 5: no inotify instance to be had (`fs.inotify.max_user_instances` reached).
//! New services must still start, within runit's 5 s poll, the warning must name the limit,
//! and once instances are available again runsvdir must take inotify up again.
//!
//! The limit is set to 0 in a user namespace of runsvdir's own (`/proc/sys/user/
//! max_inotify_instances` there), which nothing else on the machine shares.

use crate::frame::{self, median, secs, Measure, Report};
use formats::status::State;
use harness::{
    allow_inotify, comes_true, read_status, service, start_in, wait_until_or, without_inotify,
    Impl, Scratch,
};
use nix::sys::signal::Signal;
use std::path::Path;
use std::time::{Duration, Instant};

struct Figures {
    /// Move-in to running, for each service added while inotify was out of reach (`None`:
    /// not within the bound).
    latency: Vec<Option<Duration>>,
    /// The first line of stderr that mentions inotify.
    warning: String,
    /// Lines of stderr that mention inotify.
    inotify_lines: usize,
    /// From raising the limit to `inotify works again` (ours).
    recovered: Option<Duration>,
    /// Move-in to running for a service added after that.
    after: Option<Duration>,
}

fn runs(dir: &Path) -> bool {
    read_status(dir).is_some_and(|st| st.state == State::Run && st.pid != 0)
}

/// Makes service `name` aside and moves it in; returns how long until it runs.
fn add(s: &Scratch, sdir: &Path, name: &str, bound: Duration) -> Option<Duration> {
    service(
        s,
        &format!("stage/{name}"),
        "#!/bin/sh\nexec sleep 100000\n",
    );
    let t = Instant::now();
    std::fs::rename(s.join("stage").join(name), sdir.join(name)).expect("move in");
    comes_true(bound, || runs(&sdir.join(name))).then(|| t.elapsed())
}

fn inotify_lines(s: &Scratch) -> Vec<String> {
    harness::read_text(s.join("runsvdir.err"))
        .lines()
        .filter(|l| l.contains("inotify"))
        .map(str::to_string)
        .collect()
}

fn run(imp: Impl, services: usize) -> Figures {
    let s = Scratch::new(&format!("rel-noinotify-{}", imp.name()));
    let sdir = s.mkdir("service");
    s.mkdir("stage");
    let tree = start_in(
        &s,
        without_inotify(imp, "runsvdir").arg(&sdir),
        Some("runsvdir.err"),
    );
    let bound = Duration::from_secs(60);
    // runsvdir up (ours says so at once; runit says nothing): one service that waits for it.
    add(&s, &sdir, "first", bound);
    let mut latency = Vec::new();
    // Services arrive at uneven moments, so they fall anywhere in the poll period.
    for i in 0..services {
        std::thread::sleep(Duration::from_millis(300 + (i as u64 * 733) % 2000));
        latency.push(add(&s, &sdir, &format!("s{i:03}"), bound));
    }
    let warning = inotify_lines(&s)
        .first()
        .map(|l| l.replace(&*sdir.to_string_lossy(), "DIR"))
        .unwrap_or_default();
    // Instances available again, inside runsvdir's namespace only.
    let t = Instant::now();
    allow_inotify(tree.pid());
    let recovered = (imp == Impl::Ours)
        .then(|| {
            comes_true(Duration::from_secs(30), || {
                inotify_lines(&s)
                    .iter()
                    .any(|l| l.contains("inotify works again"))
            })
            .then(|| t.elapsed())
        })
        .flatten();
    let after = add(&s, &sdir, "after", bound);
    let inotify_lines = inotify_lines(&s).len();
    tree.signal(Signal::SIGHUP);
    let names: Vec<String> = harness::names(&sdir);
    wait_until_or(
        Duration::from_secs(30),
        "every runsv gone",
        &mut || {
            names
                .iter()
                .all(|n| formats::control::probe(&sdir.join(n)).is_err())
        },
        || harness::read_text(s.join("runsvdir.err")),
    );
    Figures {
        latency,
        warning,
        inotify_lines,
        recovered,
        after,
    }
}

#[test]
fn no_inotify_instance_left() {
    let services = frame::size(3, 10);
    let mut r = Report::new("17.5-no-inotify", "No inotify instance left");
    r.how(&format!(
        "runsvdir starts in a user namespace of its own whose `max_inotify_instances` is 0, so \
         `inotify_init1` fails as when `fs.inotify.max_user_instances` is used up. {services} \
         services are then made aside and moved into its directory one at a time, 0.3 to \
         2.3 s apart; each is timed from the move to `supervise/status` saying it runs. Then \
         the limit is raised to 16 inside that namespace (`nsenter`), and one more service is \
         added. The issue's run found ours starting new services only at its 60 s fallback \
         rescan (58 s) and blaming the process's open files. \
         `tests/reliability/sup_no_inotify.rs`."
    ));
    let (ours, runit) = frame::ours_and_runit(|imp| run(imp, services));
    let (ours, runit) = (&ours, runit.as_ref());
    let started = |f: &Figures| f.latency.iter().filter(|l| l.is_some()).count();
    let lat = |f: &Figures| -> Vec<Duration> { f.latency.iter().flatten().copied().collect() };
    let rows: &[Measure<Figures>] = &[
        (
            "services added without inotify / started within 60 s",
            &|f| format!("{} / {}", f.latency.len(), started(f)),
        ),
        ("move to running, median", &|f| secs(median(&mut lat(f)))),
        ("move to running, longest", &|f| {
            secs(lat(f).into_iter().max().unwrap_or_default())
        }),
        ("the warning", &|f| {
            if f.warning.is_empty() {
                "(none)".into()
            } else {
                format!("`{}`", f.warning)
            }
        }),
        ("lines about inotify in all", &|f| {
            f.inotify_lines.to_string()
        }),
        ("limit raised to `inotify works again`", &|f| {
            f.recovered.map_or("–".into(), secs)
        }),
        ("then a new service: move to running", &|f| {
            f.after.map_or("not within 60 s".into(), secs)
        }),
    ];
    r.rows(ours, runit, rows);
    let key = |f: &Figures| {
        format!(
            "{} of {} new services started, longest {}",
            started(f),
            f.latency.len(),
            secs(lat(f).into_iter().max().unwrap_or_default())
        )
    };
    r.summary(key(ours), runit.map(key).unwrap_or_default());
    r.note(
        "runit's runsvdir has no inotify: it always looks at the directory's mtime every \
         5 s. Ours, without an instance, does the same, tries `inotify_init1` again at each \
         look, says once which limit was reached, and once it has an instance again says \
         `inotify works again: polling stopped` and is back to starting new services within \
         milliseconds.",
    );
    r.check(
        started(ours) == ours.latency.len(),
        "every new service started without inotify",
    );
    r.check(
        ours.warning.contains("fs.inotify.max_user_instances"),
        "the warning names the inotify limit",
    );
    r.check(
        ours.inotify_lines <= 4,
        "one warning, a summary a minute at most, one all-clear: not one per attempt",
    );
    r.check(ours.recovered.is_some(), "inotify taken up again");
    r.check(ours.after.is_some(), "a service added afterwards started");
    r.finish();
}
