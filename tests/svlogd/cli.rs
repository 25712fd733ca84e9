//! The command line: usage text, exit 111, getopt messages, option parsing that stops at the
//! first directory (spec/svlogd.md §1). Every case runs both svlogds.

use crate::util::{conform, run};
use harness::{assert_text_eq, code, logdir, Impl, Scratch};

const USAGE: &str = "usage: svlogd [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...\n\n";

#[test]
fn usage_errors_match_runit() {
    let cases: &[(&[&str], &str)] = &[
        (&[], USAGE),
        (&["-t"], USAGE),
        (&["-x", "d"], "svlogd: illegal option -- x\n"),
        (&["-l"], "svlogd: option requires an argument -- l\n"),
        (&["-r", "", "d"], ""),
        (&["-r", "ab", "d"], ""),
        // -l 5000 alone fails: buflen (1024) must exceed len.
        (&["-l", "5000", "d"], ""),
        (&["-l", "1024", "d"], ""),
        (&["-b", "10", "-l", "10", "d"], ""),
    ];
    for (args, first) in cases {
        for imp in Impl::BOTH {
            let s = Scratch::new("cli-usage");
            let out = run(imp, &s.path, args, b"");
            let want = if first.is_empty() || *first == USAGE {
                USAGE.to_string()
            } else {
                format!("{first}{USAGE}")
            };
            assert_text_eq(
                &format!("{} stderr for {args:?}", imp.name()),
                &want,
                &String::from_utf8_lossy(&out.stderr),
            );
            assert_eq!(code(out.status), 111, "{} exit for {args:?}", imp.name());
        }
    }
}

#[test]
fn version_then_usage() {
    for imp in Impl::BOTH {
        let s = Scratch::new("cli-version");
        let out = run(imp, &s.path, &["-V", "d"], b"");
        let err = String::from_utf8_lossy(&out.stderr);
        let (first, rest) = err.split_once('\n').expect("two lines");
        assert!(
            first.starts_with("$Id: ") && first.ends_with(" $"),
            "{}: {first}",
            imp.name()
        );
        assert_text_eq("usage after -V", USAGE, rest);
        assert_eq!(code(out.status), 111);
    }
}

#[test]
fn options_stop_at_the_first_directory() {
    // spec §1: `svlogd d -t` treats -t as a second directory.
    conform(
        "cli-stop",
        |cwd| {
            logdir(cwd, "d", "");
        },
        &["d", "-t"],
        b"one\ntwo\n",
        &["d"],
    );
}

#[test]
fn a_double_dash_word_ends_the_options() {
    // sgetopt takes any word starting with `--` for the end of the options and skips it, so
    // runit's `svlogd --check d` logs to d.
    conform(
        "cli-dashdash",
        |cwd| {
            logdir(cwd, "d", "");
        },
        &["--check", "d"],
        b"one\ntwo\n",
        &["d"],
    );
}

#[test]
fn lenient_numbers_and_combined_flags() {
    // -l abc = 1000, -b 0 = 1024, -l 3x = 3; -ttv combined.
    conform(
        "cli-numbers",
        |cwd| {
            logdir(cwd, "a", "");
            logdir(cwd, "b", "e*\n");
        },
        &["-l", "3x", "-b", "0", "a", "b"],
        b"abcdef\nab\n",
        &["a", "b"],
    );
    conform(
        "cli-numbers2",
        |cwd| {
            logdir(cwd, "a", "e*\n");
        },
        &["-l", "abc", "-vR", "", "a"],
        b"tab\there\n",
        &["a"],
    );
}

#[test]
fn replacement_of_the_first_len_bytes() {
    // spec §7: -r/-R replace non-printables and the set, only in the first len bytes.
    conform(
        "cli-replace",
        |cwd| {
            logdir(cwd, "d", "e*\n");
        },
        &["-r", "_", "-R", "xy", "-l", "10", "d"],
        "a\tb\u{e9}xyz\u{1}abcd\tTAB kept\n\0nul\nplain\n".as_bytes(),
        &["d"],
    );
}
