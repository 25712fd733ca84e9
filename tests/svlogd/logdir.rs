//! The log directory: `lock`, `current` and its u+x "closed cleanly" mark, recovery of an
//! uncleanly closed `current`, missing and unusable directories (spec/svlogd.md §2.1-2.3).

use crate::util::{conform, on_d, spawn};
use harness::{
    archives_ending, assert_text_eq, code, logdir, mode, read_text, svlogd_stderr, wait_until,
    Impl, Scratch,
};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

#[test]
fn modes_while_open_and_after_close() {
    for imp in Impl::BOTH {
        let (s, mut p) = on_d("modes", imp, "", &[]);
        let cur = s.join("d/current");
        wait_until(Duration::from_secs(20), "current created", || cur.exists());
        p.send(b"hello\n");
        wait_until(Duration::from_secs(20), "line written", || {
            read_text(&cur) == "hello\n"
        });
        assert_eq!(
            mode(&cur),
            Some(0o644),
            "{}: current while open",
            imp.name()
        );
        assert_eq!(mode(s.join("d/lock")), Some(0o600), "{}: lock", imp.name());
        let st = p.end_input(Duration::from_secs(20));
        assert_eq!(code(st), 0);
        assert_eq!(
            mode(&cur),
            Some(0o744),
            "{}: current after close",
            imp.name()
        );
    }
}

#[test]
fn unclean_current_is_recovered_as_u() {
    // spec §2.2 step 5: a non-empty current without u+x becomes @<now>.u; a new current
    // starts. An empty one, or a u+x one, is appended to.
    conform(
        "recover",
        |cwd| {
            logdir(cwd, "unclean", "");
            fs::write(cwd.join("unclean/current"), "left behind\n").unwrap();
            logdir(cwd, "clean", "");
            fs::write(cwd.join("clean/current"), "closed cleanly\n").unwrap();
            fs::set_permissions(cwd.join("clean/current"), fs::Permissions::from_mode(0o744))
                .unwrap();
            logdir(cwd, "empty", "");
            fs::write(cwd.join("empty/current"), "").unwrap();
        },
        &["-v", "unclean", "clean", "empty"],
        b"new line\n",
        &["unclean", "clean", "empty"],
    );
}

#[test]
fn recovered_u_is_not_given_to_the_processor() {
    let s = conform(
        "recover-processor",
        |cwd| {
            logdir(cwd, "d", "!cat\n");
            fs::write(cwd.join("d/current"), "crashed\n").unwrap();
        },
        &["d"],
        b"x\n",
        &["d"],
    );
    assert_eq!(archives_ending(&s.join("d"), ".u").len(), 1);
    assert!(archives_ending(&s.join("d"), ".s").is_empty());
}

#[test]
fn a_locked_directory_is_skipped() {
    // spec §2.2 step 3: a second svlogd does not wait; it skips the directory, and exits 111
    // when none is left.
    for imp in Impl::BOTH {
        let s = Scratch::new(&format!("lock-{}", imp.name()));
        logdir(&s.path, "d", "");
        logdir(&s.path, "other", "");
        let mut first = spawn(Impl::Ours, &s.path, &["d"]);
        wait_until(Duration::from_secs(20), "first svlogd has current", || {
            s.join("d/current").exists()
        });
        let out = crate::util::run(imp, &s.path, &["d"], b"lost\n");
        assert_eq!(code(out.status), 111);
        assert_text_eq(
            "second svlogd",
            "svlogd: warning: unable to lock directory: d: temporary failure\n\
             svlogd: fatal: no functional log directories.\n",
            &String::from_utf8_lossy(&out.stderr),
        );
        let out = crate::util::run(imp, &s.path, &["d", "other"], b"kept\n");
        assert_eq!(code(out.status), 0);
        assert_eq!(read_text(s.join("other/current")), "kept\n");
        assert!(first.end_input(Duration::from_secs(20)).success());
    }
}

#[test]
fn missing_and_unusable_directories() {
    conform(
        "unusable",
        |cwd| {
            logdir(cwd, "good", "");
            fs::write(cwd.join("afile"), "").unwrap();
        },
        &["-v", "missing", "afile", "good"],
        b"line\n",
        &["good"],
    );
    conform(
        "none-usable",
        |cwd| fs::write(cwd.join("afile"), "").unwrap(),
        &["missing", "afile"],
        b"line\n",
        &[],
    );
}

#[test]
fn unreadable_config_uses_defaults() {
    conform(
        "config-dir",
        |cwd| {
            logdir(cwd, "d", "");
            fs::create_dir(cwd.join("d/config")).unwrap();
        },
        &["-v", "d"],
        b"line\n",
        &["d"],
    );
}

