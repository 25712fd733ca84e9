//! svlogd built without the cargo feature `tls` (the small build): a `>tls` line is refused
//! with a warning that names the feature, `svlogd -C` reports it, and everything else in the
//! directory works as before (issue 13 item 3).

use crate::util::run;
use harness::{code, logdir, read_text, Impl, Scratch};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const NO_TLS: &str = "forward over tls needs svlogd built with the cargo feature tls";

/// Builds svlogd with `--no-default-features` into its own target directory (the suite's
/// binaries are untouched) and returns its path.
fn small_svlogd() -> PathBuf {
    let root = harness::workspace("");
    let target = root.join("target/no-tls");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = harness::run(
        Command::new(cargo)
            .current_dir(&root)
            .args([
                "build",
                "--locked",
                "-q",
                "-p",
                "svlogd",
                "--no-default-features",
            ])
            .arg("--target-dir")
            .arg(&target),
        Duration::from_secs(1200),
    );
    assert!(
        out.status.success(),
        "building svlogd without tls failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("debug/svlogd")
}

#[test]
fn a_tls_line_is_refused_by_name_and_the_rest_goes_on() {
    let small = small_svlogd();
    let s = Scratch::new("no_tls");
    let config = "n3\n>tls 127.0.0.1 ca=/nonexistent/ca.pem\n";
    logdir(&s.path, "d", config);

    let check = |svlogd: &std::path::Path| {
        harness::run(
            Command::new(svlogd)
                .arg0("svlogd")
                .current_dir(&s.path)
                .args(["-C", "d"]),
            Duration::from_secs(60),
        )
    };
    let out = check(&small);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code(out.status), 1, "{text}");
    let refused = format!("line 2: invalid, ignored ({NO_TLS}): >tls 127.0.0.1");
    assert!(text.contains(&refused), "-C output:\n{text}");
    assert!(text.contains("forward (>)            none"), "{text}");
    // The default build takes the same line.
    let out = run(Impl::Ours, &s.path, &["-C", "d"], b"");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains(NO_TLS), "the default build has TLS:\n{text}");
    assert!(
        text.contains("forward (>)            tls-127.0.0.1-6514"),
        "{text}"
    );

    // Logging: the warning on stderr, every line in current, exit 0 at end of input.
    let out = harness::run_with_input(
        Command::new(&small)
            .arg0("svlogd")
            .current_dir(&s.path)
            .arg("d"),
        b"one\ntwo\n",
        Duration::from_secs(60),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(out.status), 0, "{err}");
    assert!(
        err.contains(&format!(
            "svlogd: warning: {NO_TLS}: d/config:2: >tls 127.0.0.1 ca=/nonexistent/ca.pem"
        )),
        "{err}"
    );
    assert_eq!(read_text(s.path.join("d/current")), "one\ntwo\n");
}
