//! UDP forwarding (`u`/`U`): runit's datagram bytes, one kept socket, IPv6, and the bad `U`
//! line fix (spec/svlogd.md §5, §12 items 8 and 13).

use crate::util::{run, snapshot};
use harness::{assert_text_eq, code, logdir, mask_stamps, read_text, Impl, Scratch};
use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// A local receiver on `addr` (port 0 = any free port).
fn receiver(addr: &str) -> UdpSocket {
    let s = UdpSocket::bind(addr).expect("bind receiver");
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    s
}

/// Every datagram until a quiet half second, with the sender's address.
fn received(s: &UdpSocket) -> Vec<(Vec<u8>, SocketAddr)> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 70_000];
    while let Ok((n, from)) = s.recv_from(&mut buf) {
        out.push((buf[..n].to_vec(), from));
    }
    out
}

const INPUT: &[u8] = b"hello\n\nskip me\n0123456789abc\n0123456789\nlast\n";

#[test]
fn datagrams_match_runit() {
    let mut results = Vec::new();
    for imp in Impl::BOTH {
        let rx = receiver("127.0.0.1:0");
        let port = rx.local_addr().unwrap().port();
        let s = Scratch::new(&format!("udp-{}", imp.name()));
        logdir(
            &s.path,
            "u",
            &format!("u127.0.0.1:{port}\npPFX: \n-*skip*\n"),
        );
        logdir(&s.path, "only", &format!("U127.0.0.1:{port}\n-*last*\n"));
        let out = run(imp, &s.path, &["-tt", "-l", "10", "u", "only"], INPUT);
        assert_eq!(code(out.status), 0);
        let mut got: Vec<String> = received(&rx)
            .into_iter()
            .map(|(d, _)| mask_stamps(&String::from_utf8_lossy(&d)))
            .collect();
        got.sort();
        results.push(
            format!(
                "{}\n{}{}",
                got.join("|"),
                snapshot(&s.join("u")),
                snapshot(&s.join("only"))
            )
            .replace(&format!(":{port}\n"), ":PORT\n"),
        );
    }
    assert_text_eq("UDP: runit vs ours", &results[0], &results[1]);
}

#[test]
fn one_socket_for_all_datagrams() {
    // spec §12 item 13: runit opens a socket per line (a new source port each time).
    let mut ports = Vec::new();
    for imp in Impl::BOTH {
        let rx = receiver("127.0.0.1:0");
        let port = rx.local_addr().unwrap().port();
        let s = Scratch::new(&format!("udp-sock-{}", imp.name()));
        logdir(&s.path, "u", &format!("U127.0.0.1:{port}\n"));
        let out = run(imp, &s.path, &["u"], b"a\nb\nc\nd\n");
        crate::util::exited_0(imp, &out);
        let mut from: Vec<u16> = received(&rx).into_iter().map(|(_, a)| a.port()).collect();
        assert_eq!(from.len(), 4, "{}", imp.name());
        from.sort();
        from.dedup();
        ports.push(from.len());
    }
    assert!(ports[0] > 1, "runit used one socket per line");
    assert_eq!(ports[1], 1, "ours keeps one socket");
}

#[test]
fn ipv6_targets() {
    let Ok(rx) = UdpSocket::bind("[::1]:0") else {
        panic!("no IPv6 loopback on this machine");
    };
    rx.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let port = rx.local_addr().unwrap().port();
    let s = Scratch::new("udp6");
    logdir(&s.path, "u", &format!("U[::1]:{port}\npv6: \n"));
    let out = run(Impl::Ours, &s.path, &["u"], b"over six\n");
    assert_eq!(code(out.status), 0);
    let got: Vec<Vec<u8>> = received(&rx).into_iter().map(|(d, _)| d).collect();
    assert_eq!(got, vec![b"v6: over six\n".to_vec()]);
    assert_eq!(read_text(s.join("u/current")), "");
}

#[test]
fn a_bad_u_line_is_invalid_not_a_black_hole() {
    // spec §12 item 8: runit sets "UDP only" before parsing the address, so every selected
    // line goes nowhere. Ours warns as runit does and keeps logging to current.
    let mut logs = Vec::new();
    for imp in Impl::BOTH {
        let s = Scratch::new(&format!("bad-u-{}", imp.name()));
        logdir(&s.path, "d", "Ufoo\nu1.2.3.4:x9\n");
        let out = run(imp, &s.path, &["d"], b"must not vanish\n");
        assert_text_eq(
            "warnings",
            "svlogd: warning: unable to scan ip address: foo\n\
             svlogd: warning: unable to scan port number: x9\n",
            &String::from_utf8_lossy(&out.stderr),
        );
        logs.push(read_text(s.join("d/current")));
    }
    assert_eq!(logs[0], "", "runit drops the line");
    assert_eq!(logs[1], "must not vanish\n");
}

#[test]
fn failed_sends_are_reported_in_the_log() {
    // A datagram too big for UDP: runit writes the warning and the datagram into current.
    let mut snaps = Vec::new();
    for imp in Impl::BOTH {
        let s = Scratch::new(&format!("udp-big-{}", imp.name()));
        logdir(&s.path, "d", "U127.0.0.1:9\n");
        let mut input = vec![b'a'; 69_990];
        input.extend_from_slice(b"\nshort\n");
        let out = run(imp, &s.path, &["-l", "70000", "-b", "70001", "d"], &input);
        crate::util::exited_0(imp, &out);
        let text = fs::read(s.join("d/current")).unwrap();
        snaps.push(text);
    }
    assert_eq!(snaps[0], snaps[1]);
    assert!(snaps[1].starts_with(b"warning: failure sending through udp: aaa"));
}
