//! Issue 17 item 6: container mode and daemons that fork twice. Their parent exits, so they
//! are re-parented to runsvdir (process 1, or a child subreaper with `RUNSVDIR_CONTAINER=1`)
//! and no runsv stops them. On TERM runsvdir must TERM them too, KILL what ignores TERM at
//! its bound, and, outside process 1, leave none of them to the host's init.

use crate::frame::{self, secs, Measure, Report};
use crate::sup_common::T;
use harness::{
    as_pid1, child_pids, forking_daemon, service, signal, start_in, wait_until, Impl, Scratch,
};
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

/// How runsvdir runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Process 1 of a pid namespace (`unshare --pid --fork --mount-proc`).
    Pid1,
    /// `RUNSVDIR_CONTAINER=1`, not process 1 (ours only: runit has no container mode).
    Env,
}

struct Figures {
    daemons: usize,
    /// Daemons that recorded a TERM.
    termed: usize,
    /// Daemons still running after runsvdir exited (outside process 1; as process 1 the
    /// kernel kills the namespace).
    left: usize,
    /// Services that logged their `bye` through their logger.
    drained: usize,
    shutdown: Duration,
    code: i32,
}

/// A service whose `./run` double-forks a daemon, then logs `hi`, and `bye` on TERM. The
/// daemon writes its (outer) pid to `../../NAME.pid` and, on TERM, `term` to `../../NAME.term`
/// (or ignores TERM, `stubborn`).
fn forking_service(s: &Scratch, name: &str, stubborn: bool) {
    let daemon = forking_daemon(name, stubborn);
    service(
        s,
        &format!("sv/{name}"),
        &format!(
            "#!/bin/sh\n{daemon}trap 'echo bye; exit 0' TERM\necho hi\nwhile :; do sleep 0.05; done\n"
        ),
    );
    s.script(format!("sv/{name}/log/run"), "#!/bin/sh\nexec cat >out\n");
}

fn run(imp: Impl, mode: Mode, daemons: usize) -> Figures {
    let s = Scratch::new(&format!(
        "rel-ct-{}-{}",
        imp.name(),
        if mode == Mode::Pid1 { "pid1" } else { "env" }
    ));
    let names: Vec<String> = (0..daemons).map(|i| format!("d{i:02}")).collect();
    for n in &names {
        forking_service(&s, n, false);
    }
    forking_service(&s, "stubborn", true);
    let mut c = match mode {
        Mode::Pid1 => as_pid1(imp, "runsvdir"),
        Mode::Env => {
            let mut c = imp.cmd("runsvdir");
            c.env("RUNSVDIR_CONTAINER", "1");
            c
        }
    };
    c.arg("sv").env("RUNSVDIR_SHUTDOWN_TIMEOUT", "3000");
    let mut p = start_in(&s, &mut c, Some("runsvdir.err"));
    let all: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .chain(["stubborn"])
        .collect();
    for n in &all {
        wait_until(T, "every daemon started and logged", || {
            s.join(format!("{n}.pid")).exists()
                && harness::read_text(s.join(format!("sv/{n}/log/out"))) == "hi\n"
        });
    }
    let pids: Vec<i32> = all
        .iter()
        .map(|n| {
            harness::read_text(s.join(format!("{n}.pid")))
                .trim()
                .parse()
                .unwrap_or(0)
        })
        .collect();
    // runsvdir itself: the child of unshare as process 1, else the process started.
    let target = match mode {
        Mode::Pid1 => {
            let mut kids = Vec::new();
            wait_until(T, "runsvdir in the namespace", || {
                kids = child_pids(p.pid());
                !kids.is_empty()
            });
            kids[0]
        }
        Mode::Env => p.pid(),
    };
    let t = Instant::now();
    signal(target, Signal::SIGTERM);
    let st = p.wait_timeout(Duration::from_secs(60));
    let shutdown = t.elapsed();
    let termed = names
        .iter()
        .filter(|n| harness::read_text(s.join(format!("{n}.term"))) == "term\n")
        .count();
    let left = match mode {
        Mode::Pid1 => 0,
        Mode::Env => pids.iter().filter(|&&p| p > 0 && harness::alive(p)).count(),
    };
    let drained = all
        .iter()
        .filter(|n| harness::read_text(s.join(format!("sv/{n}/log/out"))) == "hi\nbye\n")
        .count();
    // Whatever was left to the host goes now, by pid.
    for &p in &pids {
        if p > 0 && mode == Mode::Env && harness::alive(p) {
            signal(p, Signal::SIGKILL);
        }
    }
    Figures {
        daemons: names.len(),
        termed,
        left,
        drained,
        shutdown,
        code: harness::code(st),
    }
}

