//! Timestamps byte for byte: TAI64N with runit's +10 s label and +500 ns, `-tt`/`-ttt` UTC
//! with five fraction digits, taken when a line's first byte arrives (spec/svlogd.md §6).

use crate::util::{on_d, run};
use formats::tai64n::Tai64n;
use harness::{code, logdir, read_text, wait_until, Impl, Scratch};
use regex::Regex;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn formats_match_runit() {
    let cases = [
        ("-t", r"^@4000000[0-9a-f]{17} (.*)$"),
        (
            "-tt",
            r"^[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{5} (.*)$",
        ),
        (
            "-ttt",
            r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{5} (.*)$",
        ),
        (
            "-tttt",
            r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{5} (.*)$",
        ),
    ];
    for (flag, re) in cases {
        let re = Regex::new(re).unwrap();
        for imp in Impl::BOTH {
            let s = Scratch::new("stamps");
            logdir(&s.path, "d", "");
            let out = run(imp, &s.path, &[flag, "d"], b"hello\n\nworld\n");
            assert_eq!(code(out.status), 0);
            let text = read_text(s.join("d/current"));
            let bodies: Vec<String> = text
                .lines()
                .map(|l| {
                    re.captures(l)
                        .unwrap_or_else(|| panic!("{} {flag}: bad line {l:?}", imp.name()))[1]
                        .to_string()
                })
                .collect();
            assert_eq!(bodies, ["hello", "", "world"], "{} {flag}", imp.name());
        }
    }
}

#[test]
fn tai64n_label_is_unix_plus_10_and_nanos_end_in_500() {
    let s = Scratch::new("tai");
    logdir(&s.path, "d", "");
    let before = unix_now();
    let out = run(Impl::Ours, &s.path, &["-t", "d"], b"x\n");
    let after = unix_now();
    assert_eq!(code(out.status), 0);
    let text = read_text(s.join("d/current"));
    let t = Tai64n::parse_hex(&text.as_bytes()[1..25]).expect("label");
    assert!(
        (before..=after).contains(&t.unix_secs()),
        "label {} not between {before} and {after}",
        t.unix_secs()
    );
    assert_eq!(t.nanos % 1000, 500, "libtai's +500 ns");
    // The rotated file names use the same clock and format.
    let s = Scratch::new("tai-utc");
    logdir(&s.path, "d", "");
    let before = unix_now();
    let out = run(Impl::Ours, &s.path, &["-tt", "d"], b"x\n");
    let after = unix_now();
    assert_eq!(code(out.status), 0);
    let ours_utc = read_text(s.join("d/current"));
    let c = chrono_like(&ours_utc[..19]);
    assert!((before..=after).contains(&c), "-tt stamp {ours_utc:?}");
}

/// Unix seconds of `YYYY-MM-DD_HH:MM:SS` (UTC).
fn chrono_like(s: &str) -> i64 {
    let n = |a: usize, b: usize| s[a..b].parse::<i64>().unwrap();
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    // Days from civil (Howard Hinnant).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(11, 13) * 3600 + n(14, 16) * 60 + n(17, 19)
}

#[test]
fn a_line_is_stamped_when_its_first_byte_arrives() {
    // spec §6: the stamp is taken at the line's first byte, not at its newline. The first part
    // of the line goes in; once svlogd has read it and gone back to sleep, the clock is read
    // (`mid`) and, once it has moved on, the newline goes in: the stamp comes before `mid`.
    for imp in Impl::BOTH {
        let (s, mut p) = on_d("first-byte", imp, "", &["-t"]);
        let pid = p.pid();
        let t = Duration::from_secs(20);
        harness::wait_idle_in_syscall(pid, t);
        let slept = harness::voluntary_switches(pid);
        let before = Tai64n::now();
        let stdin = p.child.stdin.as_mut().unwrap();
        stdin.write_all(b"start of line ").unwrap();
        stdin.flush().unwrap();
        // (Ours leaves a partial line in the pipe until it is written: no use waiting for
        // the pipe to empty.)
        harness::wait_slept_again(pid, slept, t);
        let mid = Tai64n::now();
        wait_until(t, "the clock to move on", || Tai64n::now() > mid);
        p.send(b"end\n");
        let cur = s.join("d/current");
        wait_until(t, "line written", || read_text(&cur).ends_with("end\n"));
        let text = read_text(&cur);
        let stamp = Tai64n::parse_hex(&text.as_bytes()[1..25]).unwrap();
        assert!(
            before <= stamp && stamp <= mid,
            "{}: stamp {stamp:?} not between {before:?} (first byte sent) and {mid:?} (read, \
             newline not sent yet)",
            imp.name()
        );
        assert!(p.end_input(t).success(), "{}", imp.name());
    }
}
