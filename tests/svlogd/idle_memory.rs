//! An idle svlogd gives back the memory a burst touched (its input buffer's pages, its
//! output batch, the allocator's free memory), so a logger per service waiting for hours
//! does not keep a burst's worth of private memory.

use crate::util::on_d;
use harness::{wait_until, Impl};
use std::time::Duration;

/// The private dirty KiB of each anonymous mapping of at least 160 KiB (the input buffer's:
/// its 128 KiB chunk and the held line's room).
fn big_anonymous(pid: i32) -> Vec<u64> {
    let text = harness::read_text(format!("/proc/{pid}/smaps"));
    let mut out = Vec::new();
    let mut big = false;
    for l in text.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.first()
            .is_some_and(|a| a.contains('-') && !a.ends_with(':'))
        {
            let (lo, hi) = f[0].split_once('-').unwrap();
            let size = u64::from_str_radix(hi, 16).unwrap() - u64::from_str_radix(lo, 16).unwrap();
            big = f.len() == 5 && size >= 160 * 1024;
        } else if big && f.first() == Some(&"Private_Dirty:") {
            out.push(f[1].parse().unwrap());
        }
    }
    out
}

#[test]
fn after_a_burst_an_idle_svlogd_gives_its_input_buffer_back() {
    let (s, mut p) = on_d("idle-memory", Impl::Ours, "", &["-tt"]);
    let pid = p.pid();
    // A burst of 4 MB in lines of 100 bytes: every page of the input buffer is touched.
    let line = format!("{}\n", "x".repeat(99));
    p.send(line.repeat(40_000).as_bytes());
    p.send(b"end of the burst\n");
    let current = s.join("d/current");
    wait_until(Duration::from_secs(60), "the burst written", || {
        harness::read_text(&current).contains("end of the burst")
    });
    // Without input for a moment, the buffer's pages go back (kept, they stay dirty for good:
    // the burst wrote every one of them).
    wait_until(
        Duration::from_secs(30),
        "the input buffer given back",
        || {
            let maps = big_anonymous(pid);
            !maps.is_empty() && maps.iter().all(|&kib| kib <= 16)
        },
    );
    // And it still logs.
    p.send(b"after the rest\n");
    wait_until(Duration::from_secs(20), "the next line", || {
        harness::read_text(&current).contains("after the rest")
    });
    assert!(p.end_input(Duration::from_secs(20)).success());
}
