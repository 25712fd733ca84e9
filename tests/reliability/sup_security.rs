//! Security, supervision half: the modes of `supervise/` whatever the umask, the tools
//! refusing another user's planted `supervise` symlinks, and chpst dropping every privilege.

use crate::frame::{self, Report};
use crate::sup_common::T;
use formats::status::State;
use harness::{
    mode, read_status, runsv_err, service, start_in, wait_handled, wait_new_run, wait_status,
    wait_until, Impl, Proc, Scratch,
};
use nix::unistd::{Gid, Uid};
use std::fs;
use std::os::unix::fs::{lchown, symlink};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::Duration;

const RUN: &str = "#!/bin/sh\nexec sleep 100000\n";

/// `nobody`: the other user of these scenarios.
const NOBODY: u32 = 65534;

/// Why these scenarios need root.
const ROOT: &str = "the security scenarios change owners and drop privileges";

/// `runsv` under umask 000, so only the modes runsv asks for count.
fn runsv_umask0(s: &Scratch, imp: Impl, dir: &Path) -> Proc {
    let mut c = imp.cmd("runsv");
    c.arg(dir);
    // SAFETY: umask is async-signal-safe and touches only the child.
    unsafe {
        c.pre_exec(|| {
            nix::libc::umask(0);
            Ok(())
        });
    }
    start_in(s, &mut c, Some(&runsv_err(imp, dir)))
}

#[test]
fn supervise_modes_under_umask_zero() {
    harness::require_root(ROOT);
    let mut r = Report::new(
        "11-security-modes",
        "Security: supervise/ modes under umask 000",
    );
    r.how(
        "runsv starts under umask 000 on a service with a logger; the modes of everything \
         in `supervise/` and `log/supervise/` are read once both run. \
         `tests/reliability/sup_security.rs`.",
    );
    let files = [
        "supervise",
        "supervise/lock",
        "supervise/control",
        "supervise/ok",
        "supervise/status",
        "supervise/stat",
        "supervise/pid",
        "log/supervise",
        "log/supervise/control",
        "log/supervise/status",
    ];
    let want = [
        0o700, 0o600, 0o600, 0o600, 0o644, 0o644, 0o644, 0o700, 0o600, 0o644,
    ];
    let mut seen = Vec::new();
    let mut writable = Vec::new();
    for imp in frame::impls() {
        let s = Scratch::new(&format!("rel-modes-{}", imp.name()));
        let dir = service(&s, "svc", RUN);
        s.script("svc/log/run", RUN);
        let _p = runsv_umask0(&s, imp, &dir);
        wait_new_run(&s, &dir, 0, T);
        wait_status(&s, &dir.join("log"), "logger running", |st| st.pid != 0);
        seen.push(files.map(|f| mode(dir.join(f))));
        // Anything group- or world-writable among all the files runsv made (ours adds `start`).
        let mut w = Vec::new();
        for sup in ["supervise", "log/supervise"] {
            for n in harness::names(dir.join(sup)) {
                if mode(dir.join(sup).join(&n)).is_some_and(|m| m & 0o022 != 0) {
                    w.push(format!("{sup}/{n}"));
                }
            }
        }
        writable.push(w);
    }
    let show = |m: Option<u32>| m.map_or("missing".into(), |m| format!("{m:04o}"));
    for (i, f) in files.iter().enumerate() {
        r.row(
            &format!("`{f}`"),
            show(seen[0][i]),
            seen.get(1).map(|v| show(v[i])).unwrap_or_default(),
        );
        r.check(
            seen[0][i] == Some(want[i]),
            &format!("{f} is {:04o}", want[i]),
        );
    }
    let list = |w: &Vec<String>| {
        if w.is_empty() {
            "none".into()
        } else {
            w.join(", ")
        }
    };
    r.row(
        "group- or world-writable files",
        list(&writable[0]),
        writable.get(1).map(list).unwrap_or_default(),
    );
    r.check(writable[0].is_empty(), "nothing group- or world-writable");
    r.summary(
        "`supervise/` 0700, FIFOs and lock 0600, status files 0644 under umask 000",
        if seen
            .get(1)
            .is_some_and(|v| v.iter().zip(want).all(|(m, w)| *m == Some(w)))
        {
            "the same"
        } else if seen.len() > 1 {
            "differs (see the section)"
        } else {
            ""
        },
    );
    r.finish();
}

