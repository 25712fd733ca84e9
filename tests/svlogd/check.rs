//! `svlogd -C`: the effective settings of each directory, and every config line svlogd
//! does not act on, with its number (issue 5).

use crate::util::{run, spawn};
use harness::{code, logdir, Impl, Scratch};
use std::time::Duration;

#[test]
fn check_names_lines_it_does_not_understand() {
    let s = Scratch::new("check");
    logdir(
        &s.path,
        "d",
        "# comment\ns5000\nn3\nS1m\nmaxage 7d\ncompress gzip 9\nzz100\nqueue x\nTlocal\ncopy stdout\nmetrics\n!\nsize 10\n",
    );
    // A running svlogd holds the lock: the check does not need it.
    let mut p = spawn(Impl::Ours, &s.path, &["d"]);
    let out = run(Impl::Ours, &s.path, &["-tt", "-C", "d"], b"");
    assert_eq!(code(out.status), 1, "some lines are not understood");
    let text = String::from_utf8_lossy(&out.stdout);
    let expect = [
        "== d/config: 13 lines",
        "line 7: unknown directive, ignored: zz100",
        "line 8: invalid, ignored (invalid config line): queue x",
        "line 12: ignored (nothing to act on): !",
        // runit reads `size 10` as `s` with no digits: rotation off.
        "line 13: read as s0 (only leading digits count): size 10",
        "size (s)               off",
        "count (n)              3",
        "total bytes (S)        1048576 bytes",
        "maxage                 604800 s",
        "compress               gzip level 9",
        "queue                  4",
        "overload               block",
        "timestamp (T)          local",
        "copy                   stdout, prefix \"SERVICE | \"",
        "metrics                svlogd.prom",
        "autoreload             off",
    ];
    for e in expect {
        assert!(text.lines().any(|l| l == e), "missing {e:?} in\n{text}");
    }
    // Nothing was touched: the running svlogd still logs.
    p.send(b"still here\n");
    harness::wait_until(Duration::from_secs(20), "the line", || {
        harness::read_text(s.join("d/current")).ends_with(" still here\n")
    });
    p.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(p.wait_timeout(Duration::from_secs(20)).success());
}

#[test]
fn check_exit_codes() {
    let s = Scratch::new("check-codes");
    logdir(&s.path, "good", "s100\nn2\n");
    logdir(&s.path, "empty", "");
    let out = run(Impl::Ours, &s.path, &["-C", "good", "empty"], b"");
    assert_eq!(
        code(out.status),
        0,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("== empty: no config, the defaults apply")
    );
    let out = run(Impl::Ours, &s.path, &["-LC", "good", "missing"], b"");
    assert_eq!(code(out.status), 111);
    assert!(String::from_utf8_lossy(&out.stdout).contains("overload               drop (-L)"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
    // runit refuses -C (so no runit command line changes meaning).
    let out = run(Impl::Runit, &s.path, &["-C", "good"], b"");
    assert_eq!(code(out.status), 111);
}
