//! Scenario 11, svlogd's part: symbolic links planted in a log directory, and the
//! processor's privileges. Each case plants a link named `current`, `lock`, `state`,
//! `newstate` or an archive name (`@….u`, `@….s`), pointing into another directory that holds
//! a file `victim`, runs svlogd over some input (with a processor or compression where the
//! file is only used then) and checks that nothing in the other directory was created,
//! changed or read into the log directory. Then svlogd runs as `nobody` through chpst, and its
//! processor reports its ids from /proc.

use crate::frame::{self, Report};
use crate::log_measured::svlogd_with_input;
use harness::{comes_true, Impl, Scratch};
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::time::Duration;

const SECRET: &str = "SECRET-bf6c1d\n";

/// One planted link.
struct Case {
    name: &'static str,
    /// The link's name in the log directory.
    link: &'static str,
    /// Its target, relative to the log directory (`../other/...`).
    target: &'static str,
    /// The log directory's config.
    config: &'static str,
    /// Where runit's svlogd is not run (our additions).
    ours_only: bool,
    /// Whether every line must be in the log at the end (not with `n2`).
    all_lines: bool,
}

const CASES: [Case; 8] = [
    Case {
        name: "`current` → the other directory's file (u+x, so \"closed cleanly\")",
        link: "current",
        target: "../other/victim",
        config: "",
        ours_only: false,
        all_lines: true,
    },
    Case {
        name: "`current` → a new name in the other directory",
        link: "current",
        target: "../other/created",
        config: "",
        ours_only: false,
        all_lines: true,
    },
    Case {
        name: "`lock` → a new name in the other directory",
        link: "lock",
        target: "../other/created",
        config: "",
        ours_only: false,
        all_lines: true,
    },
    Case {
        name: "`state` → the other directory's file (processor copies state)",
        link: "state",
        target: "../other/victim",
        config: "s100\n!cat; cat <&4 >&5\n",
        ours_only: false,
        all_lines: true,
    },
    Case {
        name: "`state` → a new name in the other directory (processor)",
        link: "state",
        target: "../other/created",
        config: "s100\n!cat\n",
        ours_only: false,
        all_lines: true,
    },
    Case {
        name: "`newstate` → the other directory's file (processor)",
        link: "newstate",
        target: "../other/victim",
        config: "s100\n!cat; echo new >&5\n",
        ours_only: false,
        all_lines: true,
    },
    Case {
        name: "`@….u` → the other directory's file (processor)",
        link: "@400000000000000100000000.u",
        target: "../other/victim",
        config: "s100\n!cat\n",
        ours_only: false,
        all_lines: true,
    },
    Case {
        name: "`@….s` → the other directory's file (`compress gzip`, `n2`)",
        link: "@400000000000000100000000.s",
        target: "../other/victim",
        config: "s100\nn2\ncompress gzip\n",
        ours_only: true,
        all_lines: false,
    },
];

/// What the other directory looks like: names, and the victim's content and mode.
fn other_state(other: &Path) -> String {
    let mut out = String::new();
    for n in harness::names(other) {
        let p = other.join(&n);
        let md = fs::symlink_metadata(&p).expect("stat");
        out.push_str(&format!(
            "{n} {:o} {:?}\n",
            md.permissions().mode() & 0o7777,
            fs::read_to_string(&p).unwrap_or_default()
        ));
    }
    out
}

/// A regular file's text (gzip decompressed); empty for anything else, links included.
fn file_text(p: &Path) -> String {
    if !fs::symlink_metadata(p).is_ok_and(|m| m.is_file()) {
        return String::new();
    }
    if p.extension().is_some_and(|e| e == "gz") {
        let out = std::process::Command::new("gzip")
            .arg("-dc")
            .arg(p)
            .output()
            .expect("gzip");
        return String::from_utf8_lossy(&out.stdout).into_owned();
    }
    harness::read_text(p)
}

/// Regular files of the log directory (links not followed) that hold the secret, gzip
/// included.
fn leaked(log: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for n in harness::names(log) {
        let p = log.join(&n);
        let Ok(md) = fs::symlink_metadata(&p) else {
            continue;
        };
        if !md.is_file() {
            continue;
        }
        let text = file_text(&p);
        if text.contains(SECRET.trim_end()) {
            out.push(n);
        }
    }
    out
}

