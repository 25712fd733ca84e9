//! `copy stdout` / `copy stderr`: the lines a directory keeps also go to svlogd's stdout or
//! stderr with a prefix, while the directory is written as usual (issue 5; s6-overlay #252,
//! #304).

use crate::util::run;
use harness::{code, logdir, read_text, Impl, Scratch};

#[test]
fn copies_go_to_stdout_with_the_service_name() {
    let s = Scratch::new("copy-stdout");
    logdir(&s.path, "web/log/main", "copy stdout\n");
    let out = run(
        Impl::Ours,
        &s.path,
        &["-tt", "web/log/main"],
        b"hello\nworld",
    );
    assert_eq!(code(out.status), 0);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "web | hello\nweb | world\n"
    );
    // The directory still gets its stamped lines.
    let text = read_text(s.join("web/log/main/current"));
    assert_eq!(text.lines().count(), 2);
    assert!(text.lines().all(|l| l.len() > 26), "{text}");
}

#[test]
fn selected_lines_go_to_stderr_with_a_prefix_of_choice() {
    let s = Scratch::new("copy-stderr");
    logdir(&s.path, "a", "-*\n+keep*\ncopy stderr A: \n");
    logdir(&s.path, "b", "copy stderr \n");
    let out = run(
        Impl::Ours,
        &s.path,
        &["a", "b"],
        b"keep one\ndrop two\nkeep three\n",
    );
    assert_eq!(code(out.status), 0);
    let err = String::from_utf8_lossy(&out.stderr);
    let a: Vec<&str> = err.lines().filter(|l| l.starts_with("A: ")).collect();
    assert_eq!(a, ["A: keep one", "A: keep three"]);
    // b: an empty prefix, every line.
    let b: Vec<&str> = err.lines().filter(|l| !l.starts_with("A: ")).collect();
    assert_eq!(b, ["keep one", "drop two", "keep three"]);
    assert_eq!(read_text(s.join("a/current")), "keep one\nkeep three\n");
    assert!(out.stdout.is_empty());
}

#[test]
fn long_lines_are_copied_whole() {
    // The log keeps a line longer than -l whole; so does the copy.
    let s = Scratch::new("copy-long");
    logdir(&s.path, "d", "copy stdout > \n");
    let line = "x".repeat(5000);
    let out = run(
        Impl::Ours,
        &s.path,
        &["-l", "100", "d"],
        format!("{line}\n").as_bytes(),
    );
    assert_eq!(code(out.status), 0);
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("> {line}\n"));
}
