//! Processors (`!cmd`): the fd layout, state/newstate, `.u` → `.t` → `.s`, and runit's
//! processor bugs fixed (spec/svlogd.md §4, §12 items 3, 4, 5, 9).

use crate::util::{conform, on_d, spawn};
use harness::{
    archives_ending, code, logdir, read_text, svlogd_cmd, svlogd_stderr, wait_until, wait_until_or,
    Impl, Scratch,
};
use nix::sys::signal::Signal;
use std::fs;
use std::time::Duration;

#[test]
fn processor_output_state_and_fds_match_runit() {
    let s = conform(
        "processor",
        |cwd| {
            logdir(
                cwd,
                "d",
                "s60\nn0\n!tr a-z A-Z; cat <&4 >&5; echo seen >&5; \
                 ls /proc/self/fd | sort -n | tr '\\n' ' ' >&2; basename $PWD >&2\n",
            );
        },
        &["d"],
        &crate::util::numbered("line", 12),
        &["d"],
    );
    let d = s.join("d");
    assert!(archives_ending(&d, ".u").is_empty() && archives_ending(&d, ".t").is_empty());
    assert!(!archives_ending(&d, ".s").is_empty());
    assert!(read_text(d.join("state")).contains("seen"));
}

#[test]
fn processor_environment_is_svlogds_own() {
    // The processor gets svlogd's environment, nothing taken away and nothing added: the same
    // as under runit's svlogd.
    let mut envs = Vec::new();
    for imp in Impl::BOTH {
        let s = Scratch::new(&format!("proc-env-{}", imp.name()));
        logdir(&s.path, "d", "s10\n!env | sort >&2; cat\n");
        let mut c = svlogd_cmd(imp, &s.path);
        c.env("MARK", "from the service's run").arg("d");
        let out = harness::run_with_input(&mut c, b"0123456789\n", crate::util::RUN);
        assert_eq!(code(out.status), 0, "{}", imp.name());
        let err = String::from_utf8_lossy(&out.stderr).replace(s.path.to_str().unwrap(), "S");
        assert!(
            err.lines().any(|l| l == "MARK=from the service's run"),
            "{err}"
        );
        envs.push(err);
    }
    harness::assert_text_eq("the processor's environment", &envs[0], &envs[1]);
}

#[test]
fn pruning_never_picks_the_pending_u_and_keeps_n_files() {
    // Decision (svlogd/src/rotate.rs): runit 2.3.0's rule. `.u` files count towards n, the one
    // a processor is about to work on is never deleted. Debian's 2.1.2 neither counts nor
    // deletes `.u`, so it keeps n+1 processed files.
    let mut counts = Vec::new();
    for imp in Impl::BOTH {
        let s = Scratch::new(&format!("prune-u-{}", imp.name()));
        logdir(&s.path, "d", "s40\nn3\n!cat\n");
        let out = crate::util::run(imp, &s.path, &["d"], &crate::util::numbered("l", 40));
        assert_eq!(code(out.status), 0);
        counts.push(archives_ending(&s.join("d"), ".s").len());
    }
    assert_eq!(counts, [4, 3], "runit keeps n+1, ours n");
}

#[test]
fn a_processor_killed_by_a_signal_has_failed() {
    // spec §12 item 3: runit takes a signalled processor for a success: it renames the
    // truncated output to .s and deletes the .u (data lost).
    for imp in Impl::BOTH {
        let (s, mut p) = on_d("proc-kill", imp, "s20\n!head -c 5; kill -KILL $$\n", &[]);
        p.send(b"0123456789abcdefghij\n");
        let d = s.join("d");
        match imp {
            Impl::Runit => wait_until(Duration::from_secs(20), "runit's bogus .s", || {
                archives_ending(&d, ".s").len() == 1
            }),
            Impl::Ours => {
                wait_until(Duration::from_secs(20), "a failed processor", || {
                    svlogd_stderr(&s.path).contains("processor failed, restart: d")
                });
                // Done with it (the retry is 3 s away): back in its loop.
                harness::wait_idle_in_syscall(p.pid(), Duration::from_secs(20));
                assert!(
                    archives_ending(&d, ".s").is_empty(),
                    "no .s from a killed processor"
                );
                assert_eq!(archives_ending(&d, ".u").len(), 1, ".u kept");
            }
        }
        if imp == Impl::Runit {
            let s_file = d.join(&archives_ending(&d, ".s")[0]);
            assert_eq!(fs::metadata(s_file).unwrap().len(), 5);
            assert!(archives_ending(&d, ".u").is_empty(), "runit deleted the .u");
        }
        p.signal(Signal::SIGKILL);
    }
}

