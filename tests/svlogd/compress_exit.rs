//! What a clean exit does with archives still waiting for compression (issue 12 item 8): the
//! worker gets up to 2 s (within TERM's limit) to finish, then what is left stays `.s`, the
//! directory says how many, and the next svlogd compresses them.

use crate::util::run;
use harness::{archives_ending, log_text, logdir, Impl, Scratch};
use regex::Regex;

#[test]
fn archives_left_uncompressed_at_the_exit_are_counted_and_compressed_next_time() {
    let s = Scratch::new("compress-exit");
    logdir(&s.path, "d", "s200000\nn0\ncompress gzip 9\n");
    let d = s.join("d");
    // 120 rotations of 200 kB: more than a loaded machine compresses in 2 s at level 9.
    let input: Vec<u8> = (0..240_000u32)
        .flat_map(|i| format!("{i:08} {}\n", "log line text ".repeat(6)).into_bytes())
        .take(24_000_000)
        .collect();
    let o = run(Impl::Ours, &s.path, &["d"], &input);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let said = Regex::new(
        r"svlogd: warning: ([0-9]+) archives left uncompressed for the next svlogd: d\n",
    )
    .unwrap();
    let left = archives_ending(&d, ".s").len();
    match said.captures(&err) {
        Some(c) => assert_eq!(c[1].parse::<usize>().unwrap(), left, "{err}"),
        None => assert_eq!(left, 0, "{left} .s files left without a word:\n{err}"),
    }
    // Each later svlogd compresses more; none is lost on the way.
    for _ in 0..30 {
        if archives_ending(&d, ".s").is_empty() {
            break;
        }
        let o = run(Impl::Ours, &s.path, &["d"], b"");
        assert!(o.status.success());
    }
    assert_eq!(archives_ending(&d, ".s").len(), 0);
    assert_eq!(log_text(&d).len(), input.len(), "every byte is still there");
}
