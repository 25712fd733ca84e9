//! rsyslog parses every field as svlogd sends it: RFC 5424 over TCP (octet counting) and UDP,
//! RFC 3164 over UDP, IPv6; and socat, a receiver of another kind, gets RFC 3164 with LF
//! framing byte for byte.

use crate::collector::{free_port, parse, socat_tcp, Inputs, Rsyslog};
use crate::util::{finish, hostname, logged, spawn, split_tt, strip_zone, RUN};
use harness::{logdir, svlogd_stderr, wait_until_or, Scratch};

/// Every field of RFC 5424 over TCP: HOSTNAME the host's name, APP-NAME the service (from the
/// directory's path, `.../sv/web/log/main` → `web`), PRI from `>pri` lines chosen by pattern
/// (last match wins; the prefix is not seen by the pattern), TIMESTAMP the time of receipt
/// from svlogd's own `-tt` stamp, MSG the line with its prefix and without the stamp.
#[test]
fn rfc5424_over_tcp_every_field_as_sent() {
    let s = Scratch::new("fw-5424-tcp");
    let port = free_port("127.0.0.1");
    let rs = Rsyslog::tcp(&s, port);
    let dir = logdir(&s.path,
        "sv/web/log/main",
        &format!(
            ">tcp 127.0.0.1:{port}\n>pri daemon.info\n>pri daemon.err *ERROR*\n>pri local7.debug PFX*\npPFX: \n"
        ),
    );
    let mut p = spawn(&s.path, &["-tt"], &dir);
    let input =
        "started\nan ERROR happened\n\nutf-8 é and tabs\there\nPFX: looks like the prefix\n";
    p.send(input.as_bytes());
    let got = rs.wait_lines(5, RUN, &s.path);
    finish(p, &s.path);
    let logged = logged(&dir);
    assert_eq!(logged.len(), 5, "{logged:?}");
    let pris = [
        "daemon.info",
        "daemon.err",
        "daemon.info",
        "daemon.info",
        "local7.debug",
    ];
    for (i, line) in got.iter().enumerate() {
        let f = parse(line);
        let (time, text) = split_tt(&logged[i]);
        assert_eq!(f.host, hostname(), "{line}");
        assert_eq!(f.app, "web", "{line}");
        assert_eq!(f.pri, pris[i], "{line}");
        assert_eq!(strip_zone(&f.time), time, "{line}");
        assert_eq!(f.msg, text, "{line}");
        assert!(f.msg.starts_with("PFX: "), "{line}");
    }
    assert!(
        !svlogd_stderr(&s.path).contains("warning"),
        "{}",
        svlogd_stderr(&s.path)
    );
}

/// Over UDP (one datagram per message) with `app=` and `host=` set, one fixed PRI; and the
/// same lines in RFC 3164 to a second target, parsed by the same rsyslog.
#[test]
fn rfc5424_and_rfc3164_over_udp() {
    let s = Scratch::new("fw-udp");
    let port = free_port("127.0.0.1");
    let rs = Rsyslog::udp(&s, port);
    // Two targets, same collector: one names the host by address, the other by name.
    let dir = logdir(&s.path,
        "log",
        &format!(
            ">udp 127.0.0.1:{port} app=api host=box-1\n>udp localhost:{port} format=rfc3164 app=old\n>pri local3.warning\n"
        ),
    );
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(b"first line\nsecond line\n");
    let got = rs.wait_lines(4, RUN, &s.path);
    finish(p, &s.path);
    let logged = logged(&dir);
    let mut new: Vec<_> = got
        .iter()
        .map(|l| parse(l))
        .filter(|f| f.app == "api")
        .collect();
    let mut old: Vec<_> = got
        .iter()
        .map(|l| parse(l))
        .filter(|f| f.app == "old")
        .collect();
    new.sort_by(|a, b| a.msg.cmp(&b.msg));
    old.sort_by(|a, b| a.msg.cmp(&b.msg));
    assert_eq!((new.len(), old.len()), (2, 2), "{got:#?}");
    for (i, f) in new.iter().enumerate() {
        let (time, text) = split_tt(&logged[i]);
        assert_eq!(
            (f.host.as_str(), f.pri.as_str(), f.msg.as_str()),
            ("box-1", "local3.warning", text.as_str())
        );
        assert_eq!(strip_zone(&f.time), time);
    }
    for (i, f) in old.iter().enumerate() {
        let (time, text) = split_tt(&logged[i]);
        assert_eq!(f.host, hostname());
        assert_eq!(f.pri, "local3.warning");
        // RFC 3164 carries whole seconds; rsyslog keeps the space after the tag.
        assert_eq!(f.msg.trim_start(), text);
        assert_eq!(&f.time[..19], &time[..19], "{f:?}");
    }
}

