//! svlogd keeps a census of its archives instead of listing the directory at every rotation
//! (issue 17: rotations slowed with every archive). Files deleted or added behind its back
//! are still seen: retention works on what is on disk.

use crate::util::spawn;
use harness::{archives, logdir, wait_until, Impl, Scratch};
use nix::sys::signal::Signal;
use std::fs;
use std::time::Duration;

#[test]
fn archives_removed_or_added_behind_svlogds_back_are_counted() {
    let s = Scratch::new("census");
    logdir(&s.path, "d", "n3\n");
    let d = s.join("d");
    let mut p = spawn(Impl::Ours, &s.path, &["d"]);
    let rotate = |p: &mut harness::Proc, text: &str, want: usize| {
        p.send(format!("{text}\n").as_bytes());
        wait_until(Duration::from_secs(20), text, || {
            harness::read_text(d.join("current")).contains(text)
        });
        p.signal(Signal::SIGALRM);
        wait_until(Duration::from_secs(20), "the rotation", || {
            harness::read_text(d.join("current")).is_empty() && archives(&d).len() == want
        });
    };
    for i in 1..=5 {
        rotate(&mut p, &format!("line {i}"), i.min(3));
    }
    let before = archives(&d);
    assert_eq!(before.len(), 3);
    // An admin removes the two newest archives: the oldest must stay when two more come.
    for n in &before[1..] {
        fs::remove_file(d.join(n)).unwrap();
    }
    rotate(&mut p, "line 6", 2);
    rotate(&mut p, "line 7", 3);
    let now = archives(&d);
    assert_eq!(now[0], before[0], "{now:?}");
    // Two old archives copied in: they are the oldest, so they go first.
    fs::write(d.join("@400000000000000000000001.s"), "old 1\n").unwrap();
    fs::write(d.join("@400000000000000000000002.s"), "old 2\n").unwrap();
    rotate(&mut p, "line 8", 3);
    let last = archives(&d);
    assert!(
        !last.iter().any(|n| n.starts_with("@4000000000000000")),
        "{last:?}"
    );
    assert_eq!(last[0], now[1], "{last:?}");
    assert!(p.end_input(Duration::from_secs(20)).success());
}
