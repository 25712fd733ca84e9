//! docs/forwarding.md's rsyslog configurations, run as written (issue 15 item 7): each block
//! marked `<!-- test: NAME -->` is read from the guide, its port and paths changed to the
//! test's, and a real rsyslogd runs it while svlogd forwards with the guide's `config` line.

use crate::pki;
use crate::util::{finish, hostname, numbered, spawn, RUN};
use harness::logdir;
use harness::{reference, wait_until_or, Proc, Scratch};
use std::net::TcpStream;
use std::process::{Command, Stdio};

/// The guide's fenced block after the marker `<!-- test: NAME -->`.
fn block(name: &str) -> String {
    let guide = harness::read_text(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/forwarding.md"),
    );
    let marker = format!("<!-- test: {name} -->\n```\n");
    let start = guide
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker:?} in docs/forwarding.md"))
        + marker.len();
    let len = guide[start..].find("```\n").expect("the block's end");
    guide[start..start + len].to_string()
}

/// Runs the guide's rsyslog block `name` on 127.0.0.1:`port`, writing into `s/NAME/out`;
/// TLS files from `tls/`. Returns the process and the output file.
fn rsyslogd(
    s: &Scratch,
    name: &str,
    port: u16,
    tls: &std::path::Path,
) -> (Proc, std::path::PathBuf) {
    let rsyslogd = reference("/usr/sbin/rsyslogd");
    let dir = s.mkdir(name);
    let work = s.mkdir(format!("{name}/work"));
    let out = dir.join("svlogd.log");
    let conf = block(name)
        .replace(
            "port=\"514\"",
            &format!("port=\"{port}\" address=\"127.0.0.1\""),
        )
        .replace(
            "port=\"6514\"",
            &format!("port=\"{port}\" address=\"127.0.0.1\""),
        )
        .replace("/var/log/remote/svlogd.log", &out.display().to_string())
        .replace("/etc/rsyslog.d/tls/", &format!("{}/", tls.display()));
    let conf = format!("global(workDirectory=\"{}\")\n{conf}", work.display());
    std::fs::write(dir.join("rsyslog.conf"), &conf).unwrap();
    let log = std::fs::File::create(dir.join("rsyslogd.stderr")).unwrap();
    let p = Proc::spawn_group(
        Command::new(rsyslogd)
            .arg("-n")
            .arg("-f")
            .arg(dir.join("rsyslog.conf"))
            .arg("-i")
            .arg(dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log),
    );
    let udp = name.ends_with("udp");
    let hex = format!("0100007F:{port:04X} ");
    wait_until_or(
        RUN,
        "rsyslogd listening",
        &mut || {
            if udp {
                harness::read_text("/proc/net/udp").contains(&hex)
            } else {
                TcpStream::connect(("127.0.0.1", port)).is_ok()
            }
        },
        || harness::read_text(dir.join("rsyslogd.stderr")) + "\n" + &conf,
    );
    (p, out)
}

/// svlogd forwards `count` lines with the guide's `config` block `config` to the guide's
/// rsyslog block `collector`; every line arrives once, in order, with the host's name and
/// microseconds.
fn run_guide(collector: &str, config: &str, count: usize) {
    let s = Scratch::new(&format!("fw-guide-{collector}"));
    let port = crate::collector::free_port("127.0.0.1");
    let log = s.mkdir("log");
    let tls = s.mkdir("log/tls");
    pki::make(&tls, "guide ca");
    let (rs, out) = rsyslogd(&s, collector, port, &tls);
    let line = block(config)
        .replace("logs.example.org:514", &format!("127.0.0.1:{port}"))
        .replace("logs.example.org:6514", &format!("127.0.0.1:{port}"));
    let dir = logdir(&s.path, "log", &line);
    assert_eq!(dir, log);
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(&numbered(0, count));
    wait_until_or(
        RUN,
        &format!("rsyslog to write {count} lines"),
        &mut || harness::whole_lines(&out).len() >= count,
        || {
            format!(
                "{} lines\n{}\n{}",
                harness::whole_lines(&out).len(),
                harness::read_text(s.join(format!("{collector}/rsyslogd.stderr"))),
                harness::svlogd_stderr(&s.path)
            )
        },
    );
    finish(p, &s.path);
    drop(rs);
    let got = harness::whole_lines(&out);
    let sent = String::from_utf8(numbered(0, count)).unwrap();
    let host = hostname();
    assert_eq!(got.len(), count);
    for (g, want) in got.iter().zip(sent.lines()) {
        // 2026-12-04T10:11:12.123456+00:00 HOST APP TEXT
        let (time, rest) = g.split_once(' ').expect("a time");
        let frac = time.split_once('.').map(|(_, f)| &f[..6]);
        assert!(
            frac.is_some_and(|f| f.bytes().all(|b| b.is_ascii_digit())),
            "no microseconds: {g}"
        );
        assert!(rest.starts_with(&format!("{host} ")), "{g}");
        assert!(g.ends_with(want), "{g} should end with {want}");
    }
}

#[test]
fn guide_rsyslog_udp() {
    run_guide("rsyslog-udp", "config-udp", 2000);
}

#[test]
fn guide_rsyslog_tcp() {
    run_guide("rsyslog-tcp", "config-tcp", 2000);
}

#[test]
fn guide_rsyslog_tls() {
    run_guide("rsyslog-tls", "config-tls", 2000);
}