#[test]
fn several_directories_get_the_same_lines() {
    let s = conform(
        "several",
        |cwd| {
            logdir(cwd, "a", "");
            logdir(cwd, "b", "pB: \n");
        },
        &["-tt", "a", "b"],
        b"one\ntwo\n",
        &["a", "b"],
    );
    // Every line in both, the prefix only in b's, and the same stamp for a line everywhere.
    let a = read_text(s.join("a/current"));
    let b = read_text(s.join("b/current"));
    let split = |text: &str| -> Vec<(String, String)> {
        text.lines()
            .map(|l| (l[..26].to_string(), l[26..].to_string()))
            .collect()
    };
    let (a, b) = (split(&a), split(&b));
    let texts = |v: &[(String, String)]| v.iter().map(|x| x.1.clone()).collect::<Vec<_>>();
    assert_eq!(texts(&a), ["one", "two"]);
    assert_eq!(texts(&b), ["B: one", "B: two"]);
    for (la, lb) in a.iter().zip(&b) {
        assert_eq!(la.0, lb.0, "the stamps of one line");
    }
}

#[test]
fn a_directory_removed_while_open_is_given_up() {
    // runit pauses for ever on the failed rename ("unable to rename current"), so the other
    // directories get nothing more; ours gives the removed one up with a warning, and exits
    // 111 once no directory is left (found by the reliability suite, issue 7).
    let s = Scratch::new("logdir-removed");
    logdir(&s.path, "good", "");
    logdir(&s.path, "gone", "s200\n");
    logdir(&s.path, "last", "s200\n");
    let mut p = spawn(Impl::Ours, &s.path, &["good", "gone"]);
    let lines = |from: u32, to: u32| -> Vec<u8> {
        (from..=to)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect()
    };
    p.send(&lines(1, 5));
    wait_until(Duration::from_secs(10), "gone/current has 5 lines", || {
        read_text(s.join("gone/current")).lines().count() == 5
    });
    rm_rf(&s.join("gone"));
    p.send(&lines(6, 100));
    wait_until(
        Duration::from_secs(10),
        "good/current has 100 lines",
        || read_text(s.join("good/current")).lines().count() == 100,
    );
    wait_until(Duration::from_secs(10), "the warning", || {
        svlogd_stderr(&s.path)
            .contains("svlogd: warning: log directory removed, giving it up: gone\n")
    });
    assert_eq!(code(p.end_input(Duration::from_secs(10))), 0);

    let mut p = spawn(Impl::Ours, &s.path, &["last"]);
    p.send(&lines(1, 5));
    wait_until(Duration::from_secs(10), "last/current has 5 lines", || {
        read_text(s.join("last/current")).lines().count() == 5
    });
    rm_rf(&s.join("last"));
    p.send(&lines(6, 100));
    assert_eq!(code(p.wait_timeout(Duration::from_secs(10))), 111);
    assert!(svlogd_stderr(&s.path).ends_with("svlogd: fatal: no functional log directories.\n"));
}

/// `rm -rf`, again while svlogd creates files in it (a rotation between the listing and the
/// rmdir makes it fail with ENOTEMPTY).
fn rm_rf(dir: &std::path::Path) {
    wait_until(Duration::from_secs(10), "rm -rf", || {
        fs::remove_dir_all(dir).is_ok() || !dir.exists()
    });
}

#[test]
fn planted_links_are_never_followed() {
    // Links planted as `current`, `lock`, `state` and an archive name, pointing into another
    // directory: svlogd removes the first three (with a warning) and never processes the
    // archive, so the other directory is neither written nor read into the log (issue 7;
    // runit follows them all).
    let s = Scratch::new("logdir-links");
    fs::create_dir_all(s.join("other")).unwrap();
    fs::write(s.join("other/victim"), "SECRET\n").unwrap();
    fs::set_permissions(s.join("other/victim"), fs::Permissions::from_mode(0o744)).unwrap();
    logdir(&s.path, "d", "s100\n!cat; cat <&4 >&5\n");
    let plant = |target: &str, name: &str| {
        std::os::unix::fs::symlink(target, s.join("d").join(name)).unwrap();
    };
    plant("../other/victim", "current");
    plant("../other/new-lock", "lock");
    plant("../other/victim", "state");
    plant("../other/victim", "@400000000000000100000000.u");
    let input: Vec<u8> = (1..=30)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .collect();
    let out = crate::util::run(Impl::Ours, &s.path, &["d"], &input);
    assert_eq!(code(out.status), 0);
    let err = String::from_utf8_lossy(&out.stderr);
    for name in ["lock", "current", "state"] {
        assert!(
            err.contains(&format!(
                "svlogd: warning: symbolic link removed: d/{name}\n"
            )),
            "{err}"
        );
    }
    assert_eq!(harness::names(s.join("other")), ["victim"]);
    assert_eq!(read_text(s.join("other/victim")), "SECRET\n");
    for n in harness::names(s.join("d")) {
        let p = s.join("d").join(&n);
        if fs::symlink_metadata(&p).unwrap().is_file() {
            assert!(!read_text(&p).contains("SECRET"), "{n} holds the secret");
        }
    }
    // The link with an archive's name is still there, unprocessed.
    assert!(
        fs::symlink_metadata(s.join("d/@400000000000000100000000.u"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}
