//! `p_log` and `w_log` through the binaries, on log directories written by svlogd (Debian's,
//! the reference) and on hand-made ones with known stamps. TZ is always set.

use crate::common::*;
use formats::tai64n::Tai64n;
use harness::{
    bin, cmd_clean, command, exec, reference, stderr, stdout, transcript, Proc, Scratch, WAIT,
};
use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

const T0: i64 = 1_795_372_941; // 2026-11-22 18:42:21 UTC

fn label(secs: i64) -> String {
    Tai64n::from_unix(secs, 500).to_hex()
}

/// A log directory with known stamps: archives rotated at T0+10 and T0+20 holding two lines
/// each, and `current` with two more (`-t` stamps, one second apart from T0).
fn handmade(s: &Scratch, name: &str, offset: i64, text: &str) -> std::path::PathBuf {
    let dir = s.mkdir(name);
    let line = |i: i64| format!("@{} {text} {i}\n", label(T0 + offset + i));
    fs::write(
        dir.join(format!("@{}.s", label(T0 + 10))),
        line(0) + &line(1),
    )
    .unwrap();
    fs::write(
        dir.join(format!("@{}.s", label(T0 + 20))),
        line(10) + &line(11),
    )
    .unwrap();
    fs::write(dir.join("current"), line(20) + &line(21)).unwrap();
    fs::write(dir.join("lock"), "").unwrap();
    dir
}

fn p_log(s: &Scratch, args: &[&str]) -> std::process::Output {
    ours(
        "p_log",
        &s.path,
        args,
        &[("TZ", "UTC"), ("SVLOGDIR", s.path.to_str().unwrap())],
    )
}

