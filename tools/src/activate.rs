//! Making services live and taking them down: `svactivate` and `svdeactivate`.
//!
//! `svactivate NAME` takes `INSTALL/NAME` (default `/etc/rc/NAME`), builds the live copy in a
//! dot-directory of the service directory (`SVDIR/.NAME.svactivate`, which runsvdir ignores),
//! adds a `log/` service running `svlogd -tt LOGS/NAME` (creating that directory) unless the
//! service has its own `log/` or an empty `log` file saying it wants none, and renames the
//! result to `SVDIR/NAME` in one step (never replacing anything), so runsvdir never sees a
//! half-made service. `-s` builds the live directory from symlinks to the installed files
//! instead of copies, so edits there take effect. `-a` activates every service installed.
//!
//! `svdeactivate NAME` renames `SVDIR/NAME` out of runsvdir's sight, tells its supervisor to
//! stop the service and exit (runsv then stops the logger after it has read everything), waits
//! for it (`-w`, the service's `sv-timeout`, `SVWAIT` or 7 s; then SIGKILL and one more wait),
//! and removes the directory. Logs are kept.

use crate::enter::DEFAULT_SVDIR;
use crate::watch::{supervise_event_matters, Watch, SUPERVISE_MASK};
use formats::control::{self, ClientError};
use formats::getopt::{Getopt, Opt};
use formats::strerr::{ioerr, say};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where services are installed by default.
pub const DEFAULT_INSTALL: &str = "/etc/rc";
/// The environment variable naming the install location.
pub const INSTALL_ENV: &str = "SVINSTALLDIR";
/// Exit code for usage errors.
pub const EXIT_USAGE: i32 = 100;
/// Exit code when something failed.
pub const EXIT_FATAL: i32 = 111;

/// svactivate's usage message.
pub const A_USAGE: &str =
    "usage: svactivate [-asv] [-i installdir] [-d servicedir] [-L logdir] [-w sec] name ...";
/// svdeactivate's usage message.
pub const D_USAGE: &str = "usage: svdeactivate [-v] [-d servicedir] [-w sec] name ...";

/// Paths and switches from the command line and the environment.
struct Options {
    install: PathBuf,
    svdir: PathBuf,
    logs: PathBuf,
    symlinks: bool,
    all: bool,
    verbose: bool,
    wait: Option<u64>,
    names: Vec<OsString>,
}

fn env_path(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

fn parse(argv: &[OsString], prog: &str, spec: &str, usage: &str) -> Result<Options, i32> {
    let fail = |m: Option<String>| crate::out::usage(m, usage);
    let mut o = Options {
        install: env_path(INSTALL_ENV, DEFAULT_INSTALL),
        svdir: env_path("SVDIR", DEFAULT_SVDIR),
        logs: env_path(crate::logs::LOGDIR_ENV, crate::logs::DEFAULT_LOGDIR),
        symlinks: false,
        all: false,
        verbose: false,
        wait: None,
        names: Vec::new(),
    };
    let mut g = Getopt::new(argv, spec).strict();
    for opt in g.by_ref() {
        match opt {
            Opt::Flag(b'i', Some(d)) => o.install = d.into(),
            Opt::Flag(b'd', Some(d)) => o.svdir = d.into(),
            Opt::Flag(b'L', Some(d)) => o.logs = d.into(),
            Opt::Flag(b's', _) => o.symlinks = true,
            Opt::Flag(b'a', _) => o.all = true,
            Opt::Flag(b'v', _) => o.verbose = true,
            Opt::Flag(b'w', Some(w)) => {
                o.wait = Some(formats::scan::scan_ulong(w.as_bytes()).0);
            }
            other => return Err(fail(other.error_message(prog))),
        }
    }
    o.names = g.operands().to_vec();
    if o.names.is_empty() && !o.all {
        return Err(fail(None));
    }
    for n in &o.names {
        if !valid_name(n) {
            return Err(fail(Some(format!(
                "{prog}: fatal: not a service name: {}",
                n.to_string_lossy()
            ))));
        }
    }
    Ok(o)
}

/// A service name is one path component that does not start with `.`.
pub fn valid_name(n: &OsStr) -> bool {
    let b = n.as_bytes();
    !b.is_empty() && b[0] != b'.' && !b.contains(&b'/')
}

/// What went wrong with one service, in words.
type Failure = String;

fn io_fail(what: &str, path: &Path, e: &io::Error) -> Failure {
    format!("{what} {}: {}", path.display(), ioerr(e))
}

/// The `log/run` script of a generated logger.
pub fn logger_script(logdir: &Path) -> String {
    format!(
        "#!/bin/sh\nexec svlogd -tt {}\n",
        shell_quote(logdir.as_os_str())
    )
}

/// Quotes a path for `/bin/sh` when it needs it.
fn shell_quote(s: &OsStr) -> String {
    let t = s.to_string_lossy();
    if !t.is_empty()
        && t.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"/._-+=:,@".contains(&c))
    {
        t.into_owned()
    } else {
        format!("'{}'", t.replace('\'', "'\\''"))
    }
}

