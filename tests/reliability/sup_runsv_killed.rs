//! Scenario 3: runsv is SIGKILLed under runsvdir, again and again, while its service writes
//! numbered lines into svlogd. runsvdir must start a new runsv; no second copy of the service
//! may be left running; the new logger must take the new service's lines, and no line may be
//! lost (ours: none at all, of any instance; the issue asks at least for none written after
//! the restart).

use crate::frame::{self, median, secs, Measure, Report};
use crate::sup_common::{tally, T};
use harness::{
    comes_true, copies, log_text, runsvdir, service, signal, wait_new_run, wait_until,
    wait_until_or, Impl, Scratch,
};
use nix::sys::signal::Signal;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// The service's argv, as /proc shows it: how its copies are counted.
const ARGV: [&str; 2] = ["/bin/sh", "./run"];

fn run_script(counts: &Path) -> String {
    // The trap records how many lines this instance had written when it was stopped; a line
    // is written before the count moves past it.
    format!(
        "#!/bin/sh\n\
         trap 'echo \"$$ $i\" >>{}; exit 0' TERM\n\
         echo \"start $$\"\n\
         i=0\n\
         while :; do echo \"$$ $((i+1))\"; i=$((i+1)); sleep 0.01; done\n",
        counts.display()
    )
}

struct Figures {
    kills: u32,
    recovery: Vec<Duration>,
    /// The most copies of the service running at once, once each new runsv had started it.
    max_copies: usize,
    /// Copies running at the end, before the test stopped them.
    copies_at_end: usize,
    /// New instances whose first line did not reach the log within the bound.
    new_not_logged: u32,
    lost: u64,
    lost_after_restart: u64,
    duplicates: u64,
    torn: u64,
    lines: u64,
}

/// The runsv that runsvdir `parent` runs (its only child), if any.
fn runsv_child(parent: i32) -> Option<i32> {
    harness::children(parent).first().copied()
}

fn run(imp: Impl, kills: u32, settle: Duration) -> Figures {
    let s = Scratch::new(&format!("rel-runsvkill-{}", imp.name()));
    let counts = s.join("counts");
    let logdir = s.mkdir("logs/svc");
    let dir = service(&s, "service/svc", &run_script(&counts));
    s.script(
        "service/svc/log/run",
        &format!("#!/bin/sh\nexec svlogd {}\n", logdir.display()),
    );
    let tree = runsvdir(&s, imp, &[&s.join("service")]);
    let mut st = wait_new_run(&s, &dir, 0, T);
    let first = st.pid;
    let log_text_now = || log_text(&logdir);
    let mut recovery = Vec::new();
    let mut max_copies = 0;
    let mut new_not_logged = 0;
    let mut done = 0;
    while done < kills {
        std::thread::sleep(settle);
        let Some(old_runsv) = runsv_child(tree.pid()) else {
            panic!("{}: no runsv under runsvdir", imp.name());
        };
        let old = st.pid;
        let t0 = Instant::now();
        signal(old_runsv, Signal::SIGKILL);
        done += 1;
        wait_until(Duration::from_secs(30), "a new runsv", || {
            runsv_child(tree.pid()).is_some_and(|p| p != old_runsv)
        });
        st = wait_new_run(&s, &dir, old, Duration::from_secs(30));
        recovery.push(t0.elapsed());
        max_copies = max_copies.max(copies(Some(&dir), &ARGV).len());
        let start = format!("start {}", st.pid);
        let arrived = comes_true(Duration::from_secs(5), || {
            log_text_now().lines().any(|l| l == start)
        });
        new_not_logged += u32::from(!arrived);
        max_copies = max_copies.max(copies(Some(&dir), &ARGV).len());
    }
    std::thread::sleep(settle);
    let copies_at_end = copies(Some(&dir), &ARGV).len();
    max_copies = max_copies.max(copies_at_end);

    // Stop everything: runsvdir's HUP stops each runsv (and so its service, whose trap
    // records its count, and its logger, which drains); orphans runit left are TERMed here.
    tree.signal(Signal::SIGHUP);
    for p in copies(Some(&dir), &ARGV) {
        signal(p, Signal::SIGTERM);
    }
    wait_until_or(
        Duration::from_secs(20),
        "every copy of the service and every logger gone",
        &mut || {
            copies(Some(&dir), &ARGV).is_empty()
                && copies(
                    Some(&dir.join("log")),
                    &["svlogd", &logdir.to_string_lossy()],
                )
                .is_empty()
        },
        || s.listing(),
    );

    let t = tally(&log_text(&logdir));
    let mut written: BTreeMap<u32, u32> = BTreeMap::new();
    for line in harness::read_text(&counts).lines() {
        let mut w = line.split(' ');
        if let (Some(Ok(p)), Some(Ok(n))) = (w.next().map(str::parse), w.next().map(str::parse)) {
            written.insert(p, n);
        }
    }
    let mut pids: Vec<u32> = t
        .inst
        .keys()
        .copied()
        .chain(written.keys().copied())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    let (mut lost, mut lost_after) = (0, 0);
    for pid in pids {
        let l = t.lost(pid, written.get(&pid).copied().unwrap_or(0));
        lost += l;
        if pid != first {
            lost_after += l;
        }
    }
    Figures {
        kills: done,
        recovery,
        max_copies,
        copies_at_end,
        new_not_logged,
        lost,
        lost_after_restart: lost_after,
        duplicates: t.duplicates,
        torn: t.torn,
        lines: t.inst.values().map(|i| i.numbers.len() as u64).sum(),
    }
}