/// One case's outcome: what changed in the other directory, what leaked into the log.
struct Outcome {
    changed: bool,
    leaked: Vec<String>,
    code: i32,
    stderr: String,
    lines_kept: usize,
    all_lines: bool,
}

impl Outcome {
    fn cell(&self) -> String {
        let mut s = if self.changed {
            "**wrote into the other directory**".to_string()
        } else {
            "other directory untouched".to_string()
        };
        if !self.leaked.is_empty() {
            s.push_str(&format!(
                "; **its file copied into the log** ({})",
                self.leaked.join(", ")
            ));
        }
        s.push_str(&format!(
            "; exit {}; {} of 50 lines in the log",
            self.code, self.lines_kept
        ));
        let says: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.contains("link") || l.contains("symbolic"))
            .collect();
        if let Some(l) = says.first() {
            s.push_str(&format!("; `{l}`"));
        }
        s
    }
}

fn run_case(s: &Scratch, imp: Impl, n: usize, case: &Case) -> Outcome {
    let base = s.mkdir(format!("{}-{n}", imp.name()));
    let other = base.join("other");
    let log = base.join("log");
    fs::create_dir_all(&other).expect("mkdir other");
    fs::create_dir_all(&log).expect("mkdir log");
    fs::write(other.join("victim"), SECRET).expect("victim");
    fs::set_permissions(other.join("victim"), fs::Permissions::from_mode(0o744)).expect("chmod");
    if !case.config.is_empty() {
        fs::write(log.join("config"), case.config).expect("config");
    }
    symlink(case.target, log.join(case.link)).expect("plant the link");
    let before = other_state(&other);
    let input: String = (1..=50).map(|i| format!("line {i}\n")).collect();
    let logs = format!("{}-{n}/log", imp.name());
    let ended = svlogd_with_input(s, imp, &[&logs], input.as_bytes(), Duration::from_secs(30));
    // Nothing of it left running (a processor, say) that could still touch anything.
    harness::wait_until(
        Duration::from_secs(20),
        "nothing left running in the log",
        || harness::processes_under(&s.join(&logs)).is_empty(),
    );
    let after = other_state(&other);
    // The regular files in the order they were written (archives by name, then `current`;
    // a line can be split between two files by the size limit).
    let mut text = String::new();
    let mut names: Vec<String> = harness::names(&log)
        .into_iter()
        .filter(|n| n.starts_with('@'))
        .collect();
    names.push("current".into());
    for name in names {
        text.push_str(&file_text(&log.join(&name)));
    }
    let kept: std::collections::BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("line "))
        .collect();
    Outcome {
        changed: before != after,
        leaked: leaked(&log),
        code: ended.code,
        stderr: ended.stderr,
        lines_kept: kept.len(),
        all_lines: case.all_lines,
    }
}

