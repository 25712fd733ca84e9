//! The service patterns: a getty per terminal named by its directory, a daemon with its
//! logger, a worker with a `finish` script.

use crate::tree::Tree;
use harness::{read_text, whole_lines};

#[test]
fn getty_takes_its_terminal_from_the_directory_name() {
    let mut t = Tree::new("ex-getty");
    // The getty records its arguments (whole, by rename) and stays, as a getty waits for a
    // login.
    let getty = t.helper(
        "fake-getty",
        "#!/bin/sh\necho \"$@\" >args.new\nmv args.new args\nexec sleep 1000\n",
    );
    for name in ["getty-tty1", "getty-ttyS0"] {
        t.add("getty-tty1", name);
        t.write(name, "conf", &format!("GETTY={}\n", getty.display()));
    }
    t.start();
    for (name, tty) in [("getty-tty1", "tty1"), ("getty-ttyS0", "ttyS0")] {
        let args = t.dir(name).join("args");
        t.wait(&format!("{name}'s getty started"), || args.exists());
        assert_eq!(whole_lines(&args), [format!("--noclear {tty} 38400 linux")]);
        // chpst -P: the getty leads a session of its own (so it can own the terminal).
        let pid = t.wait_running(name, 0);
        let fields = harness::stat_fields(pid as i32);
        assert_eq!(fields[3], pid.to_string(), "{name}: session id of {pid}");
    }
}

#[test]
fn daemon_output_arrives_through_svlogd_filtered_and_stamped() {
    let mut t = Tree::new("ex-daemon");
    let daemon = t.helper(
        "fake-daemon",
        "#!/bin/sh\necho \"info: started as uid $(id -u)\"\necho 'debug: noise'\necho 'error: on stderr' >&2\necho 'info: serving'\nexec sleep 1000\n",
    );
    t.add("daemon", "web");
    t.write(
        "web",
        "conf",
        &format!("DAEMON={}\nRUN_AS=nobody\n", daemon.display()),
    );
    t.write("web", "log/conf", "LOGDIR=./main\n");
    t.start();
    let current = t.dir("web").join("log/main/current");
    t.wait("the daemon's last line in the log", || {
        read_text(&current).contains("info: serving")
    });
    let log = whole_lines(&current);
    // Every line stamped by svlogd -tt; the debug line dropped by the copied config.
    let stamp =
        regex::Regex::new(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{5} ")
            .unwrap();
    let texts: Vec<String> = log
        .iter()
        .map(|l| {
            assert!(stamp.is_match(l), "not stamped: {l:?}");
            l[26..].to_string()
        })
        .collect();
    assert_eq!(
        texts,
        [
            "info: started as uid 65534",
            "error: on stderr",
            "info: serving"
        ]
    );
    assert_eq!(
        read_text(t.dir("web").join("log/main/config")),
        read_text(t.dir("web").join("log/config"))
    );
}

#[test]
fn finish_gets_runits_arguments_before_every_restart() {
    let mut t = Tree::new("ex-worker");
    // The worker fails with code 3 when ./fail exists (once), otherwise it works (sleeps).
    let worker = t.helper(
        "fake-worker",
        "#!/bin/sh\nif [ -e fail ]; then rm fail; exit 3; fi\nexec sleep 1000\n",
    );
    t.add("worker", "worker");
    t.write(
        "worker",
        "conf",
        &format!(
            "WORKER={}\nRECORD=./last-exit\nBACKOFF=0\n",
            worker.display()
        ),
    );
    t.write("worker", "fail", "");
    let record = t.dir("worker").join("last-exit");
    t.start();
    t.wait("finish after exit 3", || read_text(&record) == "3 0\n");
    let pid = t.wait_running("worker", 0);
    let o = t.sv(&["term", "worker"]);
    assert!(o.status.success());
    t.wait("finish after TERM", || read_text(&record) == "-1 15\n");
    let pid2 = t.wait_running("worker", pid);
    let o = t.sv(&["kill", "worker"]);
    assert!(o.status.success());
    t.wait("finish after KILL", || read_text(&record) == "-1 9\n");
    t.wait_running("worker", pid2);
    // finish's words went where ./run's output goes (here: runsvdir's output).
    let err = t.stderr();
    for said in [
        "worker exited with code 3",
        "worker killed by signal 15",
        "worker killed by signal 9",
    ] {
        assert!(err.contains(said), "{said:?} not in:\n{err}");
    }
}