/// Copies `src` to `dst` recursively: modes kept, symlinks copied as symlinks, owners kept
/// when running as root. A `supervise` directory (state of an earlier run) is left out.
fn copy_tree(src: &Path, dst: &Path, root: bool) -> Result<(), Failure> {
    let md = fs::symlink_metadata(src).map_err(|e| io_fail("unable to stat", src, &e))?;
    if md.file_type().is_symlink() {
        let target = fs::read_link(src).map_err(|e| io_fail("unable to read link", src, &e))?;
        std::os::unix::fs::symlink(&target, dst)
            .map_err(|e| io_fail("unable to create", dst, &e))?;
    } else if md.is_dir() {
        fs::create_dir(dst).map_err(|e| io_fail("unable to create", dst, &e))?;
        let entries = fs::read_dir(src).map_err(|e| io_fail("unable to read", src, &e))?;
        for e in entries {
            let e = e.map_err(|e| io_fail("unable to read", src, &e))?;
            let name = e.file_name();
            let path = e.path();
            if name == "supervise" && fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                continue;
            }
            copy_tree(&path, &dst.join(&name), root)?;
        }
        fs::set_permissions(dst, fs::Permissions::from_mode(md.mode() & 0o7777))
            .map_err(|e| io_fail("unable to set the mode of", dst, &e))?;
    } else {
        fs::copy(src, dst).map_err(|e| io_fail("unable to copy to", dst, &e))?;
    }
    if root {
        let _ = std::os::unix::fs::lchown(dst, Some(md.uid()), Some(md.gid()));
    }
    Ok(())
}

/// Whether `src/log` says "no logger": an empty regular file.
fn log_opt_out(src: &Path) -> bool {
    fs::symlink_metadata(src.join("log")).is_ok_and(|m| m.is_file() && m.len() == 0)
}

