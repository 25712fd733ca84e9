//! TERM always ends svlogd within a bounded time (issue 17): after TERM it writes what it
//! has for at most `TERM_LIMIT` (4 s), then leaves the rest in the pipe for the next svlogd
//! and gives a running processor TERM. The bounds asserted here are ten times that.

use crate::util::SharedPipe;
use harness::{log_bytes, logdir, mode, read_text, wait_until, Scratch, SVLOGD_STDERR};
use nix::sys::signal::Signal;
use std::fs;
use std::io::Read;
use std::time::Duration;

/// Far above the 4 s svlogd may take after TERM.
const EXIT_BOUND: Duration = Duration::from_secs(40);

#[test]
fn term_with_one_rotation_per_byte_still_ends_svlogd() {
    // `s1`: every byte is a file of its own, so the pipe's 64 KiB is tens of thousands of
    // rotations (runit's exit took 1.8 s, ours used to run on for more than ten minutes).
    let s = Scratch::new("term-s1");
    logdir(&s.path, "d", "s1\nn0\n");
    let d = s.join("d");
    let mut pipe = SharedPipe::new();
    let mut p = pipe.start(&s.path, &[d.to_str().unwrap()], &[]);
    let input: Vec<u8> = (0..20_000)
        .flat_map(|i| format!("{i}\n").into_bytes())
        .collect();
    let mut wr = pipe.wr.take().unwrap();
    let all = input.clone();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = wr.write_all(&all);
    });
    wait_until(Duration::from_secs(20), "rotations", || {
        harness::names(&d).len() > 100
    });
    p.signal(Signal::SIGTERM);
    let st = p.wait_timeout(EXIT_BOUND);
    assert_eq!(harness::code(st), 0);
    let err = read_text(s.join(SVLOGD_STDERR));
    assert!(
        err.contains("svlogd: warning: time to exit, pending lines left in the pipe: "),
        "{err}"
    );
    // Nothing is lost: what is not in the directory is still in the pipe (lines taken but
    // not consumed may be in both).
    let mut rest = Vec::new();
    let mut rd = fs::File::from(pipe.rd.take().unwrap());
    let reader = std::thread::spawn(move || {
        rd.read_to_end(&mut rest).unwrap();
        rest
    });
    writer.join().unwrap();
    let rest = reader.join().unwrap();
    // Everything written, in order (with `s1` a line is spread over many files).
    let w = log_bytes(&d);
    let whole = match w.iter().rposition(|&b| b == b'\n') {
        Some(i) => &w[..=i],
        None => &[][..],
    };
    assert!(
        input.starts_with(whole),
        "the log is not a prefix of the input"
    );
    assert!(
        input.ends_with(&rest),
        "the pipe does not hold the input's end"
    );
    assert!(
        input.len() - rest.len() <= whole.len(),
        "lines lost: {} written, {} left of {}",
        whole.len(),
        rest.len(),
        input.len()
    );
    // `current` was given up: the next svlogd recovers it.
    assert_eq!(mode(d.join("current")).map(|m| m & 0o100), Some(0));
}

#[test]
fn term_does_not_wait_for_a_processor_that_never_ends() {
    let s = Scratch::new("term-processor");
    logdir(&s.path, "d", "s100\n!exec sleep 1000\n");
    let d = s.join("d");
    let mut pipe = SharedPipe::new();
    let mut p = pipe.start(&s.path, &[d.to_str().unwrap()], &[]);
    pipe.send(&crate::util::numbered("line", 12));
    wait_until(Duration::from_secs(20), "the processor running", || {
        harness::names(&d).iter().any(|n| n.ends_with(".t"))
    });
    let u: Vec<String> = harness::names(&d)
        .into_iter()
        .filter(|n| n.ends_with(".u"))
        .collect();
    assert_eq!(u.len(), 1, "{u:?}");
    p.signal(Signal::SIGTERM);
    let st = p.wait_timeout(EXIT_BOUND);
    assert_eq!(harness::code(st), 0);
    let err = read_text(s.join(SVLOGD_STDERR));
    assert!(
        err.contains("processor given up at exit, left unprocessed"),
        "{err}"
    );
    // The rotated file stays for the next svlogd, and the processor got TERM.
    assert!(d.join(&u[0]).exists());
    wait_until(Duration::from_secs(20), "the processor gone", || {
        harness::processes_under(&d).is_empty()
    });
    pipe.close();
}
