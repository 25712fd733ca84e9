//! `tai64n` and `tai64nlocal` through the binaries, next to daemontools' (TZ always set).

use crate::common::*;
use formats::tai64n::Tai64n;
use harness::{bin, reference, run_with_input, stdout, Proc, Scratch, WAIT};
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Duration;

fn filter(program: &std::path::Path, input: &[u8], tz: &str) -> std::process::Output {
    let mut cmd = harness::cmd_clean(program.as_os_str());
    cmd.env("TZ", tz);
    run_with_input(&mut cmd, input, WAIT)
}

#[test]
fn tai64n_labels_every_line_with_the_time_it_arrived() {
    let before = Tai64n::now();
    let o = filter(&bin("tai64n"), b"a\nb\n\nlast", "UTC");
    let after = Tai64n::now();
    let t = filter(&reference("/usr/bin/tai64n"), b"a\nb\n\nlast", "UTC");
    assert_eq!(
        harness::mask_stamps(&stdout(&o)),
        harness::mask_stamps(&stdout(&t))
    );
    assert_eq!(
        harness::mask_stamps(&stdout(&o)),
        "@<TAI64N> a\n@<TAI64N> b\n@<TAI64N> \n@<TAI64N> last"
    );
    for line in stdout(&o).lines() {
        let label = Tai64n::parse_hex(&line.as_bytes()[1..25]).unwrap();
        assert!(before <= label && label <= after, "{line}");
        assert_eq!(label.nanos % 1000, 500, "libtai's +500 ns");
    }
    assert_eq!(harness::code(o.status), 0);
}

#[test]
fn tai64nlocal_matches_daemontools_in_every_zone() {
    let input = b"@400000006b0337972f6e0954 hello\nplain line\n@4000000060000000000003e8 y\n\
@400000003b9aca0000000000 z\n@400000006b0337972f6e0954\n\n";
    for tz in [
        "UTC",
        "America/New_York",
        "Asia/Kolkata",
        "CET-1CEST,M3.5.0,M10.5.0/3",
        "Nonexistent/Zone",
    ] {
        let o = filter(&bin("tai64nlocal"), input, tz);
        let t = filter(&reference("/usr/bin/tai64nlocal"), input, tz);
        assert_same(&format!("tai64nlocal TZ={tz}"), &o, &t);
    }
    let o = filter(&bin("tai64nlocal"), b"@400000006b0337972f6e0954 x\n", "UTC");
    assert_eq!(stdout(&o), "2026-11-22 18:42:21.795740500 x\n");
}

#[test]
fn tai64nlocal_leaves_what_it_cannot_read_and_never_crashes() {
    // daemontools' tai64nlocal crashes (SIGSEGV) on every one of these.
    let input = "@400000006B0337972F6E0954 upper\n@400000006b0337972f6e095 short\n\
@400000006b0337972f6e09541 long\n@4000000000000000 x\n@\n@zz\n@ffffffffffffffff00000000 far\n";
    let o = filter(&bin("tai64nlocal"), input.as_bytes(), "UTC");
    assert_eq!(harness::code(o.status), 0);
    assert_eq!(
        stdout(&o),
        input.replacen(
            "@400000006B0337972F6E0954",
            "2026-11-22 18:42:21.795740500",
            1
        )
    );
    // A last line that is only a label is converted (daemontools' drops it).
    let o = filter(&bin("tai64nlocal"), b"@400000006b0337972f6e0954", "UTC");
    assert_eq!(stdout(&o), "2026-11-22 18:42:21.795740500");
}

#[test]
fn tai64nlocal_reads_svlogds_utc_stamps() {
    let input = b"2026-11-22_18:42:17.03672 from -tt\n2026-11-22T18:42:17.04306 from -ttt\n\
2026-11-22_18:42:17.0367 too short\n";
    let o = filter(&bin("tai64nlocal"), input, "America/New_York");
    assert_eq!(
        stdout(&o),
        "2026-11-22 13:42:17.03672 from -tt\n2026-11-22 13:42:17.04306 from -ttt\n\
2026-11-22_18:42:17.0367 too short\n"
    );
}

#[test]
fn filters_pass_each_line_on_at_once() {
    let s = Scratch::new("tai64n-live");
    let mut cmd = harness::cmd_clean(bin("tai64n").as_os_str());
    cmd.current_dir(&s.path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut p = Proc::spawn(&mut cmd);
    let mut input = p.child.stdin.take().unwrap();
    let out = p.child.stdout.take().unwrap();
    let mut local = harness::cmd_clean(bin("tai64nlocal").as_os_str());
    local
        .env("TZ", "UTC")
        .stdin(Stdio::from(out))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut l = Proc::spawn(&mut local);
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = BufReader::new(l.child.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in reader.lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let re =
        regex::Regex::new(r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9} ")
            .unwrap();
    for word in ["first", "second"] {
        writeln!(input, "{word}").unwrap();
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("a line through both filters while the input stays open");
        assert!(re.is_match(&line), "{line}");
        assert!(line.ends_with(word), "{line}");
    }
    drop(input);
    assert!(p.wait_timeout(WAIT).success());
    assert!(l.wait_timeout(WAIT).success());
}
