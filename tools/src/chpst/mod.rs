//! runit's `chpst`, and daemontools' `envdir`, `envuidgid`, `pgrphack`, `setuidgid`, `setlock`
//! and `softlimit` when started under those names (`spec/supervise.md` §7).
//!
//! As `chpst`, options are runit's and are applied in runit's fixed order whatever order they
//! were given in: `-P`, `-e`, `-/`, `-C`, `-n`, `-U`, `-u`, `-l`/`-L`, `-0 -1 -2`, limits,
//! exec. Under another name (a leading `d` is stripped first, as runit does: `denvdir`), the
//! tool behaves as daemontools' program of that name: its usage texts, messages, exit codes
//! and option meanings (so `setlock` waits by default and `-n` fails at once, the reverse of
//! runit's alias). Privileges are dropped supplementary groups first, then gid, then uid.

pub mod envdir;
pub mod limits;
pub mod pathexec;
pub mod uidgid;

use envdir::EnvdirError;
use formats::getopt::{progname, Getopt, Opt};
use formats::strerr::{errstr, say};
use limits::{LimitStep, Soft};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::resource::Resource;
use pathexec::Env;
use std::ffi::{OsStr, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use uidgid::{DropStep, LookupError, UidGid};

/// chpst's usage text after the program name (Debian's runit 2.1.2; `-C` is accepted too).
pub const USAGE: &str = " [-vVP012] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] [-/ root] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] [-t n] prog";
/// Exit code for usage errors (chpst and every alias but envdir).
pub const EXIT_USAGE: i32 = 100;
/// Exit code for failures.
pub const EXIT_FATAL: i32 = 111;
/// chpst's option string (runit 2.1.2 plus `-C pwd`).
const OPTIONS: &str = "u:U:b:e:m:d:o:p:f:c:r:t:/:C:n:l:L:vP012V";

/// A fatal error: the message after `PROG: fatal: `.
struct Fatal(String);

fn fatal_sys(what: &str, e: Errno) -> Fatal {
    Fatal(format!("{what}: {}", errstr(e as i32)))
}

/// daemontools' programs chpst also is: name, synopsis after the name (daemontools' usage
/// text), and what it does (for `--help`).
pub const PERSONALITIES: [(&str, &str, &str); 6] = [
    (
        "setuidgid",
        "account child",
        "Runs child as the account's user, with its primary group and no other groups.",
    ),
    (
        "envuidgid",
        "account child",
        "Runs child with $UID and $GID set to the account's user and group ids.",
    ),
    (
        "envdir",
        "dir child",
        "Runs child with environment variables set, or removed, from the files in dir.",
    ),
    (
        "pgrphack",
        "child",
        "Runs child in a new session and process group.",
    ),
    (
        "setlock",
        "[ -nNxX ] file program [ arg ... ]",
        "Runs program holding an exclusive lock on file, waiting for it (-n: fail at once).",
    ),
    (
        "softlimit",
        "[-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child",
        "Runs child with soft resource limits.",
    ),
];

/// The synopsis of a personality (see [`PERSONALITIES`]).
fn synopsis(name: &str) -> &'static str {
    PERSONALITIES
        .iter()
        .find(|p| p.0 == name)
        .map_or("", |p| p.1)
}

/// Which program `argv[0]` asks for: a daemontools name (a leading `d` stripped first, as
/// runit does: `denvdir`), or `chpst` for any other name.
pub fn personality(arg0: &OsStr) -> &'static str {
    let base = progname(arg0);
    let name = base.strip_prefix('d').unwrap_or(&base);
    PERSONALITIES
        .iter()
        .find(|p| p.0 == name)
        .map_or("chpst", |p| p.0)
}

