//! Timestamp formats beyond runit's (`-T` and the `T` config line): local time, RFC 3339
//! with offset, nanoseconds, none; a `-tt` directory and a local-time directory take the
//! same line (issue 5; void-linux/runit #24, s6-overlay #361).

use crate::util::RUN;
use harness::{code, logdir, read_text, run_with_input, svlogd_cmd, Impl, Scratch};
use regex::Regex;
use std::process::{Command, Output};

/// A zone with a half-hour offset and no summer time, as a POSIX rule (no tzdata needed).
const ZONE: &str = "IST-5:30";

fn ours(s: &Scratch, args: &[&str], input: &[u8]) -> Output {
    let mut c = svlogd_cmd(Impl::Ours, &s.path);
    c.env("TZ", ZONE).args(args);
    run_with_input(&mut c, input, RUN)
}

/// `date` in the zone, with `fmt`.
fn date(fmt: &str) -> String {
    let out = Command::new("date")
        .env("TZ", ZONE)
        .arg(format!("+{fmt}"))
        .output()
        .expect("date");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Runs with `args` and checks that every line of `d/current` is `re` (whose first group is
/// the stamp's minute, compared with the zone's clock) followed by the line.
fn check(name: &str, args: &[&str], config: &str, re: &str, minute_fmt: &str) {
    let s = Scratch::new(name);
    logdir(&s.path, "d", config);
    let before = date(minute_fmt);
    let out = ours(&s, &[args, &["d"]].concat(), b"hello\n\nworld\n");
    let after = date(minute_fmt);
    assert_eq!(code(out.status), 0, "{name}");
    let re = Regex::new(re).unwrap();
    let text = read_text(s.join("d/current"));
    let mut bodies = Vec::new();
    for l in text.lines() {
        let c = re
            .captures(l)
            .unwrap_or_else(|| panic!("{name}: bad line {l:?}"));
        assert!(c[1] == before || c[1] == after, "{name}: {l:?} vs {before}");
        bodies.push(c[2].to_string());
    }
    assert_eq!(bodies, ["hello", "", "world"], "{name}");
}

#[test]
fn local_time_by_option_and_by_config_line() {
    let local = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{2}:[0-9]{2}):[0-9]{2}\.[0-9]{5} (.*)$";
    check("T-local", &["-T", "local"], "", local, "%Y-%m-%d_%H:%M");
    check("T-local-cfg", &["-tt"], "Tlocal\n", local, "%Y-%m-%d_%H:%M");
    // A bare `T` is s6-log's meaning: local time.
    check("T-bare", &[], "T\n", local, "%Y-%m-%d_%H:%M");
}

#[test]
fn rfc3339_with_offset_and_nanoseconds() {
    check(
        "T-rfc3339",
        &["-T", "rfc3339"],
        "",
        r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}):[0-9]{2}\.[0-9]{6}\+05:30 (.*)$",
        "%Y-%m-%dT%H:%M",
    );
    check(
        "T-rfc3339ns",
        &[],
        "T rfc3339ns\n",
        r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}):[0-9]{2}\.[0-9]{9}\+05:30 (.*)$",
        "%Y-%m-%dT%H:%M",
    );
}

#[test]
fn none_turns_stamps_off() {
    for (args, config) in [(&["-tt", "-T", "none"][..], ""), (&["-tt"][..], "Tnone\n")] {
        let s = Scratch::new("T-none");
        logdir(&s.path, "d", config);
        let out = ours(&s, &[args, &["d"]].concat(), b"hello\nworld\n");
        assert_eq!(code(out.status), 0);
        assert_eq!(read_text(s.join("d/current")), "hello\nworld\n");
    }
}

