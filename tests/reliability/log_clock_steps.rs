//! Scenario 6: clock steps during rotation. svlogd runs with its wall clock moved by an offset
//! read from a file on every reading (the monotonic clock left alone): ours through its
//! test-only clock hook (`svlogd::faults::CLOCK_VAR`; a static build is out of `LD_PRELOAD`'s
//! reach), runit's under libfaketime. It runs with two directories, one
//! rotated every second (`t1`) and one by size (`s4000`), both keeping `n5`, while a writer
//! sends a numbered line every 5 ms. The clock is stepped back by a day, forward by a year,
//! and back by a year to the real time. Nothing may wedge (lines keep arriving, both
//! directories keep rotating), archive names must stay unique and in creation order when
//! sorted (runit orders archives by name), and pruning must only ever delete the oldest data
//! (what the log holds at the end is an unbroken run of lines ending with the last one).

use crate::frame::{self, Measure, Report};
use harness::{archives, comes_true, log_text, Impl, Proc, Scratch};
use nix::sys::signal::Signal;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How much longer a phase may last for every directory to rotate in it, and how long the
/// line written last may take to arrive (both take milliseconds to a second).
const EXTRA: Duration = Duration::from_secs(20);

/// Seconds in a day.
const DAY: i64 = 86_400;
/// The clock offsets, in order: as shown (libfaketime's syntax), and in seconds (what the
/// offset file holds, which libfaketime and our hook both read).
const PHASES: [(&str, i64); 4] = [("+0", 0), ("-1d", -DAY), ("+365d", 365 * DAY), ("+0", 0)];
/// What the directories keep.
const N: usize = 5;
/// The two directories and their configs.
const DIRS: [(&str, &str); 2] = [("t", "t1\ns0\nn5\n"), ("s", "s4000\nn5\n")];

/// What one directory showed.
#[derive(Default)]
struct Dir {
    /// Archives made in each phase (first seen then).
    rotations: Vec<usize>,
    /// New names that sorted before a name seen earlier.
    out_of_order: usize,
    /// The most archives seen at once.
    most: usize,
    /// Archives at the end.
    at_end: usize,
    /// Every archive name seen.
    seen: BTreeSet<String>,
    /// Lines missing between the oldest line kept and the last line written.
    holes: u64,
    /// Whether the last line written is there.
    last_there: bool,
    /// Lines present twice.
    twice: u64,
}

struct Figures {
    dirs: BTreeMap<&'static str, Dir>,
    /// Phases at whose end the line just written did not reach both directories within 2 s.
    stalls: usize,
    lines: u64,
    code: Option<i32>,
}

fn has_line(dir: &Path, n: u64) -> bool {
    let want = format!("line {n}\n");
    log_text(dir).contains(&want)
}