/// `--help` and `--version` as the first argument, for chpst or the personality `argv[0]`
/// names (see `formats::help`).
pub fn help(argv: &[OsString]) -> Option<i32> {
    formats::help::request(argv)?;
    let name = personality(argv.first().map_or(OsStr::new("chpst"), |a| a.as_os_str()));
    let (synopsis, text) = match PERSONALITIES.iter().find(|p| p.0 == name) {
        Some(p) => (format!("{name} {}", p.1), p.2),
        None => (
            format!("chpst{USAGE}"),
            "Runs prog with its process state changed as the options say: user and groups,\n\
             environment, root and working directory, nice value, a lock, closed standard\n\
             descriptors, soft resource limits. Also envdir, envuidgid, pgrphack, setuidgid,\n\
             setlock and softlimit when run under those names.",
        ),
    };
    formats::help::answer(
        argv,
        &formats::help::About {
            name,
            synopsis: &[&synopsis],
            text,
        },
    )
}

/// Runs `chpst` or one of its personalities and returns the exit code (on success it does not
/// return: the program is executed).
pub fn main(argv: Vec<OsString>) -> i32 {
    let arg0 = argv.first().cloned().unwrap_or_else(|| "chpst".into());
    let base = progname(&arg0);
    match personality(&arg0) {
        "setuidgid" => setuidgid(&argv),
        "envuidgid" => envuidgid(&argv),
        "envdir" => envdir_main(&argv),
        "pgrphack" => pgrphack(&argv),
        "setlock" => setlock(&argv),
        "softlimit" => softlimit(&argv),
        _ => chpst(&argv, &base),
    }
}

/// Everything chpst's options ask for, parsed before anything is done.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    /// `-u user[:group]`.
    pub set_user: Option<OsString>,
    /// `-U user[:group]`.
    pub env_user: Option<OsString>,
    /// `-b argv0`.
    pub argv0: Option<OsString>,
    /// `-e dir`.
    pub env_dir: Option<OsString>,
    /// `-/ root`.
    pub root: Option<OsString>,
    /// `-C pwd`.
    pub pwd: Option<OsString>,
    /// `-n`: the nice increment, as runit's `long` holds it (a number beyond it wraps).
    pub nice: i64,
    /// `-l` (wait: true) or `-L` (false) and the lock file.
    pub lock: Option<(OsString, bool)>,
    /// `-v`.
    pub verbose: bool,
    /// `-P`.
    pub pgrp: bool,
    /// `-0 -1 -2`.
    pub close: [bool; 3],
    /// The limits, in the order given (`-m` is four of them); a later one for the same
    /// resource wins.
    pub limits: Vec<(Resource, u64)>,
    /// The program and its arguments.
    pub prog: Vec<OsString>,
}

/// Why chpst refuses its command line: its usage text and exit 100, in every case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The usage, after getopt's message if there is one.
    Usage(Option<String>),
    /// `-V`: the version line, then the usage.
    Version,
}

/// Parses chpst's command line (`argv` with argv\[0\]; `prog` is the name messages use) the
/// way runit's chpst does, with no I/O.
pub fn parse(argv: &[OsString], prog: &str) -> Result<Plan, Refused> {
    let usage = || Refused::Usage(None);
    let mut plan = Plan::default();
    let mut g = Getopt::new(argv, OPTIONS);
    for opt in g.by_ref() {
        let (c, arg) = match opt {
            Opt::Flag(c, a) => (c, a.unwrap_or_default()),
            other => return Err(Refused::Usage(other.error_message(prog))),
        };
        let num = || limits::parse_number(arg.as_bytes());
        match c {
            b'u' => plan.set_user = Some(arg),
            b'U' => plan.env_user = Some(arg),
            b'b' => plan.argv0 = Some(arg),
            b'e' => plan.env_dir = Some(arg),
            b'/' => plan.root = Some(arg),
            b'C' => plan.pwd = Some(arg),
            b'm' => {
                let Some(n) = num() else { return Err(usage()) };
                plan.limits.extend(limits::MEMORY.iter().map(|&r| (r, n)));
            }
            b'd' | b'o' | b'p' | b'f' | b'c' | b'r' | b't' => {
                let Some(n) = num() else { return Err(usage()) };
                plan.limits
                    .push((limits::resource_of(c).expect("limit letter"), n));
            }
            b'n' => {
                let b = arg.as_bytes();
                let (neg, digits) = match b.first() {
                    Some(b'-') => (true, &b[1..]),
                    Some(b'+') => (false, &b[1..]),
                    _ => (false, b),
                };
                let Some(n) = limits::parse_number(digits) else {
                    return Err(usage());
                };
                // runit: `nicelvl = ul; nicelvl *= -1` in a long, which wraps.
                plan.nice = if neg {
                    (n as i64).wrapping_neg()
                } else {
                    n as i64
                };
            }
            b'l' | b'L' => {
                if plan.lock.is_some() {
                    return Err(usage());
                }
                plan.lock = Some((arg, c == b'l'));
            }
            b'v' => plan.verbose = true,
            b'P' => plan.pgrp = true,
            b'0' => plan.close[0] = true,
            b'1' => plan.close[1] = true,
            b'2' => plan.close[2] = true,
            b'V' => return Err(Refused::Version),
            _ => return Err(usage()),
        }
    }
    plan.prog = g.operands().to_vec();
    if plan.prog.is_empty() {
        return Err(usage());
    }
    Ok(plan)
}

