//! Services that control each other: the one-shot job re-run on request, the link-watcher
//! that ups and downs its target, the pinger watchdog that restarts its target.

use crate::tree::Tree;
use formats::status::State;
use harness::whole_lines;
use std::fs;

/// The number of lines in a file (a counter that helpers append to).
fn count(p: &std::path::Path) -> usize {
    whole_lines(p).len()
}

#[test]
fn oneshot_runs_once_more_when_asked_during_its_run_and_again_when_down() {
    let mut t = Tree::new("ex-oneshot");
    // The job: one line in ./runs per run, then it waits for ./release (consumed) and ends.
    let job = t.helper(
        "fake-job",
        "#!/bin/sh\necho run >>runs\nwhile [ ! -e release ]; do sleep 0.01; done\nrm release\n",
    );
    t.add("oneshot", "config");
    t.write("config", "conf", &format!("JOB={}\n", job.display()));
    let dir = t.dir("config");
    let runs = dir.join("runs");
    let release = || fs::write(dir.join("release"), "").unwrap();
    t.start();

    // The first run made itself one-shot: running, want down.
    t.wait("first run, one-shot", || {
        count(&runs) == 1
            && t.status("config")
                .is_some_and(|st| st.state == State::Run && st.want == b'd')
    });
    let first = t.status("config").unwrap().pid;
    // Two requests from other services during the run: want up.
    for _ in 0..2 {
        assert!(t.sv(&["up", "config"]).status.success());
    }
    t.wait("want up", || {
        t.status("config").is_some_and(|st| st.want == b'u')
    });
    release();
    // Exactly one more run, which makes itself one-shot again.
    t.wait("second run, one-shot", || {
        count(&runs) == 2
            && t.status("config")
                .is_some_and(|st| st.state == State::Run && st.want == b'd' && st.pid != first)
    });
    release();
    t.wait_down("config");
    // Down and wanting down: runsv starts nothing more.
    assert_eq!(count(&runs), 2);
    let o = t.sv(&["status", "config"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("down: config: "),
        "{o:?}"
    );
    // Asked again while down: one more run.
    assert!(t.sv(&["up", "config"]).status.success());
    t.wait("third run", || {
        count(&runs) == 3
            && t.status("config")
                .is_some_and(|st| st.state == State::Run && st.want == b'd')
    });
    release();
    t.wait_down("config");
    assert_eq!(count(&runs), 3);
}

/// The link watcher's `sv up`s that worked: its "link up" lines not followed by a warning of
/// `sv` (the target not yet under supervision: the watcher says it again when it retries).
fn ups(stderr: &str) -> usize {
    let lines: Vec<&str> = stderr.lines().collect();
    (0..lines.len())
        .filter(|&i| {
            lines[i] == "eth0: link up: sv up dhcp-eth0"
                && !lines.get(i + 1).is_some_and(|l| l.starts_with("warning: "))
        })
        .count()
}

#[test]
fn link_watcher_ups_and_downs_its_target_as_the_link_comes_and_goes() {
    let mut t = Tree::new("ex-link");
    // The target: the daemon example standing in for a DHCP client, down until the link is up.
    t.add("daemon", "dhcp-eth0");
    t.write("dhcp-eth0", "conf", "DAEMON='sleep 1000'\n");
    t.write("dhcp-eth0", "log/conf", "LOGDIR=./main\n");
    t.write("dhcp-eth0", "down", "");
    // The link: a file standing in for /sys/class/net/eth0/carrier.
    let carrier = t.s.join("carrier");
    t.add("link-watcher", "link-eth0");
    t.write(
        "link-eth0",
        "conf",
        &format!(
            "IFACE=eth0\nTARGET=dhcp-eth0\nINTERVAL=0.02\nCARRIER={}\n",
            carrier.display()
        ),
    );
    t.start();
    // No carrier file yet (interface down): the watcher says so and the target stays down.
    t.wait("the watcher saw the link down", || {
        t.stderr().contains("eth0: link down: sv down dhcp-eth0")
    });
    // (The target may come under supervision after the watcher's first look; the watcher
    // retries a failed `sv`.)
    t.wait_down("dhcp-eth0");
    let mut pid = 0;
    for round in 0..2 {
        fs::write(&carrier, "1\n").unwrap();
        pid = t.wait_running("dhcp-eth0", pid);
        assert!(t.status("dhcp-eth0").unwrap().want == b'u');
        fs::write(&carrier, "0\n").unwrap();
        t.wait_down("dhcp-eth0");
        assert_eq!(ups(&t.stderr()), round + 1);
    }
    // The interface goes away altogether (reading the carrier fails): still down.
    fs::write(&carrier, "1\n").unwrap();
    pid = t.wait_running("dhcp-eth0", pid);
    fs::remove_file(&carrier).unwrap();
    t.wait_down("dhcp-eth0");
    assert!(
        !harness::alive(pid as i32),
        "the target's process {pid} is still there"
    );
}

#[test]
fn watchdog_restarts_its_target_when_pings_fail_and_only_then() {
    let mut t = Tree::new("ex-watchdog");
    t.add("daemon", "vpn");
    t.write("vpn", "conf", "DAEMON='sleep 1000'\n");
    t.write("vpn", "log/conf", "LOGDIR=./main\n");
    // The ping: answered while ./reachable exists; every ping leaves a line in ./pings.
    let pings = t.s.join("pings");
    let reachable = t.s.join("reachable");
    let ping = t.helper(
        "fake-ping",
        &format!(
            "#!/bin/sh\necho ping >>{}\ntest -e \"$1\"\n",
            pings.display()
        ),
    );
    fs::write(&reachable, "").unwrap();
    t.add("watchdog", "watchdog");
    t.write(
        "watchdog",
        "conf",
        &format!(
            "HOST={}\nTARGET=vpn\nINTERVAL=0.02\nFAILS=3\nPING={}\n",
            reachable.display(),
            ping.display()
        ),
    );
    t.start();
    let first = t.wait_running("vpn", 0);
    // While pings are answered, nothing is restarted.
    let seen = count(&pings);
    t.wait("20 answered pings", || count(&pings) >= seen + 20);
    assert_eq!(t.status("vpn").unwrap().pid, first);
    assert!(!t.stderr().contains("restarting vpn"));
    // The far end stops answering: three failures, then a restart.
    fs::remove_file(&reachable).unwrap();
    t.wait_running("vpn", first);
    t.wait("the watchdog said why", || {
        t.stderr().contains("no answer from") && t.stderr().contains("restarting vpn")
    });
    assert!(t
        .stderr()
        .contains(&format!("no answer from {} (3 of 3)", reachable.display())));
    // Answered again: once the watchdog is past any restart under way, no more restarts.
    fs::write(&reachable, "").unwrap();
    let seen = count(&pings);
    t.wait("5 more pings", || count(&pings) >= seen + 5);
    let settled = t.wait_running("vpn", 0);
    let restarts = t.stderr().matches("restarting vpn").count();
    let seen = count(&pings);
    t.wait("20 more answered pings", || count(&pings) >= seen + 20);
    assert_eq!(t.status("vpn").unwrap().pid, settled);
    assert_eq!(t.stderr().matches("restarting vpn").count(), restarts);
}