fn p_log_shows_archives_oldest_first_then_current(svlogd: &Path) {
    let s = Scratch::new("p_log-order");
    let dir = s.mkdir("web");
    fs::write(dir.join("config"), "s200\nn100\n").unwrap();
    let input: String = (1..=40).map(|i| format!("line {i}\n")).collect();
    let mut svlogd = cmd_clean(svlogd.as_os_str());
    svlogd.arg("-tt").arg(&dir);
    let o = harness::run_with_input(&mut svlogd, input.as_bytes(), WAIT);
    assert!(o.status.success());
    // Compress the oldest archive, as a later svlogd will.
    let oldest = harness::names(&dir)
        .into_iter()
        .find(|n| n.starts_with('@'))
        .unwrap();
    let gz = exec(Path::new("/bin/gzip"), &dir, &[&oldest], &[]);
    assert!(gz.status.success(), "{}", transcript(&gz));
    let o = p_log(&s, &["web"]);
    assert_eq!(harness::code(o.status), 0, "{}", transcript(&o));
    let re = regex::Regex::new(
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{5} line ([0-9]+)$",
    )
    .unwrap();
    let got: Vec<usize> = stdout(&o)
        .lines()
        .map(|l| {
            re.captures(l)
                .unwrap_or_else(|| panic!("{l}"))
                .get(1)
                .unwrap()
                .as_str()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(got, (1..=40).collect::<Vec<_>>());
    // A path works too, and -d sets the base.
    let by_path = p_log(&s, &["./web"]);
    assert_eq!(stdout(&by_path), stdout(&o));
    let by_base = ours(
        "p_log",
        Path::new("/"),
        &["-d", s.path.to_str().unwrap(), "web"],
        &[("TZ", "UTC")],
    );
    assert_eq!(stdout(&by_base), stdout(&o));
}

#[test]
fn p_log_reads_what_runits_svlogd_wrote() {
    p_log_shows_archives_oldest_first_then_current(&reference("/usr/bin/svlogd"));
}

#[test]
fn p_log_reads_what_our_svlogd_wrote() {
    p_log_shows_archives_oldest_first_then_current(&bin("svlogd"));
}

#[test]
fn p_log_since_and_merge() {
    let s = Scratch::new("p_log-since");
    handmade(&s, "a", 0, "from a");
    handmade(&s, "b", 0, "from b");
    let o = p_log(&s, &["a"]);
    assert_eq!(
        stdout(&o),
        "2026-11-22 18:42:21.000000500 from a 0\n2026-11-22 18:42:22.000000500 from a 1\n\
2026-11-22 18:42:31.000000500 from a 10\n2026-11-22 18:42:32.000000500 from a 11\n\
2026-11-22 18:42:41.000000500 from a 20\n2026-11-22 18:42:42.000000500 from a 21\n"
    );
    let o = p_log(&s, &["--since", "2026-11-22 18:42:32", "a"]);
    assert_eq!(
        stdout(&o),
        "2026-11-22 18:42:32.000000500 from a 11\n2026-11-22 18:42:41.000000500 from a 20\n\
2026-11-22 18:42:42.000000500 from a 21\n"
    );
    let o = p_log(&s, &["-s", &format!("@{}", label(T0 + 21)), "a"]);
    assert_eq!(stdout(&o), "2026-11-22 18:42:42.000000500 from a 21\n");
    let o = p_log(&s, &["-m", "-s", "2026-11-22T18:42:41", "a", "b"]);
    assert_eq!(
        stdout(&o),
        "2026-11-22 18:42:41.000000500 a: from a 20\n2026-11-22 18:42:41.000000500 b: from b 20\n\
2026-11-22 18:42:42.000000500 a: from a 21\n2026-11-22 18:42:42.000000500 b: from b 21\n"
    );
    // Without -m, one log after the other with a header each.
    let o = p_log(&s, &["-s", "2026-11-22 18:42:42", "a", "b"]);
    assert_eq!(
        stdout(&o),
        "==> a <==\n2026-11-22 18:42:42.000000500 from a 21\n\n==> b <==\n\
2026-11-22 18:42:42.000000500 from b 21\n"
    );
    // A time without a date means today in the local zone (TZ), whatever day the test runs.
    // Tried again if midnight in New York passed while it ran.
    let dir = s.mkdir("c");
    let ny = [("TZ", "America/New_York")];
    loop {
        let (today, at) = today_at("America/New_York", "13:42:42");
        fs::write(
            dir.join("current"),
            format!("@{} early\n@{} on time\n", label(at - 1), label(at)),
        )
        .unwrap();
        let on_time = ours("p_log", &s.path, &["-s", "13:42:42", "./c"], &ny);
        let later = ours("p_log", &s.path, &["-s", "13:42:43", "./c"], &ny);
        if today_at("America/New_York", "13:42:42").0 != today {
            continue;
        }
        assert_eq!(
            stdout(&on_time),
            format!("{today} 13:42:42.000000500 on time\n")
        );
        assert_eq!(stdout(&later), "");
        break;
    }
}

/// Today's date in `tz` and the Unix time of `clock` on it, from GNU date. Asked twice so that a
/// run straddling midnight in `tz` cannot pair one day's date with the next day's time.
fn today_at(tz: &str, clock: &str) -> (String, i64) {
    let ask = |args: &[&str]| {
        let o = exec(Path::new("/bin/date"), Path::new("/"), args, &[("TZ", tz)]);
        assert!(o.status.success(), "{}", transcript(&o));
        stdout(&o).trim().to_string()
    };
    loop {
        let day = ask(&["+%Y-%m-%d"]);
        let at = ask(&["-d", &format!("{day} {clock}"), "+%s"]);
        if ask(&["+%Y-%m-%d"]) == day {
            return (day, at.parse().unwrap());
        }
    }
}

#[test]
fn p_log_and_w_log_usage() {
    let s = Scratch::new("p_log-usage");
    for (tool, args, code, err) in [
        ("p_log", &[][..], 100, "usage: p_log [-mP] [-d logdir] [-s since] name ...\n"),
        ("w_log", &[], 100, "usage: w_log [-m] [-d logdir] [-n lines] [-s since] name ...\n"),
        (
            "p_log",
            &["-s", "soon", "x"],
            100,
            "p_log: fatal: unable to parse the time: soon\nusage: p_log [-mP] [-d logdir] [-s since] name ...\n",
        ),
        (
            "w_log",
            &["-n", "many", "x"],
            100,
            "w_log: fatal: not a number of lines: many\nusage: w_log [-m] [-d logdir] [-n lines] [-s since] name ...\n",
        ),
        (
            "p_log",
            &["./missing"],
            111,
            "p_log: fatal: unable to read log directory ./missing: file does not exist\n",
        ),
        (
            "w_log",
            &["./missing"],
            111,
            "w_log: fatal: unable to read log directory ./missing: file does not exist\n",
        ),
    ] {
        let o = ours(tool, &s.path, args, &[]);
        assert_eq!(harness::code(o.status), code, "{tool} {args:?}");
        assert_eq!(stderr(&o), err, "{tool} {args:?}");
    }
}

/// w_log's output, collected by a thread while it runs.
struct Watching {
    _p: Proc,
    out: Arc<Mutex<Vec<u8>>>,
}

impl Watching {
    fn start(s: &Scratch, args: &[&str]) -> Watching {
        let mut cmd = command(&bin("w_log"), &s.path, args, &[("TZ", "UTC")]);
        cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut p = Proc::spawn(&mut cmd);
        let mut pipe = p.child.stdout.take().unwrap();
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Watching { _p: p, out }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    fn wait_lines(&self, n: usize) -> Vec<String> {
        harness::wait_until_or(
            WAIT,
            &format!("{n} lines from w_log"),
            &mut || self.text().lines().count() >= n,
            || self.text(),
        );
        self.text().lines().map(String::from).collect()
    }
}

/// Empty archives from 1970 to put in a log directory before it is followed, so that reading
/// the directory takes more than one system call (glibc's readdir asks for 32 KiB of entries at
/// a time, musl's for 2 KiB).
const OLD_ARCHIVES: usize = 2000;

fn w_log_follows_across_rotations(svlogd: &Path, old_archives: usize) {
    let s = Scratch::new("w_log-rotate");
    let dir = s.mkdir("busy");
    for i in 0..old_archives {
        fs::write(dir.join(format!("@{:016x}{:08x}.s", 1u64 << 62, i)), "").unwrap();
    }
    // s100: many rotations, and lines cut in two across files.
    fs::write(dir.join("config"), "s100\nn100000\n").unwrap();
    let mut cmd = cmd_clean(svlogd.as_os_str());
    cmd.arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut svlogd = Proc::spawn(&mut cmd);
    let mut input = svlogd.child.stdin.take().unwrap();
    input.write_all(b"before w_log started\n").unwrap();
    input.flush().unwrap();
    harness::wait_until(WAIT, "first line logged", || {
        fs::read(dir.join("current")).is_ok_and(|c| !c.is_empty())
    });
    let w = Watching::start(&s, &["-n", "1", "./busy"]);
    assert_eq!(w.wait_lines(1), ["before w_log started"]);
    let n = 3000;
    for chunk in (1..=n).collect::<Vec<_>>().chunks(100) {
        let text: String = chunk.iter().map(|i| format!("line {i}\n")).collect();
        input.write_all(text.as_bytes()).unwrap();
        input.flush().unwrap();
    }
    let lines = w.wait_lines(n + 1);
    let expected: Vec<String> = std::iter::once("before w_log started".to_string())
        .chain((1..=n).map(|i| format!("line {i}")))
        .collect();
    assert_eq!(lines, expected);
    let archives = harness::names(&dir)
        .iter()
        .filter(|n| n.starts_with('@'))
        .count();
    assert!(archives - old_archives > 100, "only {archives} rotations");
    drop(input);
    assert!(svlogd.wait_timeout(WAIT).success());
}

#[test]
fn w_log_follows_runits_svlogd_without_missing_or_repeating() {
    w_log_follows_across_rotations(&reference("/usr/bin/svlogd"), 0);
}

#[test]
fn w_log_follows_our_svlogd_without_missing_or_repeating() {
    w_log_follows_across_rotations(&bin("svlogd"), 0);
}

#[test]
fn w_log_misses_no_rotation_made_while_it_reads_a_large_directory() {
    // A name made while the directory is read may be missed by that reading; w_log once lost
    // the lines of such a rotation for good when it saw a later one (every few runs on musl,
    // whose readdir reads little at a time; on glibc once the directory is large).
    w_log_follows_across_rotations(&reference("/usr/bin/svlogd"), OLD_ARCHIVES);
}

#[test]
fn w_log_shows_the_last_lines_then_new_ones_tagged_when_several() {
    let s = Scratch::new("w_log-tail");
    handmade(&s, "a", 0, "from a");
    handmade(&s, "b", 100, "from b");
    let w = Watching::start(&s, &["-n", "3", "./a"]);
    assert_eq!(
        w.wait_lines(3),
        [
            "2026-11-22 18:42:32.000000500 from a 11",
            "2026-11-22 18:42:41.000000500 from a 20",
            "2026-11-22 18:42:42.000000500 from a 21"
        ]
    );
    // Appended lines, then a rotation done by hand the way svlogd does it.
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(s.join("a/current"))
        .unwrap();
    f.write_all(b"unstamped one\n").unwrap();
    w.wait_lines(4);
    fs::rename(
        s.join("a/current"),
        s.join(format!("a/@{}.s", label(T0 + 50))),
    )
    .unwrap();
    fs::write(s.join("a/current"), "after rotation\n").unwrap();
    let lines = w.wait_lines(5);
    assert_eq!(&lines[3..], ["unstamped one", "after rotation"]);
    // Two logs: history merged by time and tagged, then live lines tagged.
    let w2 = Watching::start(&s, &["-n", "2", "./a", "./b"]);
    let lines = w2.wait_lines(4);
    assert_eq!(
        lines,
        [
            "./a: unstamped one",
            "./a: after rotation",
            "2026-11-22 18:44:21.000000500 ./b: from b 20",
            "2026-11-22 18:44:22.000000500 ./b: from b 21"
        ]
    );
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(s.join("b/current"))
        .unwrap();
    f.write_all(format!("@{} live b\n", label(T0 + 200)).as_bytes())
        .unwrap();
    assert_eq!(
        w2.wait_lines(5)[4],
        "2026-11-22 18:45:41.000000500 ./b: live b"
    );
}

#[test]
fn w_log_reads_and_follows_compressed_archives() {
    // `compress gzip`: the last lines are in `.s.gz` archives when w_log starts, and every
    // file it follows into is compressed (and its `.s` removed) while it reads on.
    let s = Scratch::new("w_log-gz");
    let dir = s.mkdir("busy");
    fs::write(dir.join("config"), "s100\nn100000\ncompress gzip\n").unwrap();
    let mut cmd = cmd_clean(bin("svlogd").as_os_str());
    cmd.arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut svlogd = Proc::spawn_group(&mut cmd);
    let mut input = svlogd.child.stdin.take().unwrap();
    let send = |input: &mut std::process::ChildStdin, from: usize, to: usize| {
        let text: String = (from..=to).map(|i| format!("line {i}\n")).collect();
        input.write_all(text.as_bytes()).unwrap();
        input.flush().unwrap();
    };
    // 50 lines, then a rotation of what is left in `current`: everything ends up compressed.
    send(&mut input, 1, 50);
    let all_gz = |dir: &Path| {
        let names = harness::names(dir);
        let archives: Vec<&String> = names.iter().filter(|n| n.starts_with('@')).collect();
        archives.len() >= 3 && archives.iter().all(|n| n.ends_with(".s.gz"))
    };
    harness::wait_until(WAIT, "50 lines logged", || {
        harness::read_text(dir.join("current")).contains("line 50\n")
    });
    svlogd.signal(nix::sys::signal::Signal::SIGALRM);
    harness::wait_until_or(
        WAIT,
        "every archive compressed, current empty",
        &mut || all_gz(&dir) && harness::read_text(dir.join("current")).is_empty(),
        || harness::listing(&dir),
    );
    let w = Watching::start(&s, &["-n", "15", "./busy"]);
    let expected = |to: usize| -> Vec<String> { (36..=to).map(|i| format!("line {i}")).collect() };
    assert_eq!(w.wait_lines(15), expected(50));
    let n = 2000;
    for from in (51..=n).step_by(100) {
        send(&mut input, from, (from + 99).min(n));
    }
    assert_eq!(w.wait_lines(n - 35), expected(n));
    harness::wait_until_or(
        WAIT,
        "what was followed compressed",
        &mut || all_gz(&dir),
        || harness::listing(&dir),
    );
    drop(input);
    assert!(svlogd.wait_timeout(WAIT).success());
}