fn chpst(argv: &[OsString], prog: &str) -> i32 {
    let usage = || {
        say(&["usage: ", prog, USAGE, "\n"]);
        EXIT_USAGE
    };
    let plan = match parse(argv, prog) {
        Ok(plan) => plan,
        Err(Refused::Usage(m)) => {
            if let Some(m) = m {
                say(&[&m]);
            }
            return usage();
        }
        Err(Refused::Version) => {
            say(&["$Id: chpst ", env!("CARGO_PKG_VERSION"), " (runit-rs) $"]);
            return usage();
        }
    };
    match apply(&plan) {
        Err(Fatal(m)) => {
            say(&["chpst: fatal: ", &m]);
            EXIT_FATAL
        }
        Ok(never) => match never {},
    }
}

/// Does what the plan says, in runit's order, and executes the program.
fn apply(plan: &Plan) -> Result<std::convert::Infallible, Fatal> {
    let rest = &plan.prog;
    let mut env = Env::current();
    if plan.pgrp {
        let _ = nix::unistd::setsid();
    }
    if let Some(dir) = &plan.env_dir {
        let shown = dir.to_string_lossy().into_owned();
        let verbose = plan.verbose;
        let changes = envdir::read(dir, true, |name, e| {
            if verbose {
                say(&[
                    "chpst: warning: unable to read ",
                    &shown,
                    "/",
                    &name.to_string_lossy(),
                    ": ",
                    errstr(e as i32),
                ]);
            }
        })
        .map_err(|e| match e {
            EnvdirError::Origin(e) => fatal_sys("unable to open current working directory", e),
            EnvdirError::Chdir(e) => {
                fatal_sys(&format!("unable to switch to directory: {shown}"), e)
            }
            EnvdirError::OpenDir(e) => fatal_sys(&format!("unable to open directory: {shown}"), e),
            EnvdirError::ReadDir(e) => fatal_sys(&format!("unable to read directory: {shown}"), e),
            EnvdirError::Read(n, e) => fatal_sys(
                &format!("unable to read {shown}/{}", n.to_string_lossy()),
                e,
            ),
            EnvdirError::Back(e) => fatal_sys("unable to switch to starting directory", e),
        })?;
        for (k, v) in &changes {
            env.set(k, v.as_deref());
        }
    }
    if let Some(root) = &plan.root {
        nix::unistd::chdir(std::path::Path::new(root)).map_err(|e| {
            fatal_sys(
                &format!("unable to change directory: {}", root.to_string_lossy()),
                e,
            )
        })?;
        nix::unistd::chroot(".").map_err(|e| fatal_sys("unable to change root directory", e))?;
    }
    if let Some(pwd) = &plan.pwd {
        nix::unistd::chdir(std::path::Path::new(pwd)).map_err(|e| {
            fatal_sys(
                &format!("unable to change directory: {}", pwd.to_string_lossy()),
                e,
            )
        })?;
    }
    if plan.nice != 0 {
        set_nice(plan.nice).map_err(|e| fatal_sys("unable to set nice level", e))?;
    }
    if let Some(spec) = &plan.env_user {
        let ug = lookup_ext(spec)?;
        set_uid_env(&mut env, &ug);
    }
    if let Some(spec) = &plan.set_user {
        let ug = lookup_ext(spec)?;
        uidgid::drop_privileges(&ug).map_err(|(step, e)| {
            fatal_sys(
                match step {
                    DropStep::Groups => "unable to setgroups",
                    DropStep::Gid => "unable to setgid",
                    DropStep::Uid => "unable to setuid",
                },
                e,
            )
        })?;
    }
    // Held until exec, where it is inherited: the lock lasts as long as the program.
    let _lock = match &plan.lock {
        Some((file, wait)) => {
            let shown = file.to_string_lossy();
            Some(lock_file(file, *wait).map_err(|(step, e)| match step {
                LockStep::Open => fatal_sys(&format!("unable to open lock: {shown}"), e),
                LockStep::Lock => fatal_sys(&format!("unable to lock: {shown}"), e),
            })?)
        }
        None => None,
    };
    for (fd, what) in [
        (0, "unable to close stdin"),
        (1, "unable to close stdout"),
        (2, "unable to close stderr"),
    ] {
        if plan.close[fd as usize] {
            nix::unistd::close(fd).map_err(|e| fatal_sys(what, e))?;
        }
    }
    for &(res, n) in &plan.limits {
        limits::set(res, Soft::Value(n)).map_err(|(step, e)| {
            fatal_sys(
                match step {
                    LimitStep::Get => "unable to getrlimit()",
                    LimitStep::Set => "unable to setrlimit()",
                },
                e,
            )
        })?;
    }
    let mut args = rest.to_vec();
    if let Some(a0) = &plan.argv0 {
        args[0] = a0.clone();
    }
    let e = pathexec::exec(&rest[0], &args, &env);
    Err(fatal_sys(
        &format!("unable to run: {}", args[0].to_string_lossy()),
        e,
    ))
}

