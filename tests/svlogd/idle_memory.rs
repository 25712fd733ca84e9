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
            // Kept, the burst leaves every page dirty. Given back, the buffer is gone (it held
            // no unfinished line), or a few of its pages stay: at most a quarter.
            big_anonymous(pid)
                .iter()
                .all(|&(size, dirty)| dirty * 4 <= size)
        },
        || {
            format!(
                "(size, private dirty) KiB of its large anonymous mappings: {:?}\n{}",
                big_anonymous(pid),
                harness::read_text(format!("/proc/{pid}/smaps"))
            )
        },
    );
    // In all, its anonymous memory (heap, stack, buffers: what it wrote, not the binary's
    // pages) is less than an idle svlogd's (about 100 KiB) plus a burst's buffer (the input
    // buffer alone is 208 KiB).
    let rollup = harness::read_text(format!("/proc/{pid}/smaps_rollup"));
    let anon: u64 = rollup
        .lines()
        .find_map(|l| l.strip_prefix("Anonymous:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("Anonymous in smaps_rollup");
    assert!(
        anon < 256,
        "{anon} KiB anonymous memory after the burst\n{rollup}"
    );
    // And it still logs.
    p.send(b"after the rest\n");
    wait_until(Duration::from_secs(20), "the next line", || {
        harness::read_text(&current).contains("after the rest")
    });
    assert!(p.end_input(Duration::from_secs(20)).success());
}