/// Fills the build directory `tmp` from `src`: copies, or symlinks to each entry.
fn build(o: &Options, name: &OsStr, src: &Path, tmp: &Path) -> Result<(), Failure> {
    let root = nix::unistd::geteuid().is_root();
    if o.symlinks {
        fs::create_dir(tmp).map_err(|e| io_fail("unable to create", tmp, &e))?;
        let src_abs = fs::canonicalize(src).map_err(|e| io_fail("unable to resolve", src, &e))?;
        let entries = fs::read_dir(src).map_err(|e| io_fail("unable to read", src, &e))?;
        for e in entries {
            let e = e.map_err(|e| io_fail("unable to read", src, &e))?;
            let n = e.file_name();
            let is_dir = fs::symlink_metadata(e.path()).is_ok_and(|m| m.is_dir());
            if (n == "supervise" && is_dir) || (n == "log" && log_opt_out(src)) {
                continue;
            }
            let link = tmp.join(&n);
            std::os::unix::fs::symlink(src_abs.join(&n), &link)
                .map_err(|e| io_fail("unable to create", &link, &e))?;
        }
        let md = fs::metadata(src).map_err(|e| io_fail("unable to stat", src, &e))?;
        fs::set_permissions(tmp, fs::Permissions::from_mode(md.mode() & 0o7777))
            .map_err(|e| io_fail("unable to set the mode of", tmp, &e))?;
    } else {
        copy_tree(src, tmp, root)?;
        if log_opt_out(src) {
            let marker = tmp.join("log");
            fs::remove_file(&marker).map_err(|e| io_fail("unable to remove", &marker, &e))?;
        }
    }
    let wants_logger = fs::symlink_metadata(src.join("log")).is_err();
    if wants_logger {
        let logdir = o.logs.join(name);
        fs::create_dir_all(&logdir).map_err(|e| io_fail("unable to create", &logdir, &e))?;
        let log = tmp.join("log");
        fs::create_dir(&log).map_err(|e| io_fail("unable to create", &log, &e))?;
        let run = log.join("run");
        fs::write(&run, logger_script(&logdir))
            .map_err(|e| io_fail("unable to create", &run, &e))?;
        fs::set_permissions(&run, fs::Permissions::from_mode(0o755))
            .map_err(|e| io_fail("unable to set the mode of", &run, &e))?;
    }
    Ok(())
}

/// Activates one service.
fn activate(o: &Options, name: &OsStr) -> Result<bool, Failure> {
    let src = o.install.join(name);
    let md = fs::metadata(&src).map_err(|e| io_fail("unable to activate", &src, &e))?;
    if !md.is_dir() {
        return Err(format!(
            "unable to activate {}: not a directory",
            src.display()
        ));
    }
    let live = o.svdir.join(name);
    if fs::symlink_metadata(&live).is_ok() {
        return Ok(false);
    }
    let mut tmp_name = OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".svactivate");
    let tmp = o.svdir.join(tmp_name);
    if fs::symlink_metadata(&tmp).is_ok() {
        remove(&tmp).map_err(|e| io_fail("unable to remove the leftover", &tmp, &e))?;
    }
    if let Err(f) = build(o, name, &src, &tmp) {
        let _ = remove(&tmp);
        return Err(f);
    }
    if let Err(e) = rename_noreplace(&tmp, &live) {
        let _ = remove(&tmp);
        if e == nix::errno::Errno::EEXIST {
            return Ok(false);
        }
        return Err(format!(
            "unable to rename {} to {}: {}",
            tmp.display(),
            live.display(),
            formats::strerr::errstr(e as i32)
        ));
    }
    Ok(true)
}

/// Renames `from` to `to` in one step, failing with EEXIST rather than replacing anything
/// (`renameat2` with `RENAME_NOREPLACE`): the live name appears or goes whole, never over
/// another service. nix wraps the call on glibc only, so musl and the other C libraries make
/// the same system call directly.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn rename_noreplace(from: &Path, to: &Path) -> nix::Result<()> {
    use nix::fcntl::{renameat2, RenameFlags, AT_FDCWD};
    renameat2(AT_FDCWD, from, AT_FDCWD, to, RenameFlags::RENAME_NOREPLACE)
}

/// Renames `from` to `to` in one step, failing with EEXIST rather than replacing anything
/// (the raw `renameat2` system call with `RENAME_NOREPLACE`, which musl does not wrap).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn rename_noreplace(from: &Path, to: &Path) -> nix::Result<()> {
    use nix::libc;
    use nix::NixPath;
    let res = from.with_nix_path(|from| {
        to.with_nix_path(|to| {
            // SAFETY: both paths are NUL-terminated C strings that live across the call; the
            // system call reads them and nothing else.
            unsafe {
                libc::syscall(
                    libc::SYS_renameat2,
                    libc::AT_FDCWD,
                    from.as_ptr(),
                    libc::AT_FDCWD,
                    to.as_ptr(),
                    libc::RENAME_NOREPLACE,
                )
            }
        })
    })??;
    nix::errno::Errno::result(res).map(drop)
}