fn lookup_ext(spec: &OsStr) -> Result<UidGid, Fatal> {
    uidgid::parse_ext(spec.as_bytes()).map_err(|e| match e {
        LookupError::Invalid(rest) => Fatal(format!(
            "invalid uid/gids: {}",
            String::from_utf8_lossy(&rest)
        )),
        LookupError::Sys(e) => fatal_sys("unable to get password/group file entry", e),
        LookupError::Unknown => Fatal(format!("unknown user/group: {}", spec.to_string_lossy())),
    })
}

fn set_uid_env(env: &mut Env, ug: &UidGid) {
    env.set(OsStr::new("GID"), Some(OsStr::new(&ug.gids[0].to_string())));
    env.set(OsStr::new("UID"), Some(OsStr::new(&ug.uid.to_string())));
}

fn set_nice(inc: i64) -> Result<(), Errno> {
    let inc = inc.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
    Errno::clear();
    // Raw libc: nix has no nice(2).
    // SAFETY: nice takes an integer only.
    let r = unsafe { nix::libc::nice(inc) };
    if r == -1 && Errno::last_raw() != 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// Which step of taking a lock failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockStep {
    /// Opening (creating) the file.
    Open,
    /// flock.
    Lock,
}

/// Opens `file` for appending (created 0600) and takes an exclusive flock, waiting for it when
/// `wait`. The descriptor is inherited across exec, so the program holds the lock.
pub fn lock_file(file: &OsStr, wait: bool) -> Result<OwnedFd, (LockStep, Errno)> {
    // No O_CLOEXEC: the program chpst runs holds the lock.
    let fd = nix::fcntl::open(
        std::path::Path::new(file),
        OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_APPEND | OFlag::O_CREAT,
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .map_err(|e| (LockStep::Open, e))?;
    sys::lock::exclusive(&fd, wait).map_err(|e| (LockStep::Lock, e))?;
    Ok(fd)
}

// ---------------------------------------------------------------------------------------
// daemontools' personalities: `PROG: usage: ...`, `PROG: fatal: ...`.

fn dt_usage(prog: &str, synopsis: &str, code: i32) -> i32 {
    say(&[prog, ": usage: ", prog, " ", synopsis]);
    code
}

fn dt_fatal(prog: &str, msg: &str) -> i32 {
    say(&[prog, ": fatal: ", msg]);
    EXIT_FATAL
}

fn dt_run(prog: &str, argv: &[OsString], env: &Env) -> i32 {
    let e = pathexec::exec(&argv[0], argv, env);
    dt_fatal(
        prog,
        &format!(
            "unable to run {}: {}",
            argv[0].to_string_lossy(),
            errstr(e as i32)
        ),
    )
}

fn dt_account(prog: &str, name: &OsStr) -> Result<UidGid, i32> {
    uidgid::account(name.as_bytes()).map_err(|e| match e {
        LookupError::Sys(e) => dt_fatal(
            prog,
            &format!("unable to get password entry: {}", errstr(e as i32)),
        ),
        _ => dt_fatal(prog, &format!("unknown account {}", name.to_string_lossy())),
    })
}

fn setuidgid(argv: &[OsString]) -> i32 {
    const P: &str = "setuidgid";
    if argv.len() < 3 {
        return dt_usage(P, synopsis(P), EXIT_USAGE);
    }
    let ug = match dt_account(P, &argv[1]) {
        Ok(ug) => ug,
        Err(code) => return code,
    };
    if let Err((step, e)) = uidgid::drop_privileges(&ug) {
        let what = if step == DropStep::Uid {
            "unable to setuid"
        } else {
            "unable to setgid"
        };
        return dt_fatal(P, &format!("{what}: {}", errstr(e as i32)));
    }
    dt_run(P, &argv[2..], &Env::current())
}

fn envuidgid(argv: &[OsString]) -> i32 {
    const P: &str = "envuidgid";
    if argv.len() < 3 {
        return dt_usage(P, synopsis(P), EXIT_USAGE);
    }
    let ug = match dt_account(P, &argv[1]) {
        Ok(ug) => ug,
        Err(code) => return code,
    };
    let mut env = Env::current();
    set_uid_env(&mut env, &ug);
    dt_run(P, &argv[2..], &env)
}

fn envdir_main(argv: &[OsString]) -> i32 {
    const P: &str = "envdir";
    if argv.len() < 3 {
        // daemontools' envdir exits 111 on usage, unlike its siblings.
        return dt_usage(P, synopsis(P), EXIT_FATAL);
    }
    let dir = argv[1].to_string_lossy().into_owned();
    let changes = match envdir::read(&argv[1], false, |_, _| {}) {
        Ok(c) => c,
        Err(e) => {
            let m = match e {
                EnvdirError::Origin(e) => {
                    format!(
                        "unable to switch to current directory: {}",
                        errstr(e as i32)
                    )
                }
                EnvdirError::Chdir(e) => {
                    format!("unable to switch to directory {dir}: {}", errstr(e as i32))
                }
                EnvdirError::OpenDir(e) | EnvdirError::ReadDir(e) => {
                    format!("unable to read directory {dir}: {}", errstr(e as i32))
                }
                EnvdirError::Read(n, e) => format!(
                    "unable to read {dir}/{}: {}",
                    n.to_string_lossy(),
                    errstr(e as i32)
                ),
                EnvdirError::Back(e) => {
                    format!(
                        "unable to switch to starting directory: {}",
                        errstr(e as i32)
                    )
                }
            };
            return dt_fatal(P, &m);
        }
    };
    let mut env = Env::current();
    for (k, v) in &changes {
        env.set(k, v.as_deref());
    }
    dt_run(P, &argv[2..], &env)
}

fn pgrphack(argv: &[OsString]) -> i32 {
    const P: &str = "pgrphack";
    if argv.len() < 2 {
        return dt_usage(P, synopsis(P), EXIT_USAGE);
    }
    let _ = nix::unistd::setsid();
    dt_run(P, &argv[1..], &Env::current())
}

fn setlock(argv: &[OsString]) -> i32 {
    const P: &str = "setlock";
    let syn = synopsis(P);
    let mut wait = true;
    let mut quiet = false;
    let mut g = Getopt::new(argv, "nNxX");
    for opt in g.by_ref() {
        match opt {
            Opt::Flag(b'n', _) => wait = false,
            Opt::Flag(b'N', _) => wait = true,
            Opt::Flag(b'x', _) => quiet = true,
            Opt::Flag(b'X', _) => quiet = false,
            other => {
                if let Some(m) = other.error_message(P) {
                    say(&[&m]);
                }
                return dt_usage(P, syn, EXIT_USAGE);
            }
        }
    }
    let rest = g.operands();
    if rest.len() < 2 {
        return dt_usage(P, syn, EXIT_USAGE);
    }
    let file = rest[0].to_string_lossy();
    let _lock = match lock_file(&rest[0], wait) {
        Ok(fd) => fd,
        Err(_) if quiet => return 0,
        Err((step, e)) => {
            let what = if step == LockStep::Open {
                "open"
            } else {
                "lock"
            };
            return dt_fatal(P, &format!("unable to {what} {file}: {}", errstr(e as i32)));
        }
    };
    dt_run(P, &rest[1..], &Env::current())
}

fn softlimit(argv: &[OsString]) -> i32 {
    const P: &str = "softlimit";
    let syn = synopsis(P);
    let mut g = Getopt::new(argv, "a:c:d:f:l:m:o:p:r:s:t:");
    for opt in g.by_ref() {
        let (c, arg) = match opt {
            Opt::Flag(c, a) => (c, a.unwrap_or_default()),
            other => {
                if let Some(m) = other.error_message(P) {
                    say(&[&m]);
                }
                return dt_usage(P, syn, EXIT_USAGE);
            }
        };
        let Some(soft) = limits::soft_value(arg.as_bytes()) else {
            return dt_usage(P, syn, EXIT_USAGE);
        };
        let resources: Vec<Resource> = if c == b'm' {
            limits::MEMORY.to_vec()
        } else {
            vec![limits::resource_of(c).expect("limit letter")]
        };
        for res in resources {
            if let Err((step, e)) = limits::set(res, soft) {
                let what = if step == LimitStep::Get {
                    "getrlimit failed"
                } else {
                    "setrlimit failed"
                };
                return dt_fatal(P, &format!("{what}: {}", errstr(e as i32)));
            }
        }
    }
    let rest = g.operands();
    if rest.is_empty() {
        return dt_usage(P, syn, EXIT_USAGE);
    }
    dt_run(P, rest, &Env::current())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Result<Plan, Refused> {
        let a: Vec<OsString> = v.iter().map(OsString::from).collect();
        parse(&a, "chpst")
    }

    #[test]
    fn options_and_program() {
        let plan = p(&[
            "chpst", "-v", "-u", "nobody", "-o5", "-m", "", "-n+3", "prog", "-x",
        ])
        .unwrap();
        assert!(plan.verbose);
        assert_eq!(plan.set_user, Some("nobody".into()));
        assert_eq!(plan.nice, 3);
        assert_eq!(plan.limits[0], (Resource::RLIMIT_NOFILE, 5));
        // runit reads an empty number as 0.
        assert_eq!(&plan.limits[1..], &limits::MEMORY.map(|r| (r, 0))[..]);
        assert_eq!(plan.prog, vec![OsString::from("prog"), "-x".into()]);
    }

    #[test]
    fn refusals() {
        assert_eq!(p(&["chpst"]), Err(Refused::Usage(None)));
        assert_eq!(p(&["chpst", "-m", "1x", "t"]), Err(Refused::Usage(None)));
        assert_eq!(
            p(&["chpst", "-l", "a", "-L", "b", "t"]),
            Err(Refused::Usage(None))
        );
        assert_eq!(p(&["chpst", "-V", "t"]), Err(Refused::Version));
        assert_eq!(
            p(&["chpst", "-x", "t"]),
            Err(Refused::Usage(Some("chpst: illegal option -- x".into())))
        );
    }

    #[test]
    fn nice_wraps_like_a_long() {
        // It used to overflow (a panic in a debug build).
        let plan = p(&["chpst", "-n", "-9223372036854775808", "t"]).unwrap();
        assert_eq!(plan.nice, i64::MIN);
        assert_eq!(p(&["chpst", "-n", "-5", "t"]).unwrap().nice, -5);
        assert_eq!(
            p(&["chpst", "-n", "18446744073709551615", "t"])
                .unwrap()
                .nice,
            -1
        );
        assert_eq!(p(&["chpst", "-n", "+-1", "t"]), Err(Refused::Usage(None)));
    }
}
