//! `chpst` and its daemontools personalities through the binary, side by side with runit's
//! `/usr/bin/chpst` and daemontools' `/usr/bin/{envdir,setuidgid,...}` (`spec/supervise.md` §7).

use crate::common::*;
use harness::{
    bin, command, exec, reference, require_root, stderr, stdout, Proc, Scratch, CHPST_ALIASES, WAIT,
};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

/// Our chpst under each alias name, in `scratch/ours/`.
fn alias_dir(s: &Scratch) -> PathBuf {
    let dir = s.mkdir("ours");
    for a in CHPST_ALIASES.iter().chain(&["denvdir"]) {
        std::os::unix::fs::symlink(bin("chpst"), dir.join(a)).unwrap();
    }
    dir
}

fn chpst_both(s: &Scratch, args: &[&str]) -> (Output, Output) {
    (
        ours("chpst", &s.path, args, &[]),
        theirs("/usr/bin/chpst", &s.path, args, &[]),
    )
}

/// [`chpst_both`] without the preloaded library of a whole-suite run with the clock moved
/// (`LD_PRELOAD`, see [`harness::ambient`]): libfaketime opens descriptors of its own, which
/// a probe of the program's descriptors would see, and is not there inside a chroot.
fn chpst_both_unpreloaded(s: &Scratch, args: &[&str]) -> (Output, Output) {
    let run = |program: &Path| {
        let mut c = command(program, &s.path, args, &[]);
        c.env_remove("LD_PRELOAD");
        harness::run(&mut c, WAIT)
    };
    (run(&bin("chpst")), run(&reference("/usr/bin/chpst")))
}

fn alias_both(s: &Scratch, dir: &Path, alias: &str, args: &[&str]) -> (Output, Output) {
    (
        exec(&dir.join(alias), &s.path, args, &[]),
        theirs(&format!("/usr/bin/{alias}"), &s.path, args, &[]),
    )
}

/// Why the chpst privilege tests need root.
const ROOT: &str = "the chpst privilege tests change users and groups";