/// One tool run against a planted directory, and what happened to the victim.
struct Attempt {
    line: String,
    code: i32,
    victim_hit: bool,
}

/// Runs `program args target` and looks at the victim (supervised by the runsv `runsv`).
fn attempt(
    s: &Scratch,
    (victim, runsv): (&Path, i32),
    program: &Path,
    args: &[&str],
    target: &str,
) -> Attempt {
    let before = read_status(victim).expect("victim status");
    let mut c = harness::cmd_clean(program.as_os_str());
    c.args(args).arg(target).current_dir(&s.path);
    let out = harness::run(&mut c, Duration::from_secs(20));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // A command that got through has been acted on once the victim's runsv has handled it.
    wait_handled(victim, runsv);
    let after = read_status(victim).expect("victim status");
    let victim_hit = after.pid != before.pid || after.want != b'u' || after.state != State::Run;
    if victim_hit {
        formats::control::send(victim, b"u").expect("bring the victim back");
        wait_new_run(s, victim, 0, T);
    }
    Attempt {
        line: text.lines().next().unwrap_or("").to_string(),
        code: harness::code(out.status),
        victim_hit,
    }
}

#[test]
fn planted_supervise_symlinks_are_not_followed() {
    harness::require_root(ROOT);
    let s = Scratch::new("rel-planted");
    let victim = service(&s, "victim", RUN);
    let v = runsv_umask0(&s, Impl::Ours, &victim);
    wait_new_run(&s, &victim, 0, T);
    // A directory of another user with `supervise` pointing at the victim's.
    let evil = s.mkdir("evil");
    symlink(victim.join("supervise"), evil.join("supervise")).expect("symlink");
    lchown(evil.join("supervise"), Some(NOBODY), Some(NOBODY)).expect("lchown");
    fs::set_permissions(&evil, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    nix::unistd::chown(
        &evil,
        Some(Uid::from_raw(NOBODY)),
        Some(Gid::from_raw(NOBODY)),
    )
    .unwrap();
    // The same with a real `supervise` whose FIFOs and status are links to the victim's.
    let evil2 = s.mkdir("evil2/supervise");
    for f in ["ok", "control", "status"] {
        symlink(victim.join("supervise").join(f), evil2.join(f)).expect("symlink");
        lchown(evil2.join(f), Some(NOBODY), Some(NOBODY)).expect("lchown");
    }
    for d in [s.join("evil2"), evil2.clone()] {
        nix::unistd::chown(&d, Some(Uid::from_raw(NOBODY)), Some(Gid::from_raw(NOBODY))).unwrap();
    }
    // Links people make on purpose: root's link into a runtime directory (Void), and a user's
    // link into the user's own directory.
    let void = service(&s, "void", RUN);
    s.mkdir("run");
    symlink("../run/supervise.void", void.join("supervise")).unwrap();
    let user = service(&s, "user", RUN);
    let own = s.mkdir("userrun/user");
    symlink(&own, user.join("supervise")).unwrap();
    lchown(user.join("supervise"), Some(NOBODY), Some(NOBODY)).unwrap();
    nix::unistd::chown(
        &own,
        Some(Uid::from_raw(NOBODY)),
        Some(Gid::from_raw(NOBODY)),
    )
    .unwrap();
    let _p1 = runsv_umask0(&s, Impl::Ours, &void);
    let _p2 = runsv_umask0(&s, Impl::Ours, &user);
    wait_new_run(&s, &void, 0, T);
    wait_new_run(&s, &user, 0, T);

    let mut r = Report::new(
        "11-security-planted-links",
        "Security: another user's planted supervise symlinks",
    );
    r.how(
        "A service `victim` runs as root. `evil/` belongs to `nobody` and holds \
         `supervise -> victim/supervise` (a link owned by `nobody`); `evil2/supervise/` \
         belongs to `nobody` and holds links `ok`, `control`, `status` to the victim's. Root \
         runs each tool on them; the victim must not notice. Links made on purpose are \
         followed: root's `supervise -> ../run/supervise.void`, and `nobody`'s link into \
         `nobody`'s own directory. Ours follows a symbolic link at `supervise` or at a file in \
         it only if the link belongs to root or to the caller, or to the owner of its target \
         (the kernel's `protected_symlinks` rule); runit's and daemontools' tools follow any \
         link. `tests/reliability/sup_security.rs`.",
    );
    let ours_sv = harness::bin("sv");
    let ours_svc = harness::bin("svc");
    let ours_svok = harness::bin("svok");
    let ours_svstat = harness::bin("svstat");
    let runit_sv = harness::reference("/usr/bin/sv");
    let dt_svc = harness::reference("/usr/bin/svc");
    let dt_svok = harness::reference("/usr/bin/svok");
    let dt_svstat = harness::reference("/usr/bin/svstat");
    let tools: [(&str, &Path, &Path, &[&str]); 5] = [
        ("`sv down`", &ours_sv, &runit_sv, &["down"]),
        ("`sv status`", &ours_sv, &runit_sv, &["status"]),
        (
            "`svc -d` (daemontools' beside)",
            &ours_svc,
            &dt_svc,
            &["-d"],
        ),
        ("`svok` (daemontools')", &ours_svok, &dt_svok, &[]),
        ("`svstat` (daemontools')", &ours_svstat, &dt_svstat, &[]),
    ];
    let show = |a: &Attempt| {
        format!(
            "`{}` (exit {}){}",
            a.line,
            a.code,
            if a.victim_hit {
                ", **victim stopped**"
            } else {
                ""
            }
        )
    };
    let mut hits = (0, 0);
    for target in ["./evil", "./evil2"] {
        for (name, ours, theirs, args) in tools {
            let o = attempt(&s, (&victim, v.pid()), ours, args, target);
            let t =
                frame::with_runit().then(|| attempt(&s, (&victim, v.pid()), theirs, args, target));
            r.row(
                &format!("{name} {target}"),
                show(&o),
                t.as_ref().map(show).unwrap_or_default(),
            );
            r.check(
                !o.victim_hit,
                &format!("{name} {target} left the victim alone"),
            );
            r.check(
                o.line.contains("refusing symbolic link"),
                &format!("{name} {target} says why it refused"),
            );
            hits.0 += u32::from(o.victim_hit);
            hits.1 += u32::from(t.is_some_and(|t| t.victim_hit));
        }
    }
    for (name, dir) in [
        ("root's link (`void`)", "./void"),
        ("a user's own link (`user`)", "./user"),
    ] {
        let mut c = harness::cmd_clean(ours_sv.as_os_str());
        c.args(["status", dir]).current_dir(&s.path);
        let out = harness::run(&mut c, Duration::from_secs(10));
        let line = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
        r.row(
            &format!("`sv status` through {name}"),
            format!("`{line}`"),
            "",
        );
        r.check(line.starts_with("run: "), &format!("{name} is followed"));
    }
    r.summary(
        format!(
            "victim stopped {} times; every planted link refused with a reason",
            hits.0
        ),
        if frame::with_runit() {
            format!("victim stopped {} times", hits.1)
        } else {
            String::new()
        },
    );
    r.finish();
}

/// The privilege lines of a /proc status text, as `Name: value` pairs.
fn privileges(status: &str) -> Vec<(String, String)> {
    let keys = [
        "Uid",
        "Gid",
        "Groups",
        "CapInh",
        "CapPrm",
        "CapEff",
        "CapAmb",
        "NoNewPrivs",
    ];
    status
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| keys.contains(k))
        .map(|(k, v)| {
            (
                k.to_string(),
                v.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect()
}

/// What a program started through chpst ends up with: its /proc status, seen from inside.
fn through_chpst(imp: Impl, args: &[&str]) -> (String, i32, String) {
    let mut c = imp.cmd("chpst");
    c.args(args);
    // Start from extra supplementary groups, so dropping them is visible.
    // SAFETY: setgroups is async-signal-safe and touches only the child.
    unsafe {
        c.pre_exec(|| {
            let groups: [nix::libc::gid_t; 4] = [0, 4, 6, 27];
            nix::libc::setgroups(groups.len(), groups.as_ptr());
            Ok(())
        });
    }
    let out = harness::run(&mut c, Duration::from_secs(10));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        harness::code(out.status),
        String::from_utf8_lossy(&out.stderr).trim_end().to_string(),
    )
}

/// What one implementation's chpst did.
struct Chpst {
    /// The privilege lines for each case.
    cases: Vec<Vec<(String, String)>>,
    /// Exit code and message of the attempt to regain root.
    regain: (i32, String),
}

fn field<'a>(p: &'a [(String, String)], k: &str) -> &'a str {
    p.iter()
        .find(|(n, _)| n == k)
        .map_or("", |(_, v)| v.as_str())
}

