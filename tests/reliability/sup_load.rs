//! Scenario 9: a thousand services under one runsvdir, each writing its lines through its own
//! svlogd. Every line must arrive, and the tools must stay responsive: `sv status` on all of
//! them at once is timed.

use crate::frame::{self, median, secs, Measure, Report};
use harness::{cpu_time, log_text, read_status, runsvdir, service, wait_until_or, Impl, Scratch};
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

struct Figures {
    services: usize,
    lines: u64,
    startup: Duration,
    all_lines: Duration,
    sv_status: Vec<Duration>,
    sv_status_ok: bool,
    runsvdir_cpu: Duration,
    shutdown: Duration,
    lost: u64,
}

/// Bytes of `line 1\n` ... `line N\n`.
fn expected_bytes(n: u32) -> u64 {
    (1..=n).map(|i| format!("line {i}\n").len() as u64).sum()
}

fn run(imp: Impl, services: usize, lines: u32) -> Figures {
    let s = Scratch::new(&format!("rel-load-{}", imp.name()));
    let sdir = s.mkdir("service");
    let names: Vec<String> = (0..services).map(|i| format!("s{i:04}")).collect();
    let run = format!(
        "#!/bin/sh\ni=0\nwhile [ $i -lt {lines} ]; do i=$((i+1)); echo \"line $i\"; done\n\
         exec sleep 100000\n"
    );
    // Made aside and moved in, so runsvdir sees each one complete.
    let stage = s.mkdir("stage");
    for n in &names {
        service(&s, &format!("stage/{n}"), &run);
        let logdir = s.mkdir(format!("logs/{n}"));
        s.script(
            format!("stage/{n}/log/run"),
            &format!("#!/bin/sh\nexec svlogd {}\n", logdir.display()),
        );
        std::fs::rename(stage.join(n), sdir.join(n)).expect("move service in");
    }
    let t0 = Instant::now();
    let tree = runsvdir(&s, imp, &[&sdir]);
    let bound = Duration::from_secs(120);
    let running = |n: &String| {
        read_status(&sdir.join(n))
            .is_some_and(|st| st.pid != 0 && st.state == formats::status::State::Run)
    };
    let mut pending: Vec<&String> = names.iter().collect();
    wait_until_or(
        bound,
        "every service running",
        &mut || {
            pending.retain(|n| !running(n));
            std::thread::sleep(Duration::from_millis(20));
            pending.is_empty()
        },
        || harness::read_text(s.join("runsvdir.err")),
    );
    let startup = t0.elapsed();
    let want = expected_bytes(lines);
    let left = std::cell::Cell::new(0);
    let size = |n: &String| {
        std::fs::metadata(s.join("logs").join(n).join("current")).map_or(0, |m| m.len())
    };
    let mut pending: Vec<&String> = names.iter().collect();
    wait_until_or(
        bound,
        "every line in every log",
        &mut || {
            pending.retain(|n| size(n) < want);
            left.set(pending.len());
            std::thread::sleep(Duration::from_millis(20));
            pending.is_empty()
        },
        || format!("{} logs short", left.get()),
    );
    let all_lines = t0.elapsed();

    // The tools, with every service up: `sv status` on all of them, three times.
    let mut sv_status = Vec::new();
    let mut sv_status_ok = true;
    for _ in 0..3 {
        let mut c = imp.cmd("sv");
        c.env("SVDIR", &sdir)
            .arg("status")
            .args(&names)
            .current_dir(&s.path);
        let t = Instant::now();
        let out = harness::run(&mut c, Duration::from_secs(60));
        sv_status.push(t.elapsed());
        let text = String::from_utf8_lossy(&out.stdout);
        sv_status_ok &= out.status.success()
            && text.lines().count() == services
            && text
                .lines()
                .all(|l| l.starts_with("run: ") && l.contains("; run: log: "));
    }
    let runsvdir_cpu = cpu_time(tree.pid()).unwrap_or_default();

    let mut lost = 0;
    for n in &names {
        let text = log_text(&s.join("logs").join(n));
        let got: Vec<&str> = text.lines().collect();
        let ok = got.len() == lines as usize
            && got
                .iter()
                .enumerate()
                .all(|(i, l)| *l == format!("line {}", i + 1));
        if !ok {
            lost += u64::from(lines).saturating_sub(got.len() as u64).max(1);
        }
    }

    let t = Instant::now();
    tree.signal(Signal::SIGHUP);
    let supervised = |n: &String| formats::control::probe(&sdir.join(n)).is_ok();
    let mut pending: Vec<&String> = names.iter().collect();
    wait_until_or(
        bound,
        "every runsv gone after HUP",
        &mut || {
            pending.retain(|n| supervised(n));
            left.set(pending.len());
            std::thread::sleep(Duration::from_millis(20));
            pending.is_empty()
        },
        || format!("{} still supervised", left.get()),
    );
    let shutdown = t.elapsed();
    Figures {
        services,
        lines: services as u64 * u64::from(lines),
        startup,
        all_lines,
        sv_status,
        sv_status_ok,
        runsvdir_cpu,
        shutdown,
        lost,
    }
}

#[test]
fn a_thousand_logging_services() {
    let services = frame::size(100, 1000);
    let lines = frame::size(100, 1000);
    let mut r = Report::new("09-load", "Load: a thousand logging services");
    r.how(&format!(
        "{services} service directories, each with `log/run` = `svlogd DIR`, are moved into \
         an empty directory; then runsvdir starts on it. Each service writes {lines} numbered \
         lines and sleeps. Measured from runsvdir's start: every service running \
         (`supervise/status`), every line in every log. Then `sv status` with all \
         {services} names (`SVDIR` set) is run three times (each must print a `run: ...; run: \
         log: ...` line per service and exit 0), every log is compared line by line, and \
         runsvdir gets HUP: shutdown lasts until no `supervise/ok` has a reader. \
         `tests/reliability/sup_load.rs`."
    ));
    let (ours, runit) = frame::ours_and_runit(|imp| run(imp, services, lines));
    let (ours, runit) = (&ours, runit.as_ref());
    let rows: &[Measure<Figures>] = &[
        ("services (each with its svlogd)", &|f| {
            frame::count(f.services as u64)
        }),
        ("lines written", &|f| frame::count(f.lines)),
        ("lines lost", &|f| f.lost.to_string()),
        ("runsvdir start to every service running", &|f| {
            secs(f.startup)
        }),
        ("runsvdir start to every line in its log", &|f| {
            secs(f.all_lines)
        }),
        ("`sv status` on every service, median of 3", &|f| {
            format!(
                "{} ({})",
                secs(median(&mut f.sv_status.clone())),
                if f.sv_status_ok {
                    "all `run`"
                } else {
                    "WRONG OUTPUT"
                }
            )
        }),
        ("`sv status` on every service, slowest of 3", &|f| {
            secs(f.sv_status.iter().copied().max().unwrap_or_default())
        }),
        ("runsvdir CPU time, start to shutdown", &|f| {
            secs(f.runsvdir_cpu)
        }),
        ("HUP to every runsv gone", &|f| secs(f.shutdown)),
    ];
    r.rows(ours, runit, rows);
    let key = |f: &Figures| {
        format!(
            "{} services: {} lines lost, `sv status` on all in {}",
            f.services,
            f.lost,
            secs(median(&mut f.sv_status.clone()))
        )
    };
    r.summary(key(ours), runit.map(key).unwrap_or_default());
    r.check(ours.lost == 0, "every line of every service arrived");
    r.check(
        ours.sv_status_ok,
        "`sv status` reported every service running",
    );
    r.finish();
}