/// Removes a live entry: a symlink itself, or a directory tree (never following symlinks).
fn remove(p: &Path) -> io::Result<()> {
    let md = fs::symlink_metadata(p)?;
    if md.is_dir() {
        fs::remove_dir_all(p)
    } else {
        fs::remove_file(p)
    }
}

/// Waits until `check` holds, waking on changes in the supervise directories of `dir` (and
/// its log), at most until `deadline`.
fn wait_for(dir: &Path, deadline: Instant, mut check: impl FnMut() -> bool) -> bool {
    let watch = Watch::new().ok();
    loop {
        if let Some(w) = &watch {
            for d in [
                dir.to_path_buf(),
                dir.join("supervise"),
                dir.join("log/supervise"),
            ] {
                let _ = w.add(&d, SUPERVISE_MASK);
            }
        }
        if check() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return check();
        }
        let left = (deadline - now).min(Duration::from_millis(500));
        match &watch {
            Some(w) => {
                if let Ok(evs) = w.wait(Some(left)) {
                    let _ = evs.iter().any(supervise_event_matters);
                }
            }
            None => std::thread::sleep(left.min(Duration::from_millis(100))),
        }
    }
}

fn timeout_for(o: &Options, dir: &Path) -> Duration {
    let secs = o
        .wait
        .or_else(|| {
            formats::svdir::read_number(&dir.join(crate::sv::TIMEOUT_FILE))
                .ok()
                .flatten()
        })
        .or_else(|| std::env::var_os("SVWAIT").map(|v| formats::scan::scan_ulong(v.as_bytes()).0))
        .unwrap_or(crate::sv::DEFAULT_WAIT);
    Duration::from_secs(secs)
}

/// Runs `svactivate` and returns the exit code.
pub fn svactivate(argv: Vec<OsString>) -> i32 {
    let o = match parse(&argv, "svactivate", "asvi:d:L:w:", A_USAGE) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let mut names = o.names.clone();
    if o.all {
        match fs::read_dir(&o.install) {
            Ok(rd) => {
                let mut found: Vec<OsString> = rd
                    .flatten()
                    .filter(|e| valid_name(&e.file_name()))
                    .filter(|e| fs::metadata(e.path()).is_ok_and(|m| m.is_dir()))
                    .map(|e| e.file_name())
                    .collect();
                found.sort();
                names.extend(found);
            }
            Err(e) => {
                say(&[
                    "svactivate: fatal: unable to read ",
                    &o.install.to_string_lossy(),
                    ": ",
                    &ioerr(&e),
                ]);
                return EXIT_FATAL;
            }
        }
    }
    let mut rc = 0;
    for name in &names {
        let shown = name.to_string_lossy();
        match activate(&o, name) {
            Ok(true) => {
                if o.verbose {
                    say(&["svactivate: ", &shown, ": activated"]);
                }
                if let Some(w) = o.wait {
                    let live = o.svdir.join(name);
                    let deadline = Instant::now() + Duration::from_secs(w);
                    if !wait_for(&live, deadline, || control::probe(&live).is_ok()) {
                        say(&["svactivate: warning: ", &shown, ": not supervised yet"]);
                        rc = EXIT_FATAL;
                    }
                }
            }
            Ok(false) => {
                if !o.all || o.names.contains(name) {
                    say(&["svactivate: warning: ", &shown, ": already active"]);
                }
            }
            Err(f) => {
                say(&["svactivate: fatal: ", &f]);
                rc = EXIT_FATAL;
            }
        }
    }
    rc
}

/// Whether a supervisor answers for `dir`.
fn supervised(dir: &Path) -> bool {
    control::probe(dir).is_ok()
}

