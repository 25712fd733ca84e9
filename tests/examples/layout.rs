//! The examples as files: every script parses, every example is documented.

use crate::tree::T;
use harness::{names, read_text};
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

#[test]
fn every_example_has_an_executable_run_and_its_scripts_parse() {
    let examples: Vec<String> = names(harness::workspace("examples"))
        .into_iter()
        .filter(|n| harness::workspace("examples").join(n).is_dir())
        // Not a service directory but an image's tree: tests/install/container.rs.
        .filter(|n| n != "container")
        .collect();
    assert_eq!(
        examples,
        [
            "daemon",
            "getty-tty1",
            "link-watcher",
            "oneshot",
            "watchdog",
            "worker"
        ]
    );
    let readme = read_text(harness::workspace("examples").join("README.md"));
    for e in &examples {
        let dir = harness::workspace("examples").join(e);
        assert!(
            readme.contains(&format!("`{e}/`")),
            "{e} is not in examples/README.md"
        );
        for script in ["run", "finish", "log/run"] {
            let p = dir.join(script);
            if !p.exists() {
                assert_ne!(script, "run", "{e} has no run");
                continue;
            }
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o111, 0o111, "{e}/{script} is not executable");
            let o = harness::run(Command::new("/bin/sh").arg("-n").arg(&p), T);
            assert!(
                o.status.success(),
                "{e}/{script}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        // Every conf shipped is harmless to source as it is (all comments).
        for conf in ["conf", "log/conf"] {
            let p = dir.join(conf);
            if p.exists() {
                let o = harness::run(
                    Command::new("/bin/sh")
                        .arg("-euc")
                        .arg(". \"$1\"")
                        .arg("sh")
                        .arg(&p),
                    T,
                );
                assert!(o.status.success(), "{e}/{conf} does not source cleanly");
            }
        }
    }
}
