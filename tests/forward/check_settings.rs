//! `svlogd -C` on forwarding (issue 15 items 1 and 3): every setting of every target,
//! resolved, and the `ca=`/`cert=`/`key=` files read relative to the log directory, as a
//! connection reads them; a bad file is an error with exit 1.

use crate::collector::{free_port, Inputs, Rsyslog};
use crate::pki;
use crate::util::{finish, spawn, RUN};
use harness::svlogd_stderr;
use harness::{bin, code, run, Scratch};
use std::process::Command;

/// `svlogd -C DIR` run in `cwd`: (exit code, stdout, stderr).
fn check(cwd: &std::path::Path, dir: &str) -> (i32, String, String) {
    let out = run(
        Command::new(bin("svlogd"))
            .current_dir(cwd)
            .args(["-tt", "-C", dir]),
        RUN,
    );
    (
        code(out.status),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The block `svlogd -C` prints for `target`: its lines up to the next target or the end.
fn block(text: &str, target: &str) -> String {
    let head = format!("target {target}\n");
    let start = text
        .find(&head)
        .unwrap_or_else(|| panic!("no {head:?} in:\n{text}"));
    let rest = &text[start + head.len()..];
    let end = rest
        .find("\ntarget ")
        .or_else(|| rest.find("\nforward pri"))
        .map_or(rest.len(), |i| i + 1);
    rest[..end].to_string()
}

#[test]
fn check_shows_every_target_resolved_and_reads_the_certificates() {
    let s = Scratch::new("fw-check");
    let log = s.mkdir("web/log");
    let certs = s.mkdir("web/log/certs");
    pki::make(&certs, "check ca");
    std::fs::write(
        log.join("config"),
        "n4\ns100000\n\
         >udp 127.0.0.1:5514 rate=500\n\
         >tcp [::1]:5515 format=rfc3164 framing=lf app=shop\n\
         >tls localhost ca=certs/ca.pem cert=certs/client.pem key=certs/client.key max=4k\n\
         >pri local3.info\n>pri local3.err *ERROR*\n",
    )
    .unwrap();
    // Run from elsewhere: the files are the log directory's.
    let (rc, out, err) = check(&s.path, "web/log");
    assert_eq!((rc, err.as_str()), (0, ""), "{out}");
    assert!(
        out.contains("forward (>)            udp-127.0.0.1-5514 tcp-::1-5515 tls-localhost-6514\n"),
        "{out}"
    );
    let host = crate::util::hostname();
    harness::assert_text_eq(
        "the udp target",
        &format!(
            "  transport            udp (RFC 5426, one message a datagram)\n\
             \x20 address              127.0.0.1:5514\n\
             \x20 format               rfc5424 (default)\n\
             \x20 app                  web (default: the service's name)\n\
             \x20 host                 {host} (default: this host's name)\n\
             \x20 max                  2048 bytes a message, longer ones cut (default)\n\
             \x20 rate                 500 lines a second, bursts of at most 50 lines (default)\n\
             \x20 cursor               none yet: starts at the end of current\n"
        ),
        &block(&out, "udp-127.0.0.1-5514"),
    );
    harness::assert_text_eq(
        "the tcp target",
        &format!(
            "  transport            tcp (RFC 6587)\n\
             \x20 address              [::1]:5515\n\
             \x20 format               rfc3164\n\
             \x20 framing              lf (a newline after each message)\n\
             \x20 app                  shop\n\
             \x20 host                 {host} (default: this host's name)\n\
             \x20 max                  1024 bytes a message, longer ones cut (default)\n\
             \x20 cursor               none yet: starts at the end of current\n"
        ),
        &block(&out, "tcp-::1-5515"),
    );
    harness::assert_text_eq(
        "the tls target",
        &format!(
            "  transport            tls (RFC 5425)\n\
             \x20 address              localhost:6514\n\
             \x20 format               rfc5424 (default)\n\
             \x20 framing              octet (default: octet counting)\n\
             \x20 app                  web (default: the service's name)\n\
             \x20 host                 {host} (default: this host's name)\n\
             \x20 max                  4096 bytes a message, longer ones cut\n\
             \x20 name                 localhost (default: the host)\n\
             \x20 ca                   certs/ca.pem: 1 CA certificate\n\
             \x20 cert                 certs/client.pem: 1 certificate\n\
             \x20 key                  certs/client.key: a PKCS#8 private key, matching cert=\n\
             \x20 cursor               none yet: starts at the end of current\n"
        ),
        &block(&out, "tls-localhost-6514"),
    );
    assert!(
        out.contains("forward pri            local3.info (every line), local3.err for *ERROR*\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "forward spool          400000 bytes of unsent archives in all (default: n × s)\n"
        ),
        "{out}"
    );

    // Each kind of bad file is an error naming the option and the file, exit 1.
    std::fs::write(certs.join("junk.pem"), "not a certificate\n").unwrap();
    for (change, error) in [
        (
            ("ca=certs/ca.pem", "ca=certs/missing.pem"),
            "  error: unable to read ca=certs/missing.pem: file does not exist\n",
        ),
        (
            ("ca=certs/ca.pem", "ca=certs/junk.pem"),
            "  error: no certificate (PEM) in ca=certs/junk.pem\n",
        ),
        (
            ("key=certs/client.key", "key=certs/server.key"),
            "  error: unusable client certificate cert=certs/client.pem key=certs/server.key: ",
        ),
        (
            ("key=certs/client.key", "key=certs/junk.pem"),
            "  error: no private key (PEM) in key=certs/junk.pem",
        ),
    ] {
        let config = std::fs::read_to_string(log.join("config")).unwrap();
        std::fs::write(log.join("config"), config.replace(change.0, change.1)).unwrap();
        let (rc, out, _) = check(&s.path, "web/log");
        assert_eq!(rc, 1, "{change:?}:\n{out}");
        assert!(out.contains(error), "{change:?}: no {error:?} in:\n{out}");
        std::fs::write(log.join("config"), config).unwrap();
    }
    let (rc, out, _) = check(&s.path, "web/log");
    assert_eq!(rc, 0, "{out}");
}

/// Relative `ca=`, `cert=`, `key=` are the log directory's when svlogd runs, whatever its
/// working directory: messages reach an rsyslog that requires the client certificate.
#[test]
fn relative_certificate_files_are_found_in_the_log_directory() {
    let s = Scratch::new("fw-relcert");
    let log = s.mkdir("svc/log/main");
    let certs = s.mkdir("svc/log/main/tls");
    let pki = pki::make(&certs, "relative ca");
    let port = free_port("127.0.0.1");
    let rs = Rsyslog::start(
        &s,
        "rsyslog",
        Inputs {
            tls: Some((
                format!("127.0.0.1:{port}").parse().unwrap(),
                pki.ca.clone(),
                pki.server.0.clone(),
                pki.server.1.clone(),
                true,
            )),
            ..Default::default()
        },
    );
    std::fs::write(
        log.join("config"),
        format!(
            ">tls 127.0.0.1:{port} ca=tls/ca.pem cert=tls/client.pem key=tls/client.key name=localhost\n"
        ),
    )
    .unwrap();
    // The working directory has no tls/ at all.
    let cwd = s.mkdir("elsewhere");
    let mut p = spawn(&cwd, &["-tt"], &log);
    p.send(b"found relative to the log directory\n");
    let got = rs.wait_lines(1, RUN, &cwd);
    finish(p, &cwd);
    assert!(
        got[0].ends_with("|found relative to the log directory"),
        "{got:?}\n{}",
        svlogd_stderr(&cwd)
    );
    assert_eq!(svlogd_stderr(&cwd), "");
}