#[test]
fn runsv_killed_under_runsvdir() {
    let kills = frame::size(3, 20);
    let settle = Duration::from_millis(frame::size(300, 1000));
    let mut r = Report::new("03-runsv-killed", "runsv killed");
    r.how(&format!(
        "runsvdir supervises one service with a logger (`svlogd DIR`); the service writes \
         `start PID` and then a numbered line every 10 ms, and on TERM records how many it \
         wrote. {kills} times, {} s after the service last (re)started, runsv is SIGKILLed. \
         Recovery is the time from the kill to the new service running; copies are counted \
         from /proc (argv `/bin/sh ./run`, cwd the service directory) after each recovery and \
         at the end; then runsvdir gets HUP, leftover copies TERM, and the log is checked \
         against the counts. `tests/reliability/sup_runsv_killed.rs`.",
        settle.as_secs_f64()
    ));
    let (ours, runit) = frame::ours_and_runit(|imp| run(imp, kills, settle));
    let (ours, runit) = (&ours, runit.as_ref());
    let rows: &[Measure<Figures>] = &[
        ("runsv killed", &|f| f.kills.to_string()),
        ("recovery, median", &|f| {
            secs(median(&mut f.recovery.clone()))
        }),
        ("recovery, longest", &|f| {
            secs(f.recovery.iter().copied().max().unwrap_or_default())
        }),
        ("most copies of the service running at once", &|f| {
            f.max_copies.to_string()
        }),
        ("copies running at the end", &|f| {
            f.copies_at_end.to_string()
        }),
        (
            "new instances whose first line missed the log for 5 s",
            &|f| f.new_not_logged.to_string(),
        ),
        ("lines in the log", &|f| frame::count(f.lines)),
        ("lines lost (all instances)", &|f| f.lost.to_string()),
        ("lines lost, written after a restart", &|f| {
            f.lost_after_restart.to_string()
        }),
        ("lines written twice / torn", &|f| {
            format!("{} / {}", f.duplicates, f.torn)
        }),
    ];
    r.rows(ours, runit, rows);
    let key = |f: &Figures| {
        format!(
            "{} kills: at most {} cop{} running, {} at the end, {} lines lost, recovery {}",
            f.kills,
            f.max_copies,
            if f.max_copies == 1 { "y" } else { "ies" },
            f.copies_at_end,
            f.lost,
            secs(median(&mut f.recovery.clone()))
        )
    };
    r.summary(key(ours), runit.map(key).unwrap_or_default());
    r.note(
        "Ours: the new runsv finds the killed one's service and logger in `supervise/start` \
         (pid, start time, boot id), TERMs the service, lets the logger drain the old pipe to \
         its end, and only then starts both again, on a new pipe. runit's (seen in its \
         runsvdir log): the orphaned service keeps writing through the orphaned svlogd, which \
         holds the log directory's lock; each new svlogd says `unable to lock directory: \
         temporary failure` and `no functional log directories` and exits, once a second, so \
         the new service's lines wait in the pipe; when that runsv is killed in turn, the pipe \
         loses its last reader, its service dies of SIGPIPE and what was in the pipe is lost.",
    );
    r.check(ours.max_copies == 1, "never a second copy of the service");
    r.check(ours.copies_at_end == 1, "one copy at the end");
    r.check(
        ours.new_not_logged == 0,
        "every new instance's lines reached the new logger",
    );
    r.check(ours.lost == 0, "no line lost");
    r.check(
        ours.duplicates == 0 && ours.torn == 0,
        "no line twice or torn",
    );
    r.finish();
}
