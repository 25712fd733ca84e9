//! An idle svlogd gives back the memory a burst touched (its input buffer's pages, its
//! output batch, the allocator's free memory), so a logger per service waiting for hours
//! does not keep a burst's worth of private memory.

use crate::util::on_d;
use harness::{wait_until, Impl};
use std::time::Duration;

/// (size, private dirty) in KiB of each anonymous mapping of at least 160 KiB (the input
/// buffer's: its 128 KiB chunk and the held line's room).
fn big_anonymous(pid: i32) -> Vec<(u64, u64)> {
    let text = harness::read_text(format!("/proc/{pid}/smaps"));
    let mut out = Vec::new();
    let mut big = 0;
    for l in text.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.first()
            .is_some_and(|a| a.contains('-') && !a.ends_with(':'))
        {
            let (lo, hi) = f[0].split_once('-').unwrap();
            let size = u64::from_str_radix(hi, 16).unwrap() - u64::from_str_radix(lo, 16).unwrap();
            big = if f.len() == 5 && size >= 160 * 1024 {
                size / 1024
            } else {
                0
            };
        } else if big > 0 && f.first() == Some(&"Private_Dirty:") {
            out.push((big, f[1].parse().unwrap()));
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
    // Without input for a moment, the buffer's pages go back.
    harness::wait_until_or(
        Duration::from_secs(30),
        "the input buffer given back",
        &mut || {
            let maps = big_anonymous(pid);
            // Kept, the burst leaves every page dirty; given back, a few stay (the allocator's
            // header page, the unfinished line): at most a quarter.
            !maps.is_empty() && maps.iter().all(|&(size, dirty)| dirty * 4 <= size)
        },
        || {
            format!(
                "(size, private dirty) KiB of its large anonymous mappings: {:?}\n{}",
                big_anonymous(pid),
                harness::read_text(format!("/proc/{pid}/smaps"))
            )
        },
    );
    // And it still logs.
    p.send(b"after the rest\n");
    wait_until(Duration::from_secs(20), "the next line", || {
        harness::read_text(&current).contains("after the rest")
    });
    assert!(p.end_input(Duration::from_secs(20)).success());
}
