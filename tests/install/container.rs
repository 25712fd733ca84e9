//! The FROM scratch image of `examples/container/` (issue 13 item 7), without docker: the tree
//! its Dockerfile's final stage copies is laid out from that Dockerfile's own lines (the
//! build stage's `scripts/install.sh --multicall` run on the binaries under test, then every
//! `COPY`, `ENV` and the `ENTRYPOINT`), and its entry point runs as process 1 of a new pid
//! namespace, chrooted into the tree (`unshare --pid --fork --mount-proc --root`). So the
//! example cannot drift from what is tested: a line this test does not know fails it.
//!
//! The tree is the image's exactly on the static musl leg of the test command
//! (`TEST_BIN_DIR`): nothing but runit-rs, its links and the services. On the glibc leg the
//! binaries under test are dynamic, so the loader and the libraries `ldd` names are copied in
//! too (and said to be).
//!
//! Checked: the service runs and its line arrives in its svlogd log directory and, through
//! svlogd's `copy stdout`, on the container's standard output; runsvdir as process 1 reaps an
//! orphan (left by a process entered into the namespace, as `docker exec` does); TERM (what
//! `docker stop` sends) stops everything in order and exits 0; HUP makes runsvdir TERM every
//! runsv and exit 111 (runit's runsvdir); and afterwards no process of the container is left.

use crate::*;
use harness::{alive, child_pids, processes_under, wait_until, wait_until_or, Proc};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::process::Stdio;

fn example() -> PathBuf {
    harness::workspace("examples/container")
}

/// The Dockerfile's instructions: (keyword in capitals, the rest), continuation lines
/// joined, comments and blank lines left out.
fn instructions() -> Vec<(String, String)> {
    let text = read_text(example().join("Dockerfile"));
    assert!(!text.is_empty(), "examples/container/Dockerfile is missing");
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let t = line.trim();
        if cur.is_empty() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        match t.strip_suffix('\\') {
            Some(head) => {
                cur.push_str(head);
                cur.push(' ');
            }
            None => {
                cur.push_str(t);
                let (k, rest) = cur.split_once(char::is_whitespace).unwrap_or((&cur, ""));
                out.push((k.to_ascii_uppercase(), rest.trim().to_string()));
                cur.clear();
            }
        }
    }
    assert!(cur.is_empty(), "the Dockerfile ends in a continuation line");
    out
}

/// An exec-form JSON array of plain strings: `["/bin/runsvdir", "/etc/service"]`.
fn json_argv(s: &str) -> Vec<String> {
    let inner = s
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or_else(|| panic!("not an exec-form array: {s}"));
    inner
        .split(',')
        .map(|w| {
            let w = w.trim();
            assert!(
                w.len() >= 2 && w.starts_with('"') && w.ends_with('"') && !w[1..].contains('\\'),
                "not a plain JSON string: {w}"
            );
            w[1..w.len() - 1].to_string()
        })
        .collect()
}

/// A path of the image (or of the build stage) inside `base`.
fn inside(base: &Path, path: &str) -> PathBuf {
    base.join(path.trim_start_matches('/'))
}

/// `cp -a`: Docker's COPY of a directory copies its contents, modes and links kept.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    let o = harness::run(
        Command::new(harness::reference("/usr/bin/cp"))
            .arg("-a")
            .arg(from.join("."))
            .arg(to),
        T,
    );
    assert!(o.status.success(), "cp -a {from:?}: {}", transcript(&o));
}