/// The `Uid:`, `Gid:` and `Groups:` lines a processor of svlogd run as `nobody` reports.
fn processor_ids(s: &Scratch, imp: Impl) -> String {
    let log = s.mkdir(format!("ids-{}", imp.name()));
    fs::write(
        log.join("config"),
        "s100\n!cat >/dev/null; grep -E '^(Uid|Gid|Groups):' /proc/self/status\n",
    )
    .expect("config");
    nix::unistd::chown(&log, Some(65534.into()), Some(65534.into())).expect("chown");
    let input: String = (1..=20).map(|i| format!("line {i}\n")).collect();
    let mut c = imp.cmd("chpst");
    c.args(["-u", "nobody"])
        .arg(imp.bin_for_anyone(s, "svlogd"))
        .arg(&log)
        .current_dir(&s.path);
    let out = harness::run_with_input(&mut c, input.as_bytes(), Duration::from_secs(30));
    assert_eq!(
        harness::code(out.status),
        0,
        "{} svlogd as nobody: {}",
        imp.name(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut found = String::new();
    for n in harness::names(&log) {
        if n.ends_with(".s") {
            found = harness::read_text(log.join(&n));
            break;
        }
    }
    found
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn svlogd_planted_links_and_processor_privileges() {
    let s = Scratch::new("rel-seclinks");
    let mut r = Report::new(
        "11-security-svlogd-links",
        "Security: svlogd and planted links",
    );
    r.how(
        "For each case a log directory gets a symbolic link planted under one of the names \
         svlogd writes or reads, pointing into a sibling directory `other` that holds `victim` \
         (a secret line, mode 0744); svlogd then gets 50 lines and the end of input, with a \
         processor or compression where the name is only used then. Checked: `other` is \
         exactly as before (names, modes, contents), no regular file of the log directory \
         holds the secret, and the lines are in the log. Then svlogd runs as `nobody` \
         (`chpst -u nobody`) with a processor that prints its `Uid`, `Gid` and `Groups` from \
         /proc/self/status into the archive. `tests/reliability/log_security.rs`.",
    );
    let mut n = 0;
    let mut bad_ours = 0;
    let mut bad_runit = 0;
    for case in &CASES {
        n += 1;
        let ours = run_case(&s, Impl::Ours, n, case);
        let runit = (frame::with_runit() && !case.ours_only).then(|| {
            n += 1;
            run_case(&s, Impl::Runit, n, case)
        });
        let unsafe_ = |o: &Outcome| o.changed || !o.leaked.is_empty();
        bad_ours += usize::from(unsafe_(&ours));
        bad_runit += usize::from(runit.as_ref().is_some_and(unsafe_));
        r.row(
            case.name,
            ours.cell(),
            runit.as_ref().map(Outcome::cell).unwrap_or_else(|| {
                if case.ours_only && frame::with_runit() {
                    "(not runit's: ignores `compress`)".into()
                } else {
                    String::new()
                }
            }),
        );
        r.check(
            !ours.changed,
            &format!("{}: other directory untouched", case.name),
        );
        r.check(
            ours.leaked.is_empty(),
            &format!("{}: nothing read through the link", case.name),
        );
        r.check(ours.code == 0, &format!("{}: exit 0", case.name));
        r.check(
            !ours.all_lines || ours.lines_kept == 50,
            &format!("{}: every line in the log", case.name),
        );
    }
    let ids_ours = processor_ids(&s, Impl::Ours);
    let ids_runit = frame::with_runit().then(|| processor_ids(&s, Impl::Runit));
    r.row(
        "processor's ids, svlogd run as `nobody`",
        &ids_ours,
        ids_runit.clone().unwrap_or_default(),
    );
    let nobody = ids_ours
        .split("; ")
        .all(|l| l.split(' ').skip(1).all(|v| v == "65534"));
    r.check(
        nobody && ids_ours.contains("Uid:") && ids_ours.contains("Groups:"),
        "the processor runs with the logger's ids only",
    );
    r.summary(
        format!(
            "{bad_ours} of {} planted links followed; processor as nobody: {}",
            CASES.len(),
            if nobody { "yes" } else { "no" }
        ),
        if frame::with_runit() {
            format!(
                "{bad_runit} of {} planted links followed",
                CASES.iter().filter(|c| !c.ours_only).count()
            )
        } else {
            String::new()
        },
    );
    r.note(
        "Ours opens every file inside a log directory with O_NOFOLLOW (the directory itself \
         and `config` may still be links, as admins use them); a link planted as `current`, \
         `lock` or `state` is removed with a warning and a real file takes its place, and a \
         link with an archive's name is never processed, compressed or forwarded (pruning \
         removes the link, not its target). `newstate` and a processor's `.t` were already \
         removed before each processor run.",
    );
    r.finish();
}

/// How a hostile collector treats each connection.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Hostile {
    /// Sends 64 KiB of random bytes at once, then reads and discards.
    Garbage,
    /// Resets every connection at once (SO_LINGER 0).
    Reset,
    /// Accepts and never reads: the connection's buffers fill.
    Slowloris,
    /// Sends without end (up to 256 MiB a connection) and never reads.
    Huge,
}

const HOSTILE: [Hostile; 4] = [
    Hostile::Garbage,
    Hostile::Reset,
    Hostile::Slowloris,
    Hostile::Huge,
];

/// A TCP listener on 127.0.0.1 served by a thread until `stop`; counts connections and
/// (for the target) the bytes read.
struct Listener {
    port: u16,
    accepted: std::sync::Arc<std::sync::atomic::AtomicU64>,
    received: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn listen(
    addr: &str,
    behaviour: Option<Hostile>,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Option<Listener> {
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;
    let l = std::net::TcpListener::bind(addr).ok()?;
    l.set_nonblocking(true).expect("nonblocking");
    let port = l.local_addr().expect("addr").port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (acc, rec, stop) = (accepted.clone(), received.clone(), stop.clone());
    let thread = std::thread::spawn(move || {
        let mut conns: Vec<std::net::TcpStream> = Vec::new();
        let mut rng = harness::Rng::new(0xbad_c0ffee);
        let garbage = rng.bytes(64 * 1024);
        let mut sent: Vec<u64> = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        while !stop.load(Ordering::Relaxed) {
            while let Ok((c, _)) = l.accept() {
                acc.fetch_add(1, Ordering::Relaxed);
                c.set_nonblocking(true).expect("nonblocking");
                match behaviour {
                    Some(Hostile::Reset) => {
                        let _ = socket_linger_zero(&c);
                        drop(c);
                        continue;
                    }
                    Some(Hostile::Garbage) => {
                        let _ = (&c).write(&garbage);
                    }
                    _ => {}
                }
                conns.push(c);
                sent.push(0);
            }
            for (c, sent) in conns.iter_mut().zip(sent.iter_mut()) {
                match behaviour {
                    None | Some(Hostile::Garbage) => {
                        while let Ok(n) = c.read(&mut buf) {
                            if n == 0 {
                                break;
                            }
                            if behaviour.is_none() {
                                rec.lock().expect("lock").extend_from_slice(&buf[..n]);
                            }
                        }
                    }
                    Some(Hostile::Huge) => {
                        while *sent < 256 << 20 {
                            match c.write(&garbage) {
                                Ok(n) if n > 0 => *sent += n as u64,
                                _ => break,
                            }
                        }
                    }
                    _ => {}
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    Some(Listener {
        port,
        accepted,
        received,
        thread: Some(thread),
    })
}

/// SO_LINGER 0: closing sends a reset.
fn socket_linger_zero(c: &std::net::TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let l = nix::libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt with a valid fd and a linger struct of the right size.
    let r = unsafe {
        nix::libc::setsockopt(
            c.as_raw_fd(),
            nix::libc::SOL_SOCKET,
            nix::libc::SO_LINGER,
            (&l as *const nix::libc::linger).cast(),
            std::mem::size_of::<nix::libc::linger>() as u32,
        )
    };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

impl Listener {
    fn accepted(&self) -> u64 {
        self.accepted.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn join(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A UDP socket on `addr` counting datagrams until `stop`.
fn listen_udp(
    addr: &str,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Option<(
    u16,
    std::sync::Arc<std::sync::atomic::AtomicU64>,
    std::thread::JoinHandle<()>,
)> {
    use std::sync::atomic::Ordering;
    let u = std::net::UdpSocket::bind(addr).ok()?;
    u.set_read_timeout(Some(Duration::from_millis(20)))
        .expect("timeout");
    let port = u.local_addr().expect("addr").port();
    let n = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (count, stop) = (n.clone(), stop.clone());
    let t = std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        while !stop.load(Ordering::Relaxed) {
            if u.recv(&mut buf).is_ok() {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    Some((port, n, t))
}

/// The peak resident memory of a running process (VmHWM), KiB.
fn vmhwm(pid: i32) -> u64 {
    harness::status_kib(pid, "VmHWM").unwrap_or(0)
}

/// A self-signed CA certificate (PEM) for the `ca=` of `>tls` lines.
fn ca_file(s: &Scratch) -> std::path::PathBuf {
    let openssl = harness::reference("/usr/bin/openssl");
    let out = harness::run(
        std::process::Command::new(openssl)
            .current_dir(&s.path)
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=reliability",
            ]),
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "openssl: {out:?}");
    s.join("ca.pem")
}

#[test]
fn forwarder_connects_only_where_config_says_and_survives_hostile_collectors() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let secs = frame::size(3, 10);
    let s = Scratch::new("rel-secfwd");
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let ca = ca_file(&s);
    let mut target = listen("127.0.0.1:0", None, &stop).expect("target listener");
    // Decoys: the syslog ports and two free ones, TCP and UDP; nothing may arrive there.
    let mut decoys: Vec<(String, Listener)> = Vec::new();
    for addr in [
        "127.0.0.1:514",
        "127.0.0.1:601",
        "127.0.0.1:6514",
        "127.0.0.1:0",
        "[::1]:514",
    ] {
        if let Some(l) = listen(addr, None, &stop) {
            decoys.push((
                format!("tcp {}", addr.replace(":0", &format!(":{}", l.port))),
                l,
            ));
        }
    }
    let udp_target = listen_udp("127.0.0.1:0", &stop).expect("udp target");
    let mut udp_decoys = Vec::new();
    for addr in ["127.0.0.1:514", "[::1]:514"] {
        if let Some(u) = listen_udp(addr, &stop) {
            udp_decoys.push((format!("udp {addr}"), u));
        }
    }
    // The hostile collectors, TCP and TLS.
    let mut hostile = Vec::new();
    let mut config = format!(
        ">tcp 127.0.0.1:{}\n>udp localhost:{}\n",
        target.port, udp_target.0
    );
    for h in HOSTILE {
        for tls in [false, true] {
            let l = listen("127.0.0.1:0", Some(h), &stop).expect("hostile listener");
            if tls {
                config.push_str(&format!(">tls 127.0.0.1:{} ca={}\n", l.port, ca.display()));
            } else {
                config.push_str(&format!(">tcp 127.0.0.1:{}\n", l.port));
            }
            hostile.push((h, tls, l));
        }
    }
    let log = s.mkdir("log");
    s.write("log/config", &config);
    let err = fs::File::create(s.join("stderr")).expect("stderr");
    let mut c = Impl::Ours.cmd("svlogd");
    c.arg("log")
        .current_dir(&s.path)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(err);
    let mut p = harness::Proc::spawn_group(&mut c);
    let pid = p.pid();
    let started = std::time::Instant::now();
    let mut n = 0u64;
    while started.elapsed() < Duration::from_secs(secs) {
        let chunk: String = (n + 1..=n + 50).map(|i| format!("line {i}\n")).collect();
        n += 50;
        p.send(chunk.as_bytes());
        std::thread::sleep(Duration::from_millis(25));
    }
    // Every line in the log locally, at once, whatever the collectors do.
    let local_ok = comes_true(Duration::from_secs(20), || {
        harness::read_text(log.join("current")).contains(&format!("line {n}\n"))
    });
    // Octet-counted frames: `LEN <PRI>1 TIME HOST APP - - - line N`, no newline between.
    let numbers = |data: &[u8]| -> std::collections::BTreeSet<u64> {
        let text = String::from_utf8_lossy(data);
        text.split(" - - - line ")
            .skip(1)
            .filter_map(|rest| {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            })
            .collect()
    };
    let target_ok = comes_true(Duration::from_secs(10), || {
        numbers(&target.received.lock().expect("lock")).len() as u64 == n
    });
    let peak = vmhwm(pid);
    let alive = p.is_running();
    p.signal(nix::sys::signal::Signal::SIGTERM);
    let t0 = std::time::Instant::now();
    let code = if comes_true(Duration::from_secs(10), || !p.is_running()) {
        Some(harness::code(p.wait_timeout(Duration::from_secs(1))))
    } else {
        None
    };
    let term_took = t0.elapsed();
    stop.store(true, Ordering::Relaxed);
    target.join();
    let stderr = harness::read_text(s.join("stderr"));
    let local_lines = harness::read_text(log.join("current")).lines().count() as u64;
    let mut r = Report::new("11-security-forwarder", "Security: the forwarder");
    r.how(&format!(
        "One svlogd with one log directory whose `config` has `>tcp 127.0.0.1:P` (a collector \
         that reads), `>udp localhost:Q`, and eight hostile collectors on 127.0.0.1, four over \
         `>tcp` and the same four over `>tls … ca=` (a self-signed CA): one sends 64 KiB of \
         random bytes on connecting, one resets every connection, one accepts and never \
         reads, one sends without end (up to 256 MiB a connection) and never reads. Decoy \
         listeners (TCP on 127.0.0.1 ports 514, 601, 6514 and a free port, and [::1]:514; UDP \
         on 127.0.0.1:514 and [::1]:514, where they could be bound) count any connection or \
         datagram. svlogd gets 50 lines every 25 ms for {secs} s, then TERM. Runit's svlogd \
         has no forwarder (it ignores `>` lines). `tests/reliability/log_security.rs`."
    ));
    r.row("lines written", frame::count(n), "");
    r.row(
        "lines in the local log / all there within 5 s",
        format!(
            "{} / {}",
            frame::count(local_lines),
            if local_ok { "yes" } else { "no" }
        ),
        "",
    );
    r.row(
        "lines at the reading collector (`>tcp`) within 10 s",
        frame::count(numbers(&target.received.lock().expect("lock")).len() as u64),
        "",
    );
    let udp_got = udp_target.1.load(Ordering::Relaxed);
    r.row(
        "datagrams at `localhost:Q` (127.0.0.1)",
        frame::count(udp_got),
        "",
    );
    let mut decoy_hits = 0;
    for (name, l) in &decoys {
        decoy_hits += l.accepted();
        r.row(&format!("connections to decoy {name}"), l.accepted(), "");
    }
    for (name, (_, count, _)) in &udp_decoys {
        let got = count.load(Ordering::Relaxed);
        decoy_hits += got;
        r.row(&format!("datagrams to decoy {name}"), got, "");
    }
    for (h, tls, l) in &hostile {
        r.row(
            &format!(
                "{} collector ({}): connections made",
                format!("{h:?}").to_lowercase(),
                if *tls { "TLS" } else { "TCP" }
            ),
            l.accepted(),
            "",
        );
    }
    r.row(
        "svlogd alive after the run / peak memory (VmHWM)",
        format!(
            "{} / {}",
            if alive { "yes" } else { "no" },
            frame::kib(peak)
        ),
        "",
    );
    r.row(
        "TERM: exit code, time",
        match code {
            Some(c) => format!("{c}, {}", frame::secs(term_took)),
            None => "no exit within 10 s".into(),
        },
        "",
    );
    let mut warnings: Vec<&str> = stderr.lines().collect();
    warnings.sort_unstable();
    warnings.dedup();
    r.row(
        "distinct stderr lines (first three)",
        warnings
            .iter()
            .take(3)
            .map(|l| format!("`{l}`"))
            .collect::<Vec<_>>()
            .join(" "),
        "",
    );
    r.check(
        decoy_hits == 0,
        "no connection or datagram anywhere config does not say",
    );
    r.check(local_ok, "local logging never waits for a collector");
    r.check(target_ok, "the reading collector gets every line");
    r.check(udp_got > 0, "`localhost` resolved and used");
    r.check(alive, "no hostile collector crashes svlogd");
    r.check(!stderr.contains("panicked"), "no panic");
    r.check(code == Some(0), "exit 0 on TERM");
    r.check(
        peak < 64 * 1024,
        "memory bounded whatever a collector sends",
    );
    for (h, tls, l) in &hostile {
        r.check(
            l.accepted() > 0,
            &format!(
                "{h:?} ({}) collector was tried",
                if *tls { "TLS" } else { "TCP" }
            ),
        );
    }
    r.summary(
        format!(
            "{decoy_hits} connections elsewhere; 8 hostile collectors: alive, {} of {} lines \
             logged locally, TERM exit {}",
            frame::count(local_lines),
            frame::count(n),
            code.map(|c| c.to_string()).unwrap_or_else(|| "none".into())
        ),
        "no forwarder",
    );
    r.note(
        "Every target line has its own thread with its own connection, so a collector that \
         never reads or that floods only stalls that target's cursor; local logging takes \
         what comes from the pipe regardless. What a collector sends is read into one fixed \
         buffer and thrown away (TCP) or handed to rustls, which fails the handshake on \
         garbage: the figures show the reconnections with backoff. The suite found one \
         failure here: on TERM a thread with no connection tries once more within its 1 s \
         grace, but against the collector that never answers a TLS handshake that try \
         waited for the whole 10 s connect timeout (svlogd exited 10 s late); it is now \
         bounded by the grace period (`tests/forward/tls.rs` has the regression test).",
    );
    for (_, _, mut l) in hostile {
        l.join();
    }
    for (_, mut l) in decoys {
        l.join();
    }
    r.finish();
}
