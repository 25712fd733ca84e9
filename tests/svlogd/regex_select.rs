//! Selection by regular expression (`~+`, `~-`, `~e`, `~E`; issue 16), checked against
//! s6-log's equivalent directives on the same input where the two mean the same (select and
//! deselect for the log, searched anywhere in the line), and against runit's svlogd, which
//! must ignore the lines.

use crate::util::run;
use harness::{logdir, read_text, reference, Impl, Scratch};
use std::time::Duration;

const INPUT: &str = "all good\nan error here\nwarn: health check\nwarn: disk\nERROR upper\n\
                     healthy error\n503 [[:digit:]] literal\nstatus 503 down\n";

#[test]
fn selects_the_lines_s6_log_selects() {
    let s = Scratch::new("regex-s6");
    let cases: [(&[&str], &str); 3] = [
        (
            &["-.*", "+error|warn", "-health"],
            "an error here\nwarn: disk\n",
        ),
        (
            &["-^[a-z]", "+^w"],
            "warn: health check\nwarn: disk\nERROR upper\n503 [[:digit:]] literal\n",
        ),
        (&["-.*", "+[[:digit:]]{3} d"], "status 503 down\n"),
    ];
    for (k, (directives, want)) in cases.iter().enumerate() {
        let config: String = directives.iter().map(|d| format!("~{d}\n")).collect();
        let ours = format!("ours{k}");
        logdir(&s.path, &ours, &config);
        let o = run(Impl::Ours, &s.path, &[&ours], INPUT.as_bytes());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let theirs = format!("s6-{k}");
        let mut c = std::process::Command::new(reference("/usr/bin/s6-log"));
        c.current_dir(&s.path)
            .arg("--")
            .args(*directives)
            .arg(format!("./{theirs}"));
        let o = harness::run_with_input(&mut c, INPUT.as_bytes(), Duration::from_secs(20));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let got = read_text(s.join(&ours).join("current"));
        assert_eq!(
            got,
            read_text(s.join(&theirs).join("current")),
            "{directives:?}"
        );
        assert_eq!(got, *want, "{directives:?}");
    }
}

#[test]
fn alerts_mix_with_globs_and_runit_ignores_the_lines() {
    let s = Scratch::new("regex-mix");
    let config = "-*\n~+error|warn\n+*keep\n~e^ERROR\n~+(\n";
    for imp in Impl::BOTH {
        let dir = imp.name();
        logdir(&s.path, dir, config);
        let o = run(
            imp,
            &s.path,
            &[dir],
            b"all good\nwarn: x\nthis, keep\nERROR upper\n",
        );
        assert!(o.status.success());
        let log = read_text(s.join(dir).join("current"));
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        match imp {
            Impl::Ours => {
                assert_eq!(log, "warn: x\nthis, keep\n");
                assert!(err.contains("ERROR upper\n"), "{err}");
                assert!(
                    err.contains("svlogd: warning: invalid regular expression: ~+(: "),
                    "{err}"
                );
            }
            // runit's svlogd ignores every `~` line: only its glob lines apply.
            Impl::Runit => {
                assert_eq!(log, "this, keep\n");
                assert!(!err.contains("ERROR upper"), "{err}");
            }
        }
    }
}
