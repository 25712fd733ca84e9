//! Messages that say what is wrong and where (issue 15 item 2): a bad value names the option,
//! the line and what the option takes; an option of another transport says so; TLS failures
//! name the `ca=` file or the plain-TCP port; with `-v` an outage still gets one warning, its
//! retries `info:` lines.

use crate::pki;
use crate::util::{finish, spawn, RUN};
use harness::{logdir, svlogd_stderr};
use harness::{wait_until_or, Scratch};

#[test]
fn a_refused_option_names_the_line_the_option_and_what_it_takes() {
    let s = Scratch::new("fw-msg-values");
    let config = "n3\n\
                  >tcp 127.0.0.1:1 max=10\n\
                  >udp 127.0.0.1:1 format=RFC3164\n\
                  >tcp 127.0.0.1:1 cert=c.pem\n\
                  >udp 127.0.0.1:1 framing=lf\n\
                  >tcp 127.0.0.1:1 rate=100\n\
                  >udp 127.0.0.1:1 rate=0\n\
                  >tcp 127.0.0.1:1 colour=blue\n\
                  >tcp nowhere:0\n";
    let dir = logdir(&s.path, "log", config);
    let mut p = spawn(&s.path, &[], &dir);
    p.send(b"kept\n");
    finish(p, &s.path);
    let d = dir.display();
    let expected = format!(
        "svlogd: warning: invalid forward option value: {d}/config:2: max=10 (max= takes 64 to 65000 bytes, suffix k)\n\
         svlogd: warning: invalid forward option value: {d}/config:3: format=RFC3164 (format= takes rfc5424 or rfc3164)\n\
         svlogd: warning: forward option not for this transport: {d}/config:4: cert=c.pem (only >tls takes ca=, cert=, key= and name=)\n\
         svlogd: warning: forward option not for this transport: {d}/config:5: framing=lf (only >tcp takes framing=: >udp sends one message a datagram)\n\
         svlogd: warning: forward option not for this transport: {d}/config:6: rate=100 (only >udp takes rate= and burst=: TCP and TLS pace themselves)\n\
         svlogd: warning: invalid forward option value: {d}/config:7: rate=0 (rate= takes 1 to 1000000 lines a second)\n\
         svlogd: warning: unknown forward option: {d}/config:8: colour=blue (options: format= framing= app= host= max= rate= burst= from= ca= cert= key= name=)\n\
         svlogd: warning: unable to scan forward address: {d}/config:9: nowhere:0 (HOST, HOST:PORT or [IPV6]:PORT, port 1 to 65535)\n"
    );
    harness::assert_text_eq("the warnings", &expected, &svlogd_stderr(&s.path));
    assert_eq!(harness::read_text(dir.join("current")), "kept\n");
}

/// With `-v`, a collector that stays away gets one warning and an `info:` line per retry.
#[test]
fn verbose_keeps_one_warning_per_outage() {
    let s = Scratch::new("fw-msg-outage");
    let port = crate::collector::free_port("127.0.0.1");
    let dir = logdir(&s.path, "log", &format!(">tcp 127.0.0.1:{port}\n"));
    let mut p = spawn(&s.path, &["-v"], &dir);
    p.send(b"one\n");
    let path = s.path.clone();
    let retry = "svlogd: info: forward retry failed: ";
    wait_until_or(
        RUN,
        "three failed retries",
        &mut || svlogd_stderr(&path).matches(retry).count() >= 3,
        || svlogd_stderr(&path),
    );
    p.signal(nix::sys::signal::Signal::SIGTERM);
    p.wait_timeout(RUN);
    let err = svlogd_stderr(&s.path);
    let warning = format!(
        "svlogd: warning: unable to connect to forward target: {}: tcp-127.0.0.1-{port}: connection refused\n",
        dir.display()
    );
    assert_eq!(err.matches("svlogd: warning:").count(), 1, "{err}");
    assert!(err.contains(&warning), "{err}");
    assert!(
        err.contains(&format!(
            "{retry}{}: tcp-127.0.0.1-{port}: connection refused\n",
            dir.display()
        )),
        "{err}"
    );
}

/// TLS failures say what the operator must fix: the `ca=` file that does not vouch for the
/// collector, and a `>tls` line pointed at a port that does not speak TLS.
#[test]
fn tls_failures_name_the_ca_file_and_a_plain_tcp_port() {
    let s = Scratch::new("fw-msg-tls");
    let good = s.mkdir("log/good");
    let other = s.mkdir("log/other");
    let pki = pki::make(&good, "good ca");
    pki::make(&other, "other ca");
    // A TLS collector whose certificate the other CA did not sign.
    let port = crate::collector::free_port("127.0.0.1");
    let rs = crate::collector::Rsyslog::start(
        &s,
        "rsyslog",
        crate::collector::Inputs {
            tls: Some((
                format!("127.0.0.1:{port}").parse().unwrap(),
                pki.ca.clone(),
                pki.server.0.clone(),
                pki.server.1.clone(),
                false,
            )),
            ..Default::default()
        },
    );
    // A port that accepts and hangs up without a word, as a plain TCP collector does with a
    // ClientHello it cannot read.
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let plain_port = plain.local_addr().unwrap().port();
    let hangup = std::thread::spawn(move || {
        for c in plain.incoming().take(1) {
            drop(c);
        }
    });
    let dir = logdir(
        &s.path,
        "log",
        &format!(
            ">tls localhost:{port} ca=other/ca.pem\n>tls 127.0.0.1:{plain_port} ca=good/ca.pem name=localhost\n"
        ),
    );
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(b"line\n");
    let path = s.path.clone();
    wait_until_or(
        RUN,
        "both warnings",
        &mut || {
            svlogd_stderr(&path)
                .matches("svlogd: warning: unable to connect")
                .count()
                >= 2
        },
        || svlogd_stderr(&path),
    );
    p.signal(nix::sys::signal::Signal::SIGTERM);
    p.wait_timeout(RUN);
    hangup.join().unwrap();
    drop(rs);
    let err = svlogd_stderr(&s.path);
    let d = dir.display();
    assert!(
        err.contains(&format!(
            "svlogd: warning: unable to connect to forward target: {d}: tls-localhost-{port}: the collector's certificate is not signed by a CA in ca=other/ca.pem ("
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "svlogd: warning: unable to connect to forward target: {d}: tls-127.0.0.1-{plain_port}: "
        )) && err.contains("is the port plain TCP (that is >tcp)?\n"),
        "{err}"
    );
}
