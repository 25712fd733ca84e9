//! The `config` file and the pattern matcher, through the binary (spec/svlogd.md §3).

use crate::util::conform;
use harness::logdir;

const INPUT: &[u8] = b"tcpsvd: info: pid 1977 from 10.0.0.1\n\
tcpsvd: info: end 1977 exit 0\n\
error: disk full\n\
warning: low memory\n\
aab\n\
ab\n\
abbb\n\
\n\
plain line\n";

#[test]
fn patterns_last_match_wins_and_do_not_backtrack() {
    conform(
        "patterns",
        |cwd| {
            // `*pid*` does not match (no backtracking); the man page's workaround does.
            logdir(cwd, "pid", "-*\n+*pid*\n+*: *: pid *\n");
            logdir(cwd, "plus", "-*\n+a+b\n");
            logdir(
                cwd,
                "errs",
                "-*\n+error:*\n+warning:*\n-warning:*\ne*\nE*memory\n",
            );
            logdir(cwd, "empty", "-\n");
        },
        &["-t", "pid", "plus", "errs", "empty"],
        INPUT,
        &["pid", "plus", "errs", "empty"],
    );
}

#[test]
fn stderr_gets_the_first_len_bytes_with_dots() {
    conform(
        "alerts",
        |cwd| {
            logdir(cwd, "a", "e*\npA: \n");
            logdir(cwd, "b", "-*\ne*disk*\n");
        },
        &["-tt", "-l", "12", "a", "b"],
        INPUT,
        &["a", "b"],
    );
}

#[test]
fn parse_quirks() {
    conform(
        "quirks",
        |cwd| {
            // Leading space: ignored; unknown directive: ignored; \r kept in patterns and
            // prefix; final one-byte line without newline: ignored.
            logdir(cwd, "a", " s10\nq\n+x\r\npP\r: \n#s5\ns1000\n-");
            logdir(cwd, "b", "s\nnfoo\nt\np\n!\n");
        },
        &["a", "b"],
        INPUT,
        &["a", "b"],
    );
}

#[test]
fn prefix_goes_after_the_stamp_everywhere() {
    conform(
        "prefix",
        |cwd| {
            logdir(cwd, "d", "pservice: \ne*full\n");
        },
        &["-ttt", "d"],
        INPUT,
        &["d"],
    );
}

#[test]
fn nul_bytes_in_lines_are_kept() {
    conform(
        "nul",
        |cwd| {
            logdir(cwd, "d", "e*\n");
        },
        &["d"],
        b"nul\0byte\n\0\nend\n",
        &["d"],
    );
}

#[test]
fn a_fifo_named_config_reads_as_empty() {
    // runit opens `config` non-blocking: a FIFO with no writer is an empty config. Ours used
    // to block in open(2) for ever, deaf to TERM (found by the reliability suite, issue 7).
    let fifo = |cwd: &std::path::Path| {
        std::fs::create_dir_all(cwd.join("d")).expect("mkdir");
        nix::unistd::mkfifo(
            &cwd.join("d/config"),
            nix::sys::stat::Mode::from_bits_truncate(0o644),
        )
        .expect("mkfifo");
    };
    conform("fifo-config", fifo, &["d"], b"one\ntwo\n", &["d"]);
    let s = harness::Scratch::new("fifo-config-check");
    fifo(&s.path);
    let out = harness::run(
        harness::ours("svlogd")
            .arg("-C")
            .arg("d")
            .current_dir(&s.path),
        std::time::Duration::from_secs(10),
    );
    assert_eq!(harness::code(out.status), 0, "{out:?}");
}