/// IPv6 on ::1, over UDP and TCP at once.
#[test]
fn ipv6_loopback_udp_and_tcp() {
    let s = Scratch::new("fw-ipv6");
    let port = free_port("::1");
    let rs = Rsyslog::start(
        &s,
        "rsyslog",
        Inputs {
            tcp: Some(format!("[::1]:{port}").parse().unwrap()),
            udp: Some(format!("[::1]:{port}").parse().unwrap()),
            ..Default::default()
        },
    );
    let dir = logdir(
        &s.path,
        "log",
        &format!(">udp [::1]:{port} app=by-udp\n>tcp [::1]:{port} app=by-tcp\n"),
    );
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(b"over six\n");
    let got = rs.wait_lines(2, RUN, &s.path);
    finish(p, &s.path);
    let mut apps: Vec<String> = got
        .iter()
        .map(|l| {
            let f = parse(l);
            assert_eq!(f.msg, "over six");
            f.app
        })
        .collect();
    apps.sort();
    assert_eq!(apps, ["by-tcp", "by-udp"]);
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// RFC 3164 with LF framing over TCP to socat: `<PRI>Mmm dd hh:mm:ss HOST TAG: MSG` + LF,
/// byte for byte (TZ=UTC, so the local time is the `-tt` stamp's).
#[test]
fn rfc3164_lf_framing_to_socat() {
    let s = Scratch::new("fw-3164-socat");
    let port = free_port("127.0.0.1");
    let out = s.join("received");
    let _socat = socat_tcp(&s, port, &out);
    let dir = logdir(
        &s.path,
        "log",
        &format!(">tcp 127.0.0.1:{port} format=rfc3164 framing=lf app=my:app\n>pri mail.crit\n"),
    );
    let mut p = spawn(&s.path, &["-tt"], &dir);
    p.send(b"one\ntwo words\n");
    let o = out.clone();
    wait_until_or(
        RUN,
        "socat to receive two messages",
        &mut || harness::read_text(&o).lines().count() >= 2,
        || svlogd_stderr(&s.path),
    );
    finish(p, &s.path);
    let logged = logged(&dir);
    let want: String = logged
        .iter()
        .map(|l| {
            let (iso, text) = split_tt(l);
            let month: usize = iso[5..7].parse().unwrap();
            let day: usize = iso[8..10].parse().unwrap();
            // mail.crit = 2 * 8 + 2; the tag's `:` becomes `_`.
            format!(
                "<18>{} {:>2} {} {} my_app: {text}\n",
                MONTHS[month - 1],
                day,
                &iso[11..19],
                hostname()
            )
        })
        .collect();
    harness::assert_text_eq("received by socat", &want, &harness::read_text(&out));
}

/// runit's svlogd ignores the `>` lines (so a config that forwards still works there); ours
/// warns about the ones it cannot read and keeps logging.
#[test]
fn forward_lines_are_invisible_to_runit_and_checked_by_us() {
    let s = Scratch::new("fw-config");
    let config = ">tcp 127.0.0.1:1\n>tcp nowhere:0\n>udp 1.2.3.4 format=json\n>pri user.loud\n";
    let ours = logdir(&s.path, "ours", config);
    let theirs = logdir(&s.path, "theirs", config);
    let out = harness::run_with_input(
        std::process::Command::new(harness::reference("/usr/bin/svlogd")).arg(&theirs),
        b"kept\n",
        RUN,
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(harness::read_text(theirs.join("current")), "kept\n");
    let p = spawn(&s.path, &[], &ours);
    let mut p = p;
    p.send(b"kept\n");
    finish(p, &s.path);
    assert_eq!(harness::read_text(ours.join("current")), "kept\n");
    let err = svlogd_stderr(&s.path);
    let d = ours.display();
    for w in [
        format!("svlogd: warning: unable to scan forward address: {d}/config:2: nowhere:0 (HOST, HOST:PORT or [IPV6]:PORT, port 1 to 65535)\n"),
        format!("svlogd: warning: invalid forward option value: {d}/config:3: format=json (format= takes rfc5424 or rfc3164)\n"),
        format!("svlogd: warning: unable to scan forward priority: {d}/config:4: >pri user.loud (FACILITY.SEVERITY: kern to local7, emerg to debug, or numbers)\n"),
    ] {
        assert!(err.contains(&w), "missing {w:?} in:\n{err}");
    }
    // The valid target was tried (nothing listens on port 1).
    let refused = format!(
        "svlogd: warning: unable to connect to forward target: {}: tcp-127.0.0.1-1: connection refused\n",
        ours.display()
    );
    assert!(err.contains(&refused), "missing {refused:?} in:\n{err}");
}
