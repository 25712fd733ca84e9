//! Scenario 1: a service floods its logger through runsv, and the logger is SIGKILLed again
//! and again at random moments; runsv starts a new one on the same pipe each time. No line
//! may be lost (runit's svlogd loses what it had read but not yet written at each kill);
//! lines written twice and lines cut are counted.

use crate::frame::{self, median, secs, Measure, Report};
use crate::log_feed::{tally_dir, Numbers};
use crate::sup_common::T;
use formats::status::State;
use harness::{
    comes_true, log_files, read_status, runsv, service, signal, wait_new_run, wait_until_or, Impl,
    Rng, Scratch,
};
use nix::sys::signal::Signal;
use std::path::Path;
use std::time::{Duration, Instant};

/// The service: numbered lines (`N N`, see `log_feed::line`) as fast as a shell can
/// write them. On TERM it records how many it wrote; a line is written before the count moves
/// past it, so the record is at most one short.
fn flood_script(count: &Path) -> String {
    format!(
        "#!/bin/sh\n\
         trap 'echo $i >{}; exit 0' TERM\n\
         i=0\n\
         while :; do echo \"$((i+1)) $((i+1))\"; i=$((i+1)); done\n",
        count.display()
    )
}

struct Figures {
    kills: u32,
    /// From each kill to the new svlogd running.
    restart: Vec<Duration>,
    written: u64,
    in_log: u64,
    lost: u64,
    duplicates: u64,
    torn: u64,
    /// From stopping the flood to the last line in the log.
    drain: Duration,
    /// runsv (and with it the logger) gone within the bound after `sv x`.
    stopped: bool,
}

/// The pid of the logger once it is svlogd (not the shell of `log/run` before its exec) and
/// not `old`.
fn logger(s: &Scratch, dir: &Path, old: i32) -> i32 {
    let mut pid = 0;
    wait_until_or(
        Duration::from_secs(30),
        "a new svlogd running",
        &mut || {
            let Some(st) = read_status(&dir.join("log")) else {
                return false;
            };
            pid = st.pid as i32;
            st.state == State::Run
                && pid != 0
                && pid != old
                && harness::cmdline(pid).starts_with(b"svlogd\0")
        },
        || s.listing(),
    );
    pid
}

/// The number on the last whole line of the log (current, or the newest archive when current
/// is empty), 0 if none.
fn last_number(logdir: &Path) -> u64 {
    for f in log_files(logdir).iter().rev() {
        let Ok(data) = std::fs::read(f) else { continue };
        if data.is_empty() {
            continue;
        }
        let mut t = Numbers::default();
        let from = data.len().saturating_sub(200);
        let tail = &data[from..];
        let start = if from == 0 {
            0
        } else {
            tail.iter()
                .position(|&b| b == b'\n')
                .map_or(tail.len(), |p| p + 1)
        };
        t.add(&tail[start..]);
        return t.top();
    }
    0
}

fn run(imp: Impl, kills: u32, max_delay: u64) -> Figures {
    let s = Scratch::new(&format!("rel-logkill-{}", imp.name()));
    let logdir = s.mkdir("logs/svc");
    s.write("logs/svc/config", "s1000000\nn0\n");
    let count = s.join("count");
    let dir = service(&s, "svc", &flood_script(&count));
    s.script(
        "svc/log/run",
        &format!("#!/bin/sh\nexec svlogd {}\n", logdir.display()),
    );
    let mut sv = runsv(&s, imp, &dir);
    wait_new_run(&s, &dir, 0, T);
    let mut pid = logger(&s, &dir, 0);
    let mut rng = Rng::from_clock(&format!("logger killed ({})", imp.name()));
    let mut restart = Vec::new();
    for _ in 0..kills {
        std::thread::sleep(Duration::from_millis(rng.below(max_delay + 1)));
        let t0 = Instant::now();
        signal(pid, Signal::SIGKILL);
        pid = logger(&s, &dir, pid);
        restart.push(t0.elapsed());
    }

    // Stop the flood; the logger drains the pipe; then runsv exits, closing the pipe.
    let stop = Instant::now();
    let out = imp.cmd("sv").arg("d").arg(&dir).output().expect("run sv d");
    assert!(out.status.success(), "sv d: {out:?}");
    wait_until_or(
        T,
        "the service's count",
        &mut || harness::read_text(&count).ends_with('\n'),
        || s.listing(),
    );
    let written: u64 = harness::read_text(&count)
        .trim()
        .parse()
        .expect("the service's count");
    // The last line is `written` or the one after it (see flood_script).
    let drained = comes_true(Duration::from_secs(60), || last_number(&logdir) >= written);
    let drain = stop.elapsed();
    let _ = imp.cmd("sv").arg("x").arg(&dir).output();
    let stopped = comes_true(Duration::from_secs(20), || !sv.is_running());
    if !stopped {
        sv.signal(Signal::SIGTERM);
    }
    if !drained {
        eprintln!("{}: the log did not reach line {written}", imp.name());
    }

    let t = tally_dir(&logdir);
    let top = t.top().max(written);
    Figures {
        kills,
        restart,
        written: top,
        in_log: t.distinct(),
        lost: t.missing(1, top),
        duplicates: t.duplicates(),
        torn: t.torn,
        drain,
        stopped,
    }
}