#[test]
fn chpst_drops_every_privilege() {
    harness::require_root(ROOT);
    let mut r = Report::new("11-security-chpst", "Security: chpst drops privileges");
    r.how(
        "chpst runs as root with supplementary groups 0, 4, 6, 27, and starts `cat \
         /proc/self/status`; the ids, groups and capability sets are read from it. Then a \
         dropped process tries to become root again (`chpst -u nobody chpst -u root true`), \
         and a service under runsv drops with `exec chpst -u nobody sleep`, read from \
         `/proc/PID/status` outside. `tests/reliability/sup_security.rs`.",
    );
    let cases: [(&str, &[&str], &str, &str, &str); 2] = [
        (
            "`-u nobody`",
            &["-u", "nobody", "cat", "/proc/self/status"],
            "65534 65534 65534 65534",
            "65534 65534 65534 65534",
            "65534",
        ),
        (
            "`-u :1234:5678:910`",
            &["-u", ":1234:5678:910", "cat", "/proc/self/status"],
            "1234 1234 1234 1234",
            "5678 5678 5678 5678",
            "910 5678",
        ),
    ];
    let (ours, runit) = frame::ours_and_runit(|imp| {
        let mut per = Vec::new();
        for (_, args, _, _, _) in cases {
            let (out, code, _) = through_chpst(imp, args);
            assert_eq!(code, 0, "{} chpst {args:?}", imp.name());
            per.push(privileges(&out));
        }
        let (_, code, err) = through_chpst(imp, &["-u", "nobody", "chpst", "-u", "root", "true"]);
        Chpst {
            cases: per,
            regain: (code, err),
        }
    });
    let (ours, runit) = (&ours, runit.as_ref());
    for (i, (name, _, uid, gid, groups)) in cases.iter().enumerate() {
        let p = &ours.cases[i];
        for k in ["Uid", "Gid", "Groups", "CapPrm", "CapEff", "CapAmb"] {
            r.row(
                &format!("{name}: {k}"),
                field(p, k),
                runit
                    .map(|t| field(&t.cases[i], k).to_string())
                    .unwrap_or_default(),
            );
        }
        r.check(
            field(p, "Uid") == *uid,
            &format!("{name}: every uid dropped"),
        );
        r.check(
            field(p, "Gid") == *gid,
            &format!("{name}: every gid dropped"),
        );
        r.check(
            field(p, "Groups") == *groups,
            &format!("{name}: only the given groups"),
        );
        for k in ["CapPrm", "CapEff", "CapAmb"] {
            r.check(
                field(p, k) == "0000000000000000",
                &format!("{name}: {k} empty"),
            );
        }
    }
    let regain = |t: &Chpst| format!("`{}` (exit {})", t.regain.1, t.regain.0);
    r.row(
        "a dropped process asks for root again",
        regain(ours),
        runit.map(regain).unwrap_or_default(),
    );
    r.check(ours.regain.0 == 111, "root cannot be regained");

    // Under runsv: the service's own /proc entry, read from outside.
    let s = Scratch::new("rel-chpst-runsv");
    let dir = service(&s, "svc", "#!/bin/sh\nexec chpst -u nobody sleep 100000\n");
    let _p = runsv_umask0(&s, Impl::Ours, &dir);
    let pid = wait_new_run(&s, &dir, 0, T).pid;
    let mut p = Vec::new();
    wait_until(T, "the service dropped to nobody", || {
        p = privileges(&harness::read_text(format!("/proc/{pid}/status")));
        field(&p, "Uid") == "65534 65534 65534 65534"
    });
    let shown: Vec<String> = ["Uid", "Gid", "Groups", "CapEff"]
        .iter()
        .map(|k| format!("{k} {}", field(&p, k)))
        .collect();
    r.row(
        "service `exec chpst -u nobody sleep` under our runsv",
        shown.join("; "),
        "",
    );
    r.check(
        field(&p, "Gid") == "65534 65534 65534 65534"
            && field(&p, "Groups") == "65534"
            && field(&p, "CapEff") == "0000000000000000",
        "the service under runsv dropped everything",
    );
    r.summary(
        "uid, gid (real, effective, saved, fs), groups and capabilities all dropped; root not \
         regained",
        runit.map_or(String::new(), |t| {
            if t.cases == ours.cases {
                "the same".to_string()
            } else {
                "differs (see the section)".to_string()
            }
        }),
    );
    r.finish();
}