/// The image's tree in `s/root` (and the build stage's files in `s/build`); returns the
/// entry point's argv and the image's environment.
fn lay_out(s: &Scratch) -> (Vec<String>, Vec<(String, String)>) {
    let all = instructions();
    let froms: Vec<usize> = (0..all.len()).filter(|&i| all[i].0 == "FROM").collect();
    assert_eq!(froms.len(), 2, "a build stage and the image: {all:?}");
    assert_eq!(all[froms[1]].1, "scratch", "the image is FROM scratch");
    let stage = all[froms[0]].1.rsplit(' ').next().unwrap().to_string();
    let build = s.mkdir("build");
    let tree = s.mkdir("root");

    // The build stage's install, on the binaries under test instead of its own musl build.
    let installs: Vec<&String> = all[froms[0]..froms[1]]
        .iter()
        .filter(|(k, rest)| k == "RUN" && rest.starts_with("scripts/install.sh"))
        .map(|(_, rest)| rest)
        .collect();
    assert_eq!(
        installs.len(),
        1,
        "one scripts/install.sh line in the build stage"
    );
    let mut args = Vec::new();
    let mut from = false;
    for w in installs[0].split_whitespace().skip(1) {
        if w.starts_with("--from=") {
            from = true;
            args.push(format!("--from={}", harness::bin_dir().display()));
        } else if let Some(d) = w.strip_prefix("--destdir=") {
            args.push(format!("--destdir={}", inside(&build, d).display()));
        } else {
            args.push(w.to_string());
        }
    }
    assert!(from, "the install takes the build's binaries: --from=DIR");
    assert!(args.contains(&"--multicall".to_string()), "{args:?}");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(transcript(&install(s, &args, &[])), SILENT_OK, "{args:?}");

    let mut entry = Vec::new();
    let mut env = Vec::new();
    for (k, rest) in &all[froms[1] + 1..] {
        match k.as_str() {
            "COPY" => {
                let w: Vec<&str> = rest.split_whitespace().collect();
                let (src, dst) = match w.as_slice() {
                    [f, src, dst] => {
                        assert_eq!(*f, format!("--from={stage}"), "COPY {rest}");
                        (inside(&build, src), *dst)
                    }
                    [src, dst] => (harness::workspace(src), *dst),
                    _ => panic!("a COPY this test does not know: {rest}"),
                };
                assert!(src.is_dir(), "COPY {rest}: {src:?} is no directory");
                copy_tree(&src, &inside(&tree, dst));
            }
            "ENV" => {
                let (n, v) = rest.split_once('=').expect("ENV NAME=VALUE");
                env.push((n.to_string(), v.to_string()));
            }
            "ENTRYPOINT" => entry = json_argv(rest),
            _ => panic!("an instruction this test does not know: {k} {rest}"),
        }
    }
    assert!(!entry.is_empty(), "no ENTRYPOINT");

    // What the container runtime adds: the mount point of /proc (docker mounts it there).
    // On a dynamic build only, what it loads.
    fs::create_dir_all(tree.join("proc")).unwrap();
    let o = harness::run(
        Command::new(harness::reference("/usr/bin/ldd")).arg(tree.join("bin/runit-rs")),
        T,
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let libs: Vec<&str> = out
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
        .collect();
    if !libs.is_empty() {
        // The musl leg's binaries are static: there the tree must be the image's exactly.
        let dir = harness::bin_dir();
        assert!(
            !dir.to_string_lossy().contains("-musl"),
            "the musl build in {dir:?} is not static: {out}"
        );
        eprintln!("a dynamic build: copying {libs:?} into the tree");
    }
    for l in libs {
        let to = inside(&tree, l);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(l, &to).unwrap_or_else(|e| panic!("copy {l}: {e}"));
    }
    (entry, env)
}

/// The image's entry point running as process 1.
struct Container {
    /// `unshare`, whose child is process 1.
    unshare: Proc,
    /// Process 1, as this machine numbers it.
    init: i32,
}

fn boot(s: &Scratch) -> Container {
    let (entry, env) = lay_out(s);
    let out = fs::File::create(s.join("stdout")).unwrap();
    let err = fs::File::create(s.join("stderr")).unwrap();
    let mut c = Command::new(harness::reference("/usr/bin/unshare"));
    // A container has its image's environment and nothing else (libfaketime's LD_PRELOAD
    // would name a file outside the tree).
    c.env_clear()
        .envs(env)
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(format!("--root={}", s.join("root").display()))
        .args(&entry)
        .current_dir(&s.path)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    let unshare = Proc::spawn_group(&mut c);
    let mut init = 0;
    wait_until(T, "process 1 of the namespace", || {
        init = child_pids(unshare.pid()).first().copied().unwrap_or(0);
        init > 0
    });
    assert_eq!(
        read_text(format!("/proc/{init}/status"))
            .lines()
            .find(|l| l.starts_with("NSpid:"))
            .and_then(|l| l.split_whitespace().last()),
        Some("1"),
        "runsvdir is not process 1 of its namespace"
    );
    Container { unshare, init }
}

/// The heartbeat of the example's service: its logger's status, once a second.
const LINE: &str = "run: /etc/service/hello/log: (pid ";

/// Waits until the service's line is in its log directory and on the container's stdout.
fn wait_logged(s: &Scratch) {
    let current = s.join("root/etc/service/hello/log/main/current");
    wait_until_or(
        T,
        "the service's line in its log directory",
        &mut || {
            harness::whole_lines(&current)
                .iter()
                .any(|l| l.contains(LINE))
        },
        || {
            format!(
                "current: {:?}\nstderr: {}",
                read_text(&current),
                read_text(s.join("stderr"))
            )
        },
    );
    // svlogd -tt: a UTC stamp, a blank, the line.
    for l in harness::whole_lines(&current) {
        let (stamp, line) = l.split_once(' ').unwrap();
        assert_eq!(stamp.len(), "2026-01-31_12:00:00.12345".len(), "{l}");
        assert!(line.starts_with(LINE), "{l}");
    }
    wait_until(
        T,
        "the line on the container's stdout (copy stdout)",
        || {
            harness::whole_lines(s.join("stdout"))
                .iter()
                .any(|l| l.starts_with(&format!("hello | {LINE}")))
        },
    );
}

/// Every process of the container running now (by working directory or command line under
/// the scratch directory; unshare's included).
fn processes(s: &Scratch) -> Vec<i32> {
    processes_under(&s.path)
}

fn command(pid: i32) -> String {
    read_text(format!("/proc/{pid}/cmdline")).replace('\0', " ")
}

/// A process entered into the namespace (`nsenter`, as `docker exec` does) that leaves an
/// orphan behind: `sleep ARG`, whose parent exits at once. Returns its pid here, once
/// process 1 has adopted it.
fn orphan(s: &Scratch, c: &Container, arg: &str) -> i32 {
    let o = harness::run(
        Command::new(harness::reference("/usr/bin/nsenter"))
            .arg(format!("--target={}", c.init))
            .arg("--pid")
            .args(["/bin/sh", "-c"])
            .arg(format!("sleep {arg} </dev/null >/dev/null 2>&1 &"))
            .current_dir(&s.path),
        T,
    );
    assert!(o.status.success(), "nsenter: {}", transcript(&o));
    let mut pid = 0;
    wait_until(T, "the orphan adopted by process 1", || {
        pid = child_pids(c.init)
            .into_iter()
            .find(|&p| command(p) == format!("sleep {arg} "))
            .unwrap_or(0);
        pid > 0
    });
    pid
}

/// Waits until every one of `pids`, and every process of the container, is gone.
fn wait_all_gone(s: &Scratch, pids: &[i32]) {
    wait_until_or(
        T,
        "every process of the container gone",
        &mut || pids.iter().all(|&p| !alive(p)) && processes(s).is_empty(),
        || {
            let left: Vec<String> = processes(s)
                .into_iter()
                .chain(pids.iter().copied().filter(|&p| alive(p)))
                .map(|p| format!("{p}: {}", command(p)))
                .collect();
            format!("left: {left:?}")
        },
    );
}

/// What runs once the service logs: process 1, the service's runsv (which runs its logger
/// too), and svlogd (runit-rs as the `#!` interpreter of `log/run`).
fn running(s: &Scratch, c: &Container) -> Vec<i32> {
    let mut ps = Vec::new();
    wait_until_or(
        T,
        "runsvdir, runsv and svlogd running",
        &mut || {
            ps = processes(s);
            let cmds: Vec<String> = ps.iter().map(|&p| command(p)).collect();
            let n = |cmd: &str| cmds.iter().filter(|c| *c == cmd).count();
            n("/bin/runsvdir /etc/service ") == 1
                && n("runsv hello ") == 1
                && n("/bin/runit-rs -S svlogd -tt main ./run ") == 1
        },
        || {
            let cmds: Vec<String> = processes(s).iter().map(|&p| command(p)).collect();
            format!("{cmds:?}")
        },
    );
    assert!(ps.contains(&c.init));
    ps
}

#[test]
fn the_scratch_image_runs_logs_reaps_and_stops_on_term() {
    let s = Scratch::new("container-term");
    let mut c = boot(&s);
    wait_logged(&s);
    let before = running(&s, &c);

    // An orphan is adopted by process 1; killed, it is reaped (gone, not a zombie).
    let o = orphan(&s, &c, "4711");
    kill(Pid::from_raw(o), Signal::SIGKILL).unwrap();
    wait_until_or(
        T,
        "the orphan reaped by process 1",
        &mut || !Path::new(&format!("/proc/{o}")).exists(),
        || read_text(format!("/proc/{o}/stat")),
    );
    assert!(alive(c.init), "process 1 is gone");

    // One left running at the end: TERM stops it with everything else.
    let o = orphan(&s, &c, "4712");
    let lines = harness::whole_lines(s.join("root/etc/service/hello/log/main/current")).len();
    kill(Pid::from_raw(c.init), Signal::SIGTERM).unwrap();
    let st = c.unshare.wait_timeout(T);
    let err = read_text(s.join("stderr"));
    assert_eq!(code(st), 0, "exit after TERM; stderr: {err}");
    assert!(!err.contains("timed out"), "not an ordered shutdown: {err}");
    let mut pids = before;
    pids.push(o);
    wait_all_gone(&s, &pids);
    // The logger drained and stopped: the log ends in whole lines, none lost.
    let current = read_text(s.join("root/etc/service/hello/log/main/current"));
    assert!(current.ends_with('\n'), "{current:?}");
    assert!(current.lines().count() >= lines, "{current:?}");
}

#[test]
fn hup_to_process_one_terms_every_runsv_and_exits_111() {
    let s = Scratch::new("container-hup");
    let mut c = boot(&s);
    wait_logged(&s);
    let before = running(&s, &c);
    let o = orphan(&s, &c, "4713");
    kill(Pid::from_raw(c.init), Signal::SIGHUP).unwrap();
    let st = c.unshare.wait_timeout(T);
    assert_eq!(
        code(st),
        111,
        "exit after HUP; stderr: {}",
        read_text(s.join("stderr"))
    );
    let mut pids = before;
    pids.push(o);
    wait_all_gone(&s, &pids);
}
