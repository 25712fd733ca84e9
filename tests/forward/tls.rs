//! RFC 5425: TLS to rsyslog's gtls driver, with certificates made by openssl in the test.

use crate::collector::{free_port, parse, Inputs, Rsyslog};
use crate::util::{finish, spawn, RUN};
use harness::{logdir, reference, run, svlogd_stderr, wait_until_or, Scratch};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A CA, a server certificate for `localhost`/127.0.0.1 and a client certificate, in `dir`.
fn certificates(dir: &Path, ca_name: &str) -> (PathBuf, PathBuf, PathBuf, PathBuf, PathBuf) {
    let openssl = reference("/usr/bin/openssl");
    let sh = |args: &[&str]| {
        let out = run(Command::new(&openssl).current_dir(dir).args(args), RUN);
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut a = vec!["req", "-x509"];
    a.extend(ec);
    a.extend(["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj"]);
    let subj = format!("/CN={ca_name}");
    a.push(&subj);
    sh(&a);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for who in ["server", "client"] {
        let (key, csr, pem, ext) = (
            format!("{who}.key"),
            format!("{who}.csr"),
            format!("{who}.pem"),
            format!("{who}.ext"),
        );
        let mut a = vec!["req"];
        a.extend(ec);
        a.extend(["-keyout", &key, "-out", &csr, "-subj"]);
        let subj = format!("/CN={who}");
        a.push(&subj);
        sh(&a);
        sh(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "2",
            "-extfile",
            &ext,
        ]);
    }
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
        dir.join("client.pem"),
        dir.join("client.key"),
    )
}

/// Messages arrive over TLS; rsyslog requires a client certificate signed by its CA, which
/// svlogd presents. A second target trusting another CA refuses the server and says why.
#[test]
fn tls_with_client_certificate_to_rsyslog() {
    let s = Scratch::new("fw-tls");
    let certs = s.mkdir("certs");
    let (ca, cert, key, ccert, ckey) = certificates(&certs, "test ca");
    let other = s.mkdir("other");
    let (other_ca, ..) = certificates(&other, "other ca");
    let port = free_port("127.0.0.1");
    let rs = Rsyslog::start(
        &s,
        "rsyslog",
        Inputs {
            tls: Some((
                format!("127.0.0.1:{port}").parse().unwrap(),
                ca.clone(),
                cert,
                key,
                true,
            )),
            ..Default::default()
        },
    );
    let dir = logdir(
        &s.path,
        "log",
        &format!(
            ">tls 127.0.0.1:{port} ca={} cert={} key={} name=localhost app=secure\n\
             >tls localhost:{port} ca={} app=untrusted\n",
            ca.display(),
            ccert.display(),
            ckey.display(),
            other_ca.display()
        ),
    );
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(b"over tls\nsecond\n");
    let got = rs.wait_lines(2, RUN, &s.path);
    let path = s.path.clone();
    wait_until_or(
        RUN,
        "the untrusted target's warning",
        &mut || svlogd_stderr(&path).contains("tls-localhost-"),
        || svlogd_stderr(&path),
    );
    finish(p, &s.path);
    let msgs: Vec<(String, String)> = got
        .iter()
        .map(|l| {
            let f = parse(l);
            (f.app, f.msg)
        })
        .collect();
    assert_eq!(
        msgs,
        [
            ("secure".to_string(), "over tls".to_string()),
            ("secure".to_string(), "second".to_string())
        ]
    );
    let err = svlogd_stderr(&s.path);
    assert!(
        err.contains(&format!(
            "svlogd: warning: unable to connect to forward target: {}: tls-localhost-{port}: ",
            dir.display()
        )) && err.contains("certificate"),
        "{err}"
    );
}

/// TERM while a TLS collector accepts but never answers the handshake: the stopping thread's
/// last connection try is bounded by its grace period (it waited for the whole 10 s connect
/// timeout; found by the reliability suite, issue 7).
#[test]
fn term_is_not_held_up_by_a_collector_that_never_answers_the_handshake() {
    let s = Scratch::new("fw-tls-mute");
    let certs = s.mkdir("certs");
    let (ca, ..) = certificates(&certs, "test ca");
    // Accepted, and nobody ever speaks TLS on it.
    let mute = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = mute.local_addr().unwrap().port();
    let d = logdir(
        &s.path,
        "log",
        &format!(">tls 127.0.0.1:{port} ca={}\n", ca.display()),
    );
    let mut p = spawn(&s.path, &[], &d);
    p.send(b"one\ntwo\n");
    harness::wait_until(std::time::Duration::from_secs(10), "lines logged", || {
        harness::read_text(d.join("current")) == "one\ntwo\n"
    });
    // The first try is in its handshake once its connection is there.
    mute.set_nonblocking(true).unwrap();
    let mut conn = None;
    harness::wait_until(
        std::time::Duration::from_secs(20),
        "svlogd's connection",
        || {
            conn = mute.accept().ok();
            conn.is_some()
        },
    );
    p.signal(nix::sys::signal::Signal::SIGTERM);
    // Within the 1 s grace, waited for ten times as long; the old wait was the 10 s connect
    // timeout (and longer under load).
    assert!(p.wait_timeout(std::time::Duration::from_secs(10)).success());
    drop(conn);
    drop(mute);
}