#[test]
fn a_failing_processor_backs_off() {
    // spec §12 item 4: runit restarts a failed processor at once, in a tight loop; ours
    // retries every 3 s. Both run at once: by the time ours has failed twice, runit has failed
    // dozens of times. The processor notes when it starts (seconds since boot).
    let mut both = Vec::new();
    for imp in Impl::BOTH {
        let s = Scratch::new(&format!("proc-backoff-{}", imp.name()));
        logdir(
            &s.path,
            "d",
            "s10\n!read up idle </proc/uptime; echo $up >>../starts; exit 1\n",
        );
        let mut p = spawn(imp, &s.path, &["d"]);
        p.send(b"0123456789\n");
        both.push((s, p));
    }
    let starts = |s: &Scratch| -> Vec<f64> {
        harness::whole_lines(s.join("starts"))
            .iter()
            .map(|l| l.parse().unwrap())
            .collect()
    };
    let (runit, ours) = (&both[0].0, &both[1].0);
    wait_until(Duration::from_secs(60), "two failures of ours", || {
        starts(ours).len() >= 2
    });
    let runit_n = starts(runit).len();
    assert!(runit_n > 20, "runit restarted only {runit_n} times");
    let up = starts(ours);
    assert!(
        up[1] - up[0] >= 2.0,
        "ours retried after {:.2} s, not 3 s",
        up[1] - up[0]
    );
    wait_until(Duration::from_secs(20), "each failure reported", || {
        svlogd_stderr(&ours.path)
            .matches("svlogd: warning: processor failed, restart: d")
            .count()
            >= 2
    });
}

#[test]
fn term_during_a_failing_processor_exits() {
    let s = Scratch::new("proc-term");
    logdir(&s.path, "d", "s10\n!exit 1\n");
    let mut p = spawn(Impl::Ours, &s.path, &["d"]);
    p.send(b"0123456789\n");
    wait_until(Duration::from_secs(20), "rotation", || {
        !archives_ending(&s.join("d"), ".u").is_empty()
    });
    p.signal(Signal::SIGTERM);
    assert_eq!(code(p.wait_timeout(Duration::from_secs(8))), 0);
    assert_eq!(
        archives_ending(&s.join("d"), ".u").len(),
        1,
        "the .u is kept"
    );
}

#[test]
fn hup_keeps_a_running_processor() {
    // spec §12 item 5: after a HUP, runit forgets the running processor: its .t, .u and
    // newstate are left behind and the .u is never processed.
    for imp in Impl::BOTH {
        let (s, mut p) = on_d("proc-hup", imp, "s10\n!sleep 1; cat\n", &[]);
        p.send(b"0123456789\n");
        let d = s.join("d");
        wait_until(Duration::from_secs(20), "processor started", || {
            d.join("newstate").exists()
        });
        harness::signal_when_idle(p.pid(), Signal::SIGHUP, Duration::from_secs(20));
        // The processor finishes (1 s); svlogd has seen it go once it sleeps again with no
        // live child (runit: forgotten, so not handed over).
        let pid = p.pid();
        wait_until(Duration::from_secs(20), "the processor done", || {
            harness::children(pid).is_empty() && harness::idle_in_syscall(pid)
        });
        p.send(b"x\n");
        // The 10-byte cap put the line's newline into the new current.
        wait_until(Duration::from_secs(20), "line after HUP", || {
            read_text(d.join("current")) == "\nx\n"
        });
        match imp {
            Impl::Runit => {
                assert_eq!(archives_ending(&d, ".u").len(), 1, "runit left the .u");
                assert!(archives_ending(&d, ".s").is_empty());
            }
            Impl::Ours => wait_until_or(
                Duration::from_secs(20),
                "the processed .s",
                &mut || {
                    archives_ending(&d, ".s").len() == 1 && archives_ending(&d, ".u").is_empty()
                },
                || harness::listing(&d),
            ),
        }
        p.signal(Signal::SIGKILL);
    }
}