/// The `Uid:`, `Gid:` and `Groups:` lines of a /proc status text.
fn ids(status: &str) -> String {
    status
        .lines()
        .filter(|l| l.starts_with("Uid:") || l.starts_with("Gid:") || l.starts_with("Groups:"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn usage_and_errors_match_runit() {
    let s = Scratch::new("chpst-usage");
    for args in [
        &[][..],
        &["-V"],
        &["-x"],
        &["-u"],
        &["-u", "nobody"],
        &["-l", "a", "-L", "b", "true"],
        &["-l", "a", "-l", "b", "true"],
        &["-m", "1x", "true"],
        &["-n", "3x", "true"],
        &["-n", "-", "true"],
        &["-o", "", "true"],
        // sgetopt: any word starting with `--` ends the options, and is skipped.
        &["--foo", "true"],
        &["-v", "--", "true"],
        &["-e", "/nonexistent", "true"],
        &["-/", "/nonexistent", "true"],
        &["-b", "fake", "no-such-program"],
        &["no-such-program"],
        &["./no-such-program"],
        &["/"],
        &["-u", ":1234", "true"],
        &["-u", ":12x", "true"],
        &["-u", ":", "true"],
        &["-u", "nobody:", "true"],
        &["-u", "nobody::bin", "true"],
        &["-u", "no-such-user", "true"],
        &["-u", "nobody:no-such-group", "true"],
        &["-U", "no-such-user", "true"],
    ] {
        let (o, t) = chpst_both(&s, args);
        assert_same(&format!("chpst {args:?}"), &o, &t);
    }
}

#[test]
fn personalities_match_daemontools() {
    let s = Scratch::new("chpst-aliases");
    let dir = alias_dir(&s);
    s.write("env/A", "x\n");
    s.mkdir("env/sub");
    s.write("lk", "");
    let cases: &[(&str, &[&str])] = &[
        ("setuidgid", &[]),
        ("setuidgid", &["nobody"]),
        ("setuidgid", &["-Z", "x"]),
        ("setuidgid", &["no-such-user", "true"]),
        ("setuidgid", &["nobody", "no-such-program"]),
        ("envuidgid", &[]),
        ("envuidgid", &["nobody"]),
        ("envuidgid", &["no-such-user", "true"]),
        ("envdir", &[]),
        ("envdir", &["env"]),
        ("envdir", &["/nonexistent", "true"]),
        ("envdir", &["env", "true"]),
        ("envdir", &["lk", "true"]),
        ("pgrphack", &[]),
        ("pgrphack", &["no-such-program"]),
        ("pgrphack", &["/"]),
        ("setlock", &[]),
        ("setlock", &["lk"]),
        ("setlock", &["-Z", "lk", "true"]),
        ("setlock", &["/nonexistent/lk", "true"]),
        ("setlock", &["-x", "/nonexistent/lk", "true"]),
        ("setlock", &["lk", "no-such-program"]),
        ("setlock", &["-x", "lk", "no-such-program"]),
        ("softlimit", &[]),
        ("softlimit", &["-Z", "true"]),
        ("softlimit", &["-d", "1x", "true"]),
        ("softlimit", &["-o", "=", "no-such-program"]),
    ];
    for (alias, args) in cases {
        let (o, t) = alias_both(&s, &dir, alias, args);
        assert_same(&format!("{alias} {args:?}"), &o, &t);
    }
    // runit strips a leading `d` from the name: `denvdir` is envdir.
    let o = exec(&dir.join("denvdir"), &s.path, &[], &[]);
    assert_eq!(stderr(&o), "envdir: usage: envdir dir child\n");
}

#[test]
fn privileges_are_dropped_groups_then_gid_then_uid() {
    require_root(ROOT);
    let s = Scratch::new("chpst-uid");
    let dir = alias_dir(&s);
    // The process that runs after the drop, looked at from outside through /proc/PID/status.
    let mut cmd = command(
        &bin("chpst"),
        &s.path,
        &["-u", ":1234:5678:910", "sleep", "30"],
        &[],
    );
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let p = Proc::spawn(&mut cmd);
    let path = format!("/proc/{}/status", p.pid());
    harness::wait_until(WAIT, "chpst to exec sleep", || {
        harness::status_field(p.pid(), "Name").as_deref() == Some("sleep")
    });
    assert_eq!(
        ids(&fs::read_to_string(&path).unwrap()),
        "Uid: 1234 1234 1234 1234\nGid: 5678 5678 5678 5678\nGroups: 910 5678"
    );
    drop(p);
    for spec in [
        "nobody",
        "nobody:daemon",
        "nobody:daemon:bin",
        ":1:2::3",
        "daemon",
    ] {
        let args = ["-u", spec, "cat", "/proc/self/status"];
        let (o, t) = chpst_both(&s, &args);
        assert_eq!(ids(&stdout(&o)), ids(&stdout(&t)), "chpst -u {spec}");
        assert!(!ids(&stdout(&o)).is_empty());
    }
    let (o, t) = alias_both(
        &s,
        &dir,
        "setuidgid",
        &["nobody", "cat", "/proc/self/status"],
    );
    assert_eq!(ids(&stdout(&o)), ids(&stdout(&t)));
    assert_eq!(
        ids(&stdout(&o)),
        "Uid: 65534 65534 65534 65534\nGid: 65534 65534 65534 65534\nGroups: 65534"
    );
    // -U and envuidgid only set the environment.
    let (o, t) = chpst_both(&s, &["-U", "nobody:daemon:bin", "env"]);
    assert_eq!(stdout(&o), stdout(&t));
    assert!(stdout(&o).contains("GID=1\nUID=65534\n"), "{}", stdout(&o));
    let (o, t) = alias_both(&s, &dir, "envuidgid", &["daemon", "env"]);
    assert_eq!(stdout(&o), stdout(&t));
}

#[test]
fn envdir_sets_and_removes_variables() {
    let s = Scratch::new("chpst-envdir");
    let dir = alias_dir(&s);
    s.write("env/A", "hello  \t\nsecond line");
    s.write("env/B", "");
    s.write("env/C", "\n");
    s.write("env/D", b"a\0b");
    s.write("env/.hidden", "x");
    s.write("env/PATH", "/nonexistent");
    s.mkdir("env/sub");
    let show = "echo \"A=[$A] B=${B-unset} C=[$C] D=[$D] H=${hidden-unset}\"";
    let env = [("B", "before")];
    let o = exec(
        &bin("chpst"),
        &s.path,
        &["-e", "env", "sh", "-c", show],
        &env,
    );
    let t = exec(
        &reference("/usr/bin/chpst"),
        &s.path,
        &["-e", "env", "sh", "-c", show],
        &env,
    );
    assert_same("chpst -e", &o, &t);
    assert_eq!(stdout(&o), "A=[hello] B=unset C=[] D=[a\nb] H=unset\n");
    let (o, t) = chpst_both(&s, &["-v", "-e", "env", "true"]);
    assert_same("chpst -v -e with a sub-directory", &o, &t);
    // The alias refuses the sub-directory, as daemontools' envdir does; without it, it works.
    let (o, t) = alias_both(&s, &dir, "envdir", &["env", "true"]);
    assert_same("envdir with a sub-directory", &o, &t);
    fs::remove_dir(s.join("env/sub")).unwrap();
    let o = exec(
        &dir.join("envdir"),
        &s.path,
        &["env", "sh", "-c", show],
        &env,
    );
    let t = exec(
        &reference("/usr/bin/envdir"),
        &s.path,
        &["env", "sh", "-c", show],
        &env,
    );
    assert_same("envdir", &o, &t);
}

#[test]
fn limits_nice_session_and_fds() {
    let s = Scratch::new("chpst-limits");
    let dir = alias_dir(&s);
    let args = [
        "-o",
        "50",
        "-c",
        "0",
        "-f",
        "1024",
        "-m",
        "100000000",
        "-t",
        "100",
        "-p",
        "500",
        "-r",
        "1000000",
        "-d",
        "200000000",
        "cat",
        "/proc/self/limits",
    ];
    let (o, t) = chpst_both(&s, &args);
    assert_same("chpst limits", &o, &t);
    assert!(
        stdout(&o).contains("Max open files            50"),
        "{}",
        stdout(&o)
    );
    for args in [
        &[
            "-o",
            "20",
            "-m",
            "100000000",
            "-c",
            "=",
            "cat",
            "/proc/self/limits",
        ][..],
        &[
            "-a",
            "300000000",
            "-l",
            "0",
            "-s",
            "=",
            "-o",
            "999999999999",
            "cat",
            "/proc/self/limits",
        ],
    ] {
        let (o, t) = alias_both(&s, &dir, "softlimit", args);
        assert_same(&format!("softlimit {args:?}"), &o, &t);
    }
    let (o, t) = chpst_both(&s, &["-n", "5", "nice"]);
    assert_same("chpst -n 5", &o, &t);
    assert_eq!(stdout(&o), "5\n");
    // -P and pgrphack: a new session, led by the program.
    let (o, _) = chpst_both(&s, &["-P", "cat", "/proc/self/stat"]);
    let (p, _) = alias_both(&s, &dir, "pgrphack", &["cat", "/proc/self/stat"]);
    for out in [o, p] {
        let text = stdout(&out);
        let f: Vec<&str> = text
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        let pid = text.split_whitespace().next().unwrap();
        assert_eq!((f[2], f[3]), (pid, pid), "pgrp and session of {text}");
    }
    // -0 -2 close stdin and stderr for the program.
    let probe = "test -e /proc/$$/fd/0 || echo no0; test -e /proc/$$/fd/2 || echo no2";
    let (o, t) = chpst_both_unpreloaded(&s, &["-0", "-2", "sh", "-c", probe]);
    assert_same("chpst -0 -2", &o, &t);
    assert_eq!(stdout(&o), "no0\nno2\n");
    // -b replaces argv[0]; -C changes directory; PATH from an envdir does not change the search.
    let (o, t) = chpst_both(&s, &["-b", "fakename", "sh", "-c", "echo $0"]);
    assert_same("chpst -b", &o, &t);
    assert_eq!(stdout(&o), "fakename\n");
    let o = ours("chpst", &s.path, &["-C", "/tmp", "pwd"], &[]);
    assert_eq!(stdout(&o), "/tmp\n");
}

#[test]
fn chroot_runs_the_program_inside() {
    require_root(ROOT);
    let s = Scratch::new("chpst-chroot");
    let root = s.mkdir("root");
    let busybox = Path::new("/bin/busybox");
    for f in std::iter::once(busybox.to_path_buf()).chain(shared_libraries(busybox)) {
        let dest = root.join(f.strip_prefix("/").unwrap());
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::copy(&f, &dest).unwrap();
        fs::set_permissions(&dest, fs::Permissions::from_mode(0o755)).unwrap();
    }
    s.write("root/inside", "yes\n");
    let (o, t) = chpst_both_unpreloaded(&s, &["-/", "root", "/bin/busybox", "cat", "/inside"]);
    assert_same("chpst -/", &o, &t);
    assert_eq!(stdout(&o), "yes\n");
}

/// The libraries `ldd` lists for a program (absolute paths).
fn shared_libraries(prog: &Path) -> Vec<PathBuf> {
    let o = harness::run(std::process::Command::new("ldd").arg(prog), WAIT);
    stdout(&o)
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
        .map(PathBuf::from)
        .collect()
}

#[test]
fn locks_are_held_by_the_program() {
    let s = Scratch::new("chpst-lock");
    let dir = alias_dir(&s);
    s.write("lk", "");
    let holder = fs::File::open(s.join("lk")).unwrap();
    nix::fcntl::Flock::lock(holder, nix::fcntl::FlockArg::LockExclusiveNonblock)
        .map(|held| {
            let (o, t) = chpst_both(&s, &["-L", "lk", "true"]);
            assert_same("chpst -L on a held lock", &o, &t);
            assert_eq!(
                stderr(&o),
                "chpst: fatal: unable to lock: lk: temporary failure\n"
            );
            let (o, t) = alias_both(&s, &dir, "setlock", &["-n", "lk", "true"]);
            assert_same("setlock -n on a held lock", &o, &t);
            let (o, t) = alias_both(&s, &dir, "setlock", &["-nx", "lk", "true"]);
            assert_same("setlock -nx on a held lock", &o, &t);
            assert_eq!(harness::code(o.status), 0);
            // The default (daemontools) waits: it runs once the lock is released.
            let mut cmd = command(&dir.join("setlock"), &s.path, &["lk", "touch", "done"], &[]);
            let mut waiter = Proc::spawn(&mut cmd);
            harness::wait_until(WAIT, "setlock to block on the lock", || {
                blocked_on_lock(waiter.pid())
            });
            assert!(!s.join("done").exists());
            drop(held);
            assert!(waiter.wait_timeout(WAIT).success());
            assert!(s.join("done").exists());
        })
        .map_err(|(_, e)| e)
        .expect("lock lk");
    // After exec the program holds the lock: a second chpst -L fails while it runs.
    let mut cmd = command(&bin("chpst"), &s.path, &["-L", "lk", "sleep", "30"], &[]);
    let sleeper = Proc::spawn(&mut cmd);
    harness::wait_until(WAIT, "sleep to hold the lock", || {
        harness::status_field(sleeper.pid(), "Name").as_deref() == Some("sleep")
    });
    let o = ours("chpst", &s.path, &["-L", "lk", "true"], &[]);
    assert_eq!(harness::code(o.status), 111);
}

/// Whether `pid` waits for a file lock (its line in /proc/locks is a blocked one, `->`).
fn blocked_on_lock(pid: i32) -> bool {
    fs::read_to_string("/proc/locks").is_ok_and(|t| {
        t.lines()
            .any(|l| l.contains("->") && l.split_whitespace().any(|w| w == pid.to_string()))
    })
}