#[test]
fn a_tt_directory_and_a_local_directory_take_the_same_line() {
    let s = Scratch::new("T-two");
    logdir(&s.path, "utc", "");
    logdir(&s.path, "local", "Tlocal\n");
    logdir(&s.path, "tai", "Ttai64n\n");
    let out = ours(&s, &["-tt", "utc", "local", "tai"], b"same line\n");
    assert_eq!(code(out.status), 0);
    let re = Regex::new(
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}_([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{5}) same line$",
    )
    .unwrap();
    let utc = read_text(s.join("utc/current"));
    let local = read_text(s.join("local/current"));
    let (u, l) = (
        re.captures(utc.trim_end()).unwrap(),
        re.captures(local.trim_end()).unwrap(),
    );
    let secs = |c: &regex::Captures| {
        c[1].parse::<i64>().unwrap() * 3600
            + c[2].parse::<i64>().unwrap() * 60
            + c[3].parse::<i64>().unwrap()
    };
    // One clock reading, two zones: 5 h 30 apart, the same fraction.
    assert_eq!((secs(&l) - secs(&u)).rem_euclid(86_400), 5 * 3600 + 1800);
    assert_eq!(&u[4], &l[4]);
    let tai = read_text(s.join("tai/current"));
    assert!(
        Regex::new(r"^@4000000[0-9a-f]{17} same line\n$")
            .unwrap()
            .is_match(&tai),
        "{tai:?}"
    );
}

#[test]
fn a_bad_format_is_a_usage_error() {
    let s = Scratch::new("T-bad");
    let out = ours(&s, &["-T", "bogus", "d"], b"");
    assert_eq!(code(out.status), 111);
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("usage: svlogd"));
}

/// `WHEN` (read in the zone, unless it names its offset) in UTC, `%Y-%m-%dT%H:%M:%S`.
fn utc_of(when: &str) -> String {
    let date = |args: &[&str]| {
        let out = Command::new("date")
            .env("TZ", ZONE)
            .args(args)
            .output()
            .expect("date");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let epoch = date(&["-d", when, "+%s"]);
    date(&["-u", "-d", &format!("@{epoch}"), "+%Y-%m-%dT%H:%M:%S"])
}

#[test]
fn the_syslog_forwarder_reads_each_directorys_own_format() {
    // The forwarder takes a line's time of receipt from its stamp: a local-time directory's
    // stamps are local, an RFC 3339 one's carry their offset; both must come out in UTC.
    let s = Scratch::new("T-forward");
    let rx: Vec<std::net::UdpSocket> = (0..2)
        .map(|_| {
            let r = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            r.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            r
        })
        .collect();
    let port = |i: usize| rx[i].local_addr().unwrap().port();
    logdir(
        &s.path,
        "local",
        &format!("Tlocal\n>udp 127.0.0.1:{}\n", port(0)),
    );
    logdir(
        &s.path,
        "rfc",
        &format!("Trfc3339\n>udp 127.0.0.1:{}\n", port(1)),
    );
    let mut c = svlogd_cmd(Impl::Ours, &s.path);
    c.env("TZ", ZONE).args(["-tt", "local", "rfc"]);
    let mut p = harness::Proc::spawn(c.stdin(std::process::Stdio::piped()));
    {
        use std::io::Write;
        p.child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(b"hello\n")
            .unwrap();
    }
    let mut got = Vec::new();
    for r in &rx {
        let mut buf = [0u8; 2048];
        let n = r.recv(&mut buf).expect("a syslog message");
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert!(p.end_input(RUN).success());
    let stamp_of_message = |m: &str| m.split(' ').nth(1).unwrap().to_string();
    // local: `YYYY-MM-DD_HH:MM:SS.xxxxx hello`
    let line = read_text(s.join("local/current"));
    let (date, rest) = line.split_once('_').unwrap();
    let (time, frac) = rest[..14].split_once('.').unwrap();
    let want = format!("{}.{frac}0Z", utc_of(&format!("{date} {time}")));
    assert_eq!(stamp_of_message(&got[0]), want, "{line}");
    // rfc3339: `YYYY-MM-DDTHH:MM:SS.uuuuuu+05:30 hello`
    let line = read_text(s.join("rfc/current"));
    let stamp = line.split(' ').next().unwrap();
    let want = format!("{}.{}Z", utc_of(stamp), &stamp[20..26]);
    assert_eq!(stamp_of_message(&got[1]), want, "{line}");
}