/// Stops the supervisor of `dir` (and a separate one of its log) and waits for them.
fn stop(o: &Options, dir: &Path) -> Result<(), Failure> {
    let log = dir.join("log");
    let limit = timeout_for(o, dir);
    if supervised(dir) {
        // runsv's `x` stops the service, lets the logger drain and exits; daemontools'
        // supervise needs `d` first (its `x` only exits once the service is down). runsv gets
        // `x` alone, so the service sees one TERM, not two.
        send(dir, exit_bytes(dir))?;
        if !wait_for(dir, Instant::now() + limit, || !supervised(dir)) {
            let _ = send(dir, b"k");
            if !wait_for(dir, Instant::now() + limit, || !supervised(dir)) {
                return Err(format!("{}: supervisor did not exit", dir.display()));
            }
        }
    }
    // A logger with a supervisor of its own (daemontools' svscan runs one per log).
    if supervised(&log) {
        send(&log, exit_bytes(&log))?;
        if !wait_for(dir, Instant::now() + limit, || !supervised(&log)) {
            let _ = send(&log, b"k");
            if !wait_for(dir, Instant::now() + limit, || !supervised(&log)) {
                return Err(format!("{}: supervisor did not exit", log.display()));
            }
        }
    }
    Ok(())
}

/// The bytes that make the supervisor of `dir` stop the service and exit: `x` for runsv
/// (20-byte status), `dx` for daemontools' supervise (18 bytes).
fn exit_bytes(dir: &Path) -> &'static [u8] {
    match formats::status::read_path(&dir.join("supervise/status")) {
        Ok((_, len)) if len == formats::status::RUNIT_LEN => b"x",
        _ => b"dx",
    }
}

fn send(dir: &Path, bytes: &[u8]) -> Result<(), Failure> {
    match control::send(dir, bytes) {
        Ok(()) | Err(ClientError::NotRunning) => Ok(()),
        Err(e) => Err(format!(
            "unable to control {}: {}",
            dir.display(),
            formats::strerr::errstr(e.errno())
        )),
    }
}

/// Runs `svdeactivate` and returns the exit code.
pub fn svdeactivate(argv: Vec<OsString>) -> i32 {
    let o = match parse(&argv, "svdeactivate", "vd:w:", D_USAGE) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let mut rc = 0;
    for name in &o.names {
        let shown = name.to_string_lossy();
        let live = o.svdir.join(name);
        if fs::symlink_metadata(&live).is_err() {
            say(&["svdeactivate: warning: ", &shown, ": not active"]);
            rc = EXIT_FATAL;
            continue;
        }
        let mut tmp_name = OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(".svdeactivate");
        let tmp = o.svdir.join(tmp_name);
        if let Err(e) = rename_noreplace(&live, &tmp) {
            say(&[
                "svdeactivate: fatal: unable to rename ",
                &live.to_string_lossy(),
                ": ",
                formats::strerr::errstr(e as i32),
            ]);
            rc = EXIT_FATAL;
            continue;
        }
        if let Err(f) = stop(&o, &tmp) {
            say(&[
                "svdeactivate: fatal: ",
                &f,
                " (left in ",
                &tmp.to_string_lossy(),
                ")",
            ]);
            rc = EXIT_FATAL;
            continue;
        }
        if let Err(e) = remove(&tmp) {
            say(&[
                "svdeactivate: fatal: unable to remove ",
                &tmp.to_string_lossy(),
                ": ",
                &ioerr(&e),
            ]);
            rc = EXIT_FATAL;
            continue;
        }
        if o.verbose {
            say(&["svdeactivate: ", &shown, ": deactivated"]);
        }
    }
    rc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_quoting() {
        assert!(valid_name(OsStr::new("web")));
        assert!(!valid_name(OsStr::new(".web")));
        assert!(!valid_name(OsStr::new("a/b")));
        assert!(!valid_name(OsStr::new("")));
        assert_eq!(
            logger_script(Path::new("/var/log/service/web")),
            "#!/bin/sh\nexec svlogd -tt /var/log/service/web\n"
        );
        assert_eq!(
            logger_script(Path::new("/var/log/my service/it's")),
            "#!/bin/sh\nexec svlogd -tt '/var/log/my service/it'\\''s'\n"
        );
    }
}
