//! A corrected address keeps its backlog (issue 15 item 4): the target that replaces the one
//! target of its transport in a reload continues from the old cursor, and `from=` continues
//! from a named one after a restart.

use crate::collector::{free_port, Rsyslog};
use crate::util::{finish, numbered, spawn, RUN};
use harness::{logdir, svlogd_stderr};
use harness::{wait_until_or, Scratch};

#[test]
fn a_target_corrected_by_a_reload_sends_the_backlog_of_the_old_one() {
    let s = Scratch::new("fw-carry-hup");
    let wrong = free_port("127.0.0.1");
    let right = free_port("127.0.0.1");
    let rs = Rsyslog::tcp(&s, right);
    let dir = logdir(&s.path, "log", &format!(">tcp 127.0.0.1:{wrong}\n"));
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(&numbered(0, 50));
    let path = s.path.clone();
    wait_until_or(
        RUN,
        "the wrong address to be refused",
        &mut || svlogd_stderr(&path).contains("unable to connect to forward target"),
        || svlogd_stderr(&path),
    );
    std::fs::write(dir.join("config"), format!(">tcp 127.0.0.1:{right}\n")).unwrap();
    p.signal(nix::sys::signal::Signal::SIGHUP);
    wait_until_or(
        RUN,
        "the cursor handed over",
        &mut || svlogd_stderr(&path).contains("forward continues from the cursor"),
        || svlogd_stderr(&path),
    );
    p.send(&numbered(50, 1));
    let got = rs.wait_lines(51, RUN, &s.path);
    finish(p, &s.path);
    let msgs: Vec<String> = got.iter().map(|l| crate::collector::parse(l).msg).collect();
    let sent: Vec<String> = String::from_utf8(numbered(0, 51))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(msgs, sent);
    let err = svlogd_stderr(&s.path);
    assert!(
        err.contains(&format!(
            "svlogd: info: forward continues from the cursor of tcp-127.0.0.1-{wrong}: {}: tcp-127.0.0.1-{right}\n",
            dir.display()
        )),
        "{err}"
    );
    let names = harness::names(&dir);
    assert!(
        names.contains(&format!("forward.tcp-127.0.0.1-{right}"))
            && !names.contains(&format!("forward.tcp-127.0.0.1-{wrong}")),
        "{names:?}"
    );
}

#[test]
fn from_continues_from_a_named_cursor_after_a_restart() {
    let s = Scratch::new("fw-carry-from");
    let wrong = free_port("127.0.0.1");
    let right = free_port("127.0.0.1");
    let dir = logdir(&s.path, "log", &format!(">tcp 127.0.0.1:{wrong}\n"));
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(&numbered(0, 20));
    // Unreachable: svlogd exits at the end of input, the cursor saved at the start.
    finish(p, &s.path);
    assert!(harness::names(&dir).contains(&format!("forward.tcp-127.0.0.1-{wrong}")));
    let rs = Rsyslog::tcp(&s, right);
    std::fs::write(
        dir.join("config"),
        format!(">tcp 127.0.0.1:{right} from=tcp-127.0.0.1-{wrong}\n"),
    )
    .unwrap();
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(&numbered(20, 1));
    let got = rs.wait_lines(21, RUN, &s.path);
    finish(p, &s.path);
    let first = crate::collector::parse(&got[0]).msg;
    let last = crate::collector::parse(&got[20]).msg;
    assert!(
        first.starts_with("0000000 ") && last.starts_with("0000020 "),
        "{got:?}"
    );
    assert_eq!(got.len(), 21, "{got:?}");
    // from= copies: the named cursor stays for whoever else uses it.
    assert!(harness::names(&dir).contains(&format!("forward.tcp-127.0.0.1-{wrong}")));
}