#[test]
fn logger_killed_under_runsv() {
    let kills = frame::size(20, 100);
    let max_delay = frame::size(300, 1500);
    let mut r = Report::new("01-logger-killed", "Logger killed");
    r.how(&format!(
        "runsv runs a service that writes numbered lines (`N N`) as fast as a shell loop can \
         (about 150,000 a second here) into its logger, `log/run` being `exec svlogd DIR` \
         (config `s1000000`, `n0`: every line stays). {kills} times, a random 0–{max_delay} ms \
         after the new svlogd is running, the logger is SIGKILLed; runsv starts the next one on \
         the same pipe. Then `sv d` stops the flood (the service records how many lines it \
         wrote), the logger drains the pipe, and `sv x` ends runsv and the logger. The log is \
         checked against the count: a line is lost when its number never arrived whole, torn \
         when a line is not a whole `N N`. Each implementation runs under its own runsv. \
         `tests/reliability/log_logger_killed.rs`."
    ));
    let (ours, runit) = frame::ours_and_runit(|imp| run(imp, kills, max_delay));
    let (ours, runit) = (&ours, runit.as_ref());
    let rows: &[Measure<Figures>] = &[
        ("logger SIGKILLed", &|f| f.kills.to_string()),
        ("from a kill to the new svlogd running, median", &|f| {
            secs(median(&mut f.restart.clone()))
        }),
        ("lines written", &|f| frame::count(f.written)),
        ("distinct lines in the log", &|f| frame::count(f.in_log)),
        ("lines lost", &|f| frame::count(f.lost)),
        ("lines written twice (extra copies)", &|f| {
            frame::count(f.duplicates)
        }),
        ("torn lines", &|f| frame::count(f.torn)),
        ("from `sv d` to the last line in the log", &|f| {
            secs(f.drain)
        }),
        ("`sv x` ended runsv and the logger", &|f| {
            if f.stopped { "yes" } else { "no" }.to_string()
        }),
    ];
    r.rows(ours, runit, rows);
    let key = |f: &Figures| {
        format!(
            "{} kills, {} lines: {} lost, {} twice, {} torn",
            f.kills,
            frame::count(f.written),
            frame::count(f.lost),
            frame::count(f.duplicates),
            frame::count(f.torn)
        )
    };
    r.summary(key(ours), runit.map(key).unwrap_or_default());
    r.note(
        "Ours keeps each block in the pipe until it is written to `current` (it reads a copy \
         with `tee(2)` and consumes the block with `splice(2)` only after the write), so a kill loses nothing: the next svlogd writes \
         the block again, and what was written between the last write and the kill appears \
         twice (counted above). runit's svlogd reads a buffer out of the pipe and then writes \
         it, so a kill between the two loses the buffer, and a line whose start was in the \
         lost buffer arrives cut. The second or so from a kill to the next svlogd is runsv's \
         restart throttle (a logger that ran less than a second), the same in both.",
    );
    r.check(ours.lost == 0, "no line lost");
    r.check(ours.torn == 0, "no line torn");
    r.check(ours.stopped, "`sv x` ends runsv and the logger");
    r.finish();
}
