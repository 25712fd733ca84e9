//! `>udp rate=N burst=M` paces datagrams (issue 15 item 6), so a collector with a default
//! socket buffer keeps up with a burst.

use crate::util::{finish, spawn, RUN};
use harness::logdir;
use harness::Scratch;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

#[test]
fn udp_rate_spreads_a_burst_out() {
    let s = Scratch::new("fw-pace");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    sock.set_read_timeout(Some(RUN)).unwrap();
    let dir = logdir(
        &s.path,
        "log",
        &format!(">udp 127.0.0.1:{port} rate=40 burst=4\n"),
    );
    let mut p = spawn(&s.path, &["-tt"], &dir);
    let lines: String = (0..24).map(|i| format!("paced {i:02}\n")).collect();
    p.send(lines.as_bytes());
    let mut got = Vec::new();
    let mut times = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < 24 {
        let n = sock.recv(&mut buf).expect("a datagram within the timeout");
        times.push(Instant::now());
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    finish(p, &s.path);
    for (i, g) in got.iter().enumerate() {
        assert!(g.ends_with(&format!("paced {i:02}")), "{i}: {g}");
    }
    // 4 at once, then 40 a second: the last of 24 comes at least 19/40 s after the first
    // (a lower bound: a slow machine only makes it longer).
    let span = times[23] - times[0];
    assert!(
        span >= Duration::from_millis(450),
        "24 datagrams in {span:?}"
    );
}
