//! A SIGKILL in the middle of a write leaves the beginning of a line at the end of `current`;
//! the next svlogd recovers `current` as `.u` and writes the whole line again from the pipe.
//! The fragment is cut off the recovered file when the pipe shows the line is still there, so
//! the log holds whole lines only (found by the reliability suite: one torn line in twenty
//! kills); when the pipe does not hold it, the fragment is kept (it may be the only copy).

use crate::util::SharedPipe;
use harness::{logdir, read_text, wait_until, Scratch};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

/// A log directory whose `current` (not closed: no u+x) ends in `tail`, and an svlogd started
/// on a pipe holding `pipe`; returns the recovered archive's text and `current`'s after EOF.
fn recover(name: &str, args: &[&str], tail: &str, pipe_text: &str) -> (String, String) {
    let s = Scratch::new(name);
    logdir(&s.path, "d", "");
    let d = s.join("d");
    fs::write(d.join("current"), format!("a 1\na 2\n{tail}")).unwrap();
    fs::set_permissions(d.join("current"), fs::Permissions::from_mode(0o644)).unwrap();
    let mut pipe = SharedPipe::new();
    pipe.send(pipe_text.as_bytes());
    let mut p = pipe.start(&s.path, &[args, &["d"]].concat(), &[]);
    wait_until(Duration::from_secs(20), "the pipe written", || {
        read_text(d.join("current")).lines().count() == pipe_text.lines().count()
    });
    pipe.close();
    assert!(p.wait_timeout(Duration::from_secs(20)).success());
    let u: Vec<String> = harness::names(&d)
        .into_iter()
        .filter(|n| n.ends_with(".u"))
        .collect();
    assert_eq!(u.len(), 1, "{u:?}");
    (read_text(d.join(&u[0])), read_text(d.join("current")))
}

#[test]
fn a_fragment_still_in_the_pipe_is_cut_off_the_recovered_file() {
    let (u, current) = recover("tail-cut", &[], "a 3\nb 4", "a 3\nb 4xx\nc 5\n");
    assert_eq!(u, "a 1\na 2\na 3\n");
    assert_eq!(current, "a 3\nb 4xx\nc 5\n");
}

#[test]
fn a_stamped_fragment_is_recognised_without_its_stamp() {
    let (u, _) = recover(
        "tail-cut-tt",
        &["-tt"],
        "2026-11-22_18:42:17.03672 b 4",
        "b 4xx\n",
    );
    assert_eq!(u, "a 1\na 2\n");
    // Even a fragment of a stamp alone is no input: it goes.
    let (u, _) = recover("tail-cut-stamp", &["-tt"], "2026-11-22_18:4", "c 5\n");
    assert_eq!(u, "a 1\na 2\n");
}

#[test]
fn a_fragment_the_pipe_does_not_hold_is_kept() {
    let (u, current) = recover("tail-kept", &[], "b 4", "c 5\n");
    assert_eq!(u, "a 1\na 2\nb 4");
    assert_eq!(current, "c 5\n");
}