fn run(imp: Impl, phase: Duration) -> Figures {
    let s = Scratch::new(&format!("rel-clock-{}", imp.name()));
    for (d, cfg) in DIRS {
        s.write(format!("{d}/config"), cfg);
    }
    let stamp = s.join("faketime");
    fs::write(&stamp, "+0\n").expect("faketime file");
    let mut c = imp.cmd("svlogd");
    match imp {
        Impl::Ours => harness::svlogd_clock_file(&mut c, &stamp),
        Impl::Runit => harness::faketime_file(&mut c, "libfaketimeMT.so.1", &stamp),
    }
    .args(["-tt", "t", "s"])
    .current_dir(&s.path)
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(fs::File::create(s.join("stderr")).expect("stderr"));
    let mut p = Proc::spawn_group(&mut c);
    let mut stdin = p.child.stdin.take().expect("stdin");
    let written = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (written, stop) = (written.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                if stdin.write_all(format!("line {n}\n").as_bytes()).is_err() {
                    break;
                }
                written.store(n, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let mut dirs: BTreeMap<&'static str, Dir> = DIRS
        .iter()
        .map(|(d, _)| {
            (
                *d,
                Dir {
                    rotations: vec![0; PHASES.len()],
                    ..Dir::default()
                },
            )
        })
        .collect();
    let mut stalls = 0;
    for (i, (_, offset)) in PHASES.iter().enumerate() {
        fs::write(&stamp, format!("{offset:+}\n")).expect("faketime file");
        // A phase lasts `phase`, and longer (up to EXTRA more) until each directory has
        // made an archive in it: a slow machine makes it longer, never empty.
        let start = Instant::now();
        loop {
            let elapsed = start.elapsed();
            let rotated = dirs.values().all(|d| d.rotations[i] > 0);
            if elapsed >= phase + EXTRA || (elapsed >= phase && rotated) {
                break;
            }
            for (name, d) in &mut dirs {
                let names = archives(&s.join(name));
                d.most = d.most.max(names.len());
                for n in names {
                    if d.seen.contains(&n) {
                        continue;
                    }
                    if d.seen.iter().next_back().is_some_and(|last| *last > n) {
                        d.out_of_order += 1;
                    }
                    d.rotations[i] += 1;
                    d.seen.insert(n);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let target = written.load(Ordering::Relaxed);
        let arrived = comes_true(EXTRA, || {
            DIRS.iter().all(|(d, _)| has_line(&s.join(d), target))
        });
        stalls += usize::from(!arrived);
    }
    stop.store(true, Ordering::Relaxed);
    let _ = writer.join();
    let lines = written.load(Ordering::Relaxed);
    let code = p.exit_within(Duration::from_secs(15)).map(harness::code);
    if code.is_none() {
        p.signal(Signal::SIGKILL);
        let _ = p.wait_timeout(Duration::from_secs(5));
    }
    harness::faketime_cleanup(p.pid());
    for (name, d) in &mut dirs {
        let dir = s.join(name);
        d.at_end = archives(&dir).len();
        let text = log_text(&dir);
        let mut have = BTreeSet::new();
        for l in text.lines() {
            if let Some(n) = l
                .rsplit_once("line ")
                .and_then(|(_, n)| n.parse::<u64>().ok())
            {
                if !have.insert(n) {
                    d.twice += 1;
                }
            }
        }
        let first = have.iter().next().copied().unwrap_or(lines + 1);
        d.holes = (first..=lines).filter(|n| !have.contains(n)).count() as u64;
        d.last_there = have.contains(&lines);
    }
    Figures {
        dirs,
        stalls,
        lines,
        code,
    }
}

#[test]
fn clock_steps_during_rotation() {
    let phase = Duration::from_millis(frame::size(2000, 6000));
    let mut r = Report::new("06-clock-steps", "Clock steps during rotation");
    r.how(&format!(
        "svlogd `-tt t s` runs with its wall clock moved by an offset read from a file on \
         every reading, the monotonic clock not moved (ours: its test-only hook \
         `SVLOGD_FAULT_CLOCK`; runit's: libfaketime, `LD_PRELOAD` libfaketimeMT with \
         `FAKETIME_TIMESTAMP_FILE`); `t` \
         has `t1 s0 n5` (a rotation a second), `s` has `s4000 n5` (about two a second). A \
         writer sends `line N` every 5 ms. The clock offset goes {} for {} s each (a phase \
         goes on, {} s at most, until each directory has made an archive in it). Every 20 \
         ms the archives are listed: a new name that sorts before one seen earlier is out of \
         order. At the end of each phase the line just written must reach both directories \
         within {} s (else a stall). At the end the logs must hold an unbroken run of lines \
         ending with the last one written (a hole means newer data was pruned while older \
         was kept). `tests/reliability/log_clock_steps.rs`.",
        PHASES.map(|(shown, _)| shown).join(" → "),
        phase.as_secs_f64(),
        EXTRA.as_secs(),
        EXTRA.as_secs()
    ));
    let mut figs = Vec::new();
    for imp in frame::impls() {
        figs.push((imp, run(imp, phase)));
    }
    let ours = &figs[0].1;
    let runit = figs.get(1).map(|(_, f)| f);
    for (d, cfg) in DIRS {
        let cfg = cfg.trim_end().replace('\n', " ");
        let rows: [Measure<'_, Dir>; 5] = [
            ("new archives seen in each phase", &|x: &Dir| {
                x.rotations
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(" / ")
            }),
            ("new names sorting before older ones", &|x: &Dir| {
                x.out_of_order.to_string()
            }),
            (
                "most archives seen at once / at the end (n5)",
                &|x: &Dir| format!("{} / {}", x.most, x.at_end),
            ),
            (
                "lines missing between the oldest kept and the last",
                &|x: &Dir| frame::count(x.holes),
            ),
            ("last line there / lines twice", &|x: &Dir| {
                format!("{} / {}", if x.last_there { "yes" } else { "no" }, x.twice)
            }),
        ];
        for (what, f) in rows {
            r.row(
                &format!("`{d}` ({cfg}): {what}"),
                f(&ours.dirs[d]),
                runit.map(|x| f(&x.dirs[d])).unwrap_or_default(),
            );
        }
    }
    let rows: [Measure<'_, Figures>; 3] = [
        ("lines written", &|f: &Figures| frame::count(f.lines)),
        (
            "phases whose last line did not arrive in time",
            &|f: &Figures| f.stalls.to_string(),
        ),
        ("exit at the end of input", &|f: &Figures| match f.code {
            Some(c) => c.to_string(),
            None => "hung (KILLed after 15 s)".into(),
        }),
    ];
    for (what, f) in rows {
        r.row(what, f(ours), runit.map(f).unwrap_or_default());
    }
    let key = |f: &Figures| {
        let ooo: usize = f.dirs.values().map(|d| d.out_of_order).sum();
        let holes: u64 = f.dirs.values().map(|d| d.holes).sum();
        let idle = f
            .dirs
            .values()
            .map(|d| d.rotations.iter().filter(|&&n| n == 0).count())
            .sum::<usize>();
        format!(
            "{ooo} names out of order, {} lines pruned out of turn, {idle} phase(s) without \
             rotation, {} stall(s)",
            frame::count(holes),
            f.stalls
        )
    };
    r.summary(key(ours), runit.map(key).unwrap_or_default());
    for (d, _) in DIRS {
        let x = &ours.dirs[d];
        r.check(
            x.out_of_order == 0,
            &format!("`{d}`: names in creation order"),
        );
        r.check(x.holes == 0, &format!("`{d}`: only the oldest data pruned"));
        r.check(x.last_there, &format!("`{d}`: the last line arrived"));
        r.check(
            x.rotations.iter().all(|&n| n > 0),
            &format!("`{d}`: rotations in every phase"),
        );
        r.check(
            x.most <= N + 1 && x.at_end == N.min(x.seen.len()),
            &format!("`{d}`: n5 kept, no more, no fewer"),
        );
    }
    r.check(ours.stalls == 0, "no stall");
    r.check(ours.code == Some(0), "exit 0 at the end of input");
    r.note(
        "Ours takes a new archive name from the clock but never below the newest name \
         already in the directory (the next label after it), and measures `t` on the \
         monotonic clock, so neither a step back nor a step forward changes the order of \
         the files, what `n` deletes, or when `t` rotates. runit's 2.1.2 names files by the \
         wall clock and measures `t` by it: after a step back its new files sort before the \
         old ones (so they are pruned first: the newest data goes), and its `t` deadline \
         moves with the clock. Both prune right after the rename, so a listing can catch \
         `n` + 1 archives for a moment. The archives are listed every 20 ms, so an archive \
         deleted as soon as it was made is never seen: after runit's clock went back, its \
         new files sorted first and its pruning deleted each one at once (no new archive \
         seen in those phases), which is where the lines pruned out of turn went; its `t` \
         directory did not rotate for the rest of the day-back phase either.",
    );
    r.finish();
}