#[test]
fn container_mode_and_orphaned_daemons() {
    let daemons = frame::size(2, 10);
    let mut r = Report::new(
        "17.6-container-orphans",
        "Container mode and double-forked daemons",
    );
    r.how(&format!(
        "{} services with a logger each; every `./run` forks a daemon in a subshell that \
         exits at once, so the daemon is re-parented to runsvdir, then logs `hi` (and `bye` \
         on TERM). {daemons} of the daemons record a TERM in a file; one ignores TERM. \
         runsvdir runs as process 1 of a pid namespace, and (ours only) with \
         `RUNSVDIR_CONTAINER=1` outside it; `RUNSVDIR_SHUTDOWN_TIMEOUT=3000`. It gets TERM; \
         counted: the daemons that got TERM, the daemons still running after runsvdir exited \
         (outside process 1), the services whose logger got their `bye`, the time to exit. \
         runit's runsvdir as process 1 exits at TERM at once, and the kernel KILLs the rest of \
         the namespace. The issue's run found ours KILLing the daemons as process 1 without \
         a TERM, and leaving them to the host's init outside it. \
         `tests/reliability/sup_container.rs`.",
        daemons + 1
    ));
    let ours_pid1 = run(Impl::Ours, Mode::Pid1, daemons);
    let ours_env = run(Impl::Ours, Mode::Env, daemons);
    let runit_pid1 = frame::with_runit().then(|| run(Impl::Runit, Mode::Pid1, daemons));
    let rows: &[Measure<Figures>] = &[
        ("daemons that got TERM", &|f| {
            format!("{} of {}", f.termed, f.daemons)
        }),
        ("services whose `bye` reached the log", &|f| {
            format!("{} of {}", f.drained, f.daemons + 1)
        }),
        ("TERM to exit", &|f| secs(f.shutdown)),
        ("exit code", &|f| f.code.to_string()),
    ];
    for (label, f) in [("as process 1", &ours_pid1)] {
        for (measure, get) in rows {
            r.row(
                &format!("{label}: {measure}"),
                get(f),
                runit_pid1.as_ref().map(get).unwrap_or_default(),
            );
        }
    }
    for (measure, get) in rows {
        r.row(
            &format!("`RUNSVDIR_CONTAINER=1`: {measure}"),
            get(&ours_env),
            "",
        );
    }
    r.row(
        "`RUNSVDIR_CONTAINER=1`: daemons left running after runsvdir exited",
        format!("{} of {}", ours_env.left, ours_env.daemons + 1),
        "",
    );
    let key = |f: &Figures| {
        format!(
            "as process 1: {} of {} daemons got TERM",
            f.termed, f.daemons
        )
    };
    r.summary(
        format!(
            "{}; outside it: {} of {} got TERM, {} left behind",
            key(&ours_pid1),
            ours_env.termed,
            ours_env.daemons,
            ours_env.left
        ),
        runit_pid1.as_ref().map(key).unwrap_or_default(),
    );
    r.note(
        "Ours TERMs (and CONTs) every child that is not one of its runsv processes together \
         with the runsv processes, looks for newly adopted ones every 100 ms while the \
         shutdown lasts, waits for them as for the runsv processes, and at the bound KILLs \
         what is left (the stubborn daemon here, so the shutdown lasts the 3 s bound); \
         outside process 1 it also kills and reaps every child it still has before it \
         exits. A daemon that kept its service's stdout would also keep that logger, and so \
         its runsv, from exiting: it gets its TERM at the start, not at the bound.",
    );
    for (label, f) in [("as process 1", &ours_pid1), ("outside it", &ours_env)] {
        r.check(
            f.termed == f.daemons,
            &format!("{label}: every daemon got TERM"),
        );
        r.check(
            f.drained == f.daemons + 1,
            &format!("{label}: every service stopped and its logger drained"),
        );
        r.check(f.code == 0, &format!("{label}: exit 0"));
    }
    r.check(
        ours_env.left == 0,
        "outside process 1: no daemon left behind",
    );
    r.finish();
}
