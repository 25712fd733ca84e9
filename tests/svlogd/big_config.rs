//! A big `config` costs about its own size in memory (issue 17: a 10 MB config of 441,537
//! patterns took 71-84 MB, runit's svlogd 22-34 MB): the parsed lines are not kept, and the
//! patterns share one buffer.

use harness::{logdir, wait_until, Impl, Scratch};
use std::time::Duration;

/// The resident memory of `pid` in KiB.
fn rss_kib(pid: i32) -> u64 {
    harness::status_kib(pid, "VmRSS").expect("VmRSS")
}

#[test]
fn half_a_million_patterns_take_about_their_own_size() {
    let s = Scratch::new("big-config");
    let mut config = String::new();
    let mut n = 0;
    while config.len() < 8 << 20 {
        config.push_str(&format!("-*pattern{n:07}*\n"));
        n += 1;
    }
    logdir(&s.path, "d", &config);
    let mut p = crate::util::spawn(Impl::Ours, &s.path, &["d"]);
    p.send(b"pattern0000001 is deselected\nkept\n");
    wait_until(Duration::from_secs(60), "the config read", || {
        harness::read_text(s.join("d/current")) == "kept\n"
    });
    let rss = rss_kib(p.pid());
    // The file is 8 MiB; an svlogd with no config is about 4 MiB.
    assert!(rss < 20 << 10, "{rss} KiB for {n} patterns");
    assert!(p.end_input(Duration::from_secs(20)).success());
}
