//! Service directories under a supervisor: making them, starting runsv or runsvdir on them,
//! their status record (read, and waited for), control bytes, and what runit's `sv` says.

use crate::{
    alive, in_poll, names, pipe_bytes, read_text, reference, run, wait_until, wait_until_or, Impl,
    Proc, Scratch, WAIT,
};
use formats::status::{self, State, Status};
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Makes the service directory `rel` in the scratch directory with `run` (the whole script)
/// as its executable `./run`, and returns its path: how every test makes a service.
pub fn service(s: &Scratch, rel: &str, run: &str) -> PathBuf {
    let dir = s.mkdir(rel);
    s.script(format!("{rel}/run"), run);
    dir
}

/// The line of a `./run` that double-forks a daemon (its parent exits, so it is re-parented
/// to runsvdir, which no runsv stops): the daemon writes its pid to `../../NAME.pid` and, on
/// TERM, `term` to `../../NAME.term`, or with `ignore_term` ignores TERM. For the tests of
/// runsvdir's container mode, which must stop such daemons.
pub fn forking_daemon(name: &str, ignore_term: bool) -> String {
    let on_term = if ignore_term {
        "trap \"\" TERM".to_string()
    } else {
        format!("trap \"echo term >../../{name}.term; exit 0\" TERM")
    };
    format!(
        "( sh -c '{on_term}; echo $$ >../../{name}.pid; while :; do sleep 0.05; done' \
         </dev/null >/dev/null 2>&1 & )\n"
    )
}

/// Starts `cmd` from the scratch directory in a process group of its own, stdin and stdout
/// on /dev/null and stderr in the scratch directory's file `errname` (or /dev/null): how the
/// tests start a supervisor, whose stderr they read when it fails.
pub fn start_in(s: &Scratch, cmd: &mut Command, errname: Option<&str>) -> Proc {
    let err = match errname {
        Some(n) => Stdio::from(fs::File::create(s.join(n)).expect("stderr file")),
        None => Stdio::null(),
    };
    cmd.current_dir(&s.path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err);
    Proc::spawn_group(cmd)
}

/// The file [`runsv`] sends the stderr of `imp`'s runsv on `dir` to: `runsv-IMPL-NAME.err`
/// in the scratch directory.
pub fn runsv_err(imp: Impl, dir: &Path) -> String {
    let name = dir.file_name().expect("service name").to_string_lossy();
    format!("runsv-{}-{name}.err", imp.name())
}

/// Starts `imp`'s runsv on `dir` (see [`start_in`]), stderr in [`runsv_err`].
pub fn runsv(s: &Scratch, imp: Impl, dir: &Path) -> Proc {
    start_in(s, imp.cmd("runsv").arg(dir), Some(&runsv_err(imp, dir)))
}

/// Starts `imp`'s runsvdir with `args` (see [`start_in`]), stderr in `runsvdir.err`.
pub fn runsvdir<A: AsRef<OsStr>>(s: &Scratch, imp: Impl, args: &[A]) -> Proc {
    start_in(s, imp.cmd("runsvdir").args(args), Some("runsvdir.err"))
}

/// The status record of the service `dir` (`dir/supervise/status`; a logger's is
/// `dir/log`'s) as runit's `sv` reads it: runit's 20 bytes, nothing else.
pub fn read_status(dir: &Path) -> Option<Status> {
    status::read_runit(&dir.join("supervise/status")).ok()
}

/// The status record of the service `dir` as daemontools' `svstat` reads it: runit's, or
/// daemontools' 18 bytes (for the tools' tests, which run daemontools' `supervise` too).
pub fn read_status_any(dir: &Path) -> Option<Status> {
    status::read_any(&dir.join("supervise/status")).ok()
}

/// Waits (at most `timeout`) until the record `read` returns satisfies `pred`, and returns
/// it; on a timeout shows the last record, the scratch directory and every `*.err` file in
/// it. The one wait for a status.
pub fn wait_status_by(
    s: &Scratch,
    what: &str,
    timeout: Duration,
    mut read: impl FnMut() -> Option<Status>,
    mut pred: impl FnMut(&Status) -> bool,
) -> Status {
    let last = std::cell::Cell::new(None);
    wait_until_or(
        timeout,
        what,
        &mut || {
            let st = read();
            last.set(st);
            st.as_ref().is_some_and(&mut pred)
        },
        || {
            let mut detail = format!("last status: {:?}\n{}", last.get(), s.listing());
            for n in names(&s.path).iter().filter(|n| n.ends_with(".err")) {
                detail.push_str(&format!("--- {n}\n{}", read_text(s.join(n))));
            }
            detail
        },
    );
    last.get().expect("status")
}

/// Waits until the status of `dir` ([`read_status`]) satisfies `pred`; returns it.
pub fn wait_status(
    s: &Scratch,
    dir: &Path,
    what: &str,
    pred: impl FnMut(&Status) -> bool,
) -> Status {
    wait_status_by(s, what, WAIT, || read_status(dir), pred)
}

/// The condition "the service runs (state run) under a pid other than 0 and `not`", for
/// [`wait_status_by`] and [`wait_new_run`].
pub fn running(not: u32) -> impl Fn(&Status) -> bool {
    move |st| st.state == State::Run && st.pid != 0 && st.pid != not
}

/// Waits (at most `timeout`) until the service `dir` runs under a pid other than 0 and
/// `not`; returns its status.
pub fn wait_new_run(s: &Scratch, dir: &Path, not: u32, timeout: Duration) -> Status {
    let what = format!("{} running (not pid {not})", dir.display());
    wait_status_by(s, &what, timeout, || read_status(dir), running(not))
}

/// Waits until the service `dir` runs, and returns its pid.
pub fn wait_run(s: &Scratch, dir: &Path) -> u32 {
    wait_new_run(s, dir, 0, WAIT).pid
}

/// Waits until the service `dir` is down (no pid) and wants down.
pub fn wait_down(s: &Scratch, dir: &Path) {
    wait_status(s, dir, &format!("{} down", dir.display()), |st| {
        st.state == State::Down && st.pid == 0 && st.want == b'd'
    });
}

/// Sends control bytes to the service `dir` through the library's client, as `sv` does.
pub fn control(dir: &Path, bytes: &[u8]) {
    formats::control::send(dir, bytes).expect("send control bytes");
}

/// Whether a supervisor answers for `dir` on its `ok` FIFO (`svok`'s question).
pub fn supervised(dir: &Path) -> bool {
    formats::control::probe(dir).is_ok()
}

/// Waits until the runsv `runsv` has handled every control byte sent to the service `dir` so
/// far: its control FIFO holds no unread byte and runsv sleeps in poll again (it handles what
/// it read before it polls again). What a command did not do by then, it will not do: the way
/// a test shows that something does not happen, instead of sleeping a while. (A runsv that
/// exited, after `x`, has handled everything too.)
pub fn wait_handled(dir: &Path, runsv: i32) {
    use std::os::unix::fs::OpenOptionsExt;
    let fifo = fs::OpenOptions::new()
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(dir.join("supervise/control"))
        .expect("open supervise/control");
    wait_until(WAIT, "runsv to handle its control bytes", || {
        !alive(runsv) || (pipe_bytes(&fifo) == 0 && in_poll(runsv))
    });
}

/// `sv ARGS` of runit's (for every supervisor: the client is not what these tests test), run
/// in the scratch directory: its stdout and exit code.
pub fn runit_sv(s: &Scratch, args: &[&str]) -> (String, i32) {
    let mut c = crate::cmd_clean(reference("/usr/bin/sv").as_os_str());
    c.args(args).current_dir(&s.path);
    let out = run(&mut c, WAIT);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        crate::code(out.status),
    )
}

/// Whether runit's `sv status DIR` says the service runs as `pid`: what a user sees once the
/// supervisor can be controlled again.
pub fn sv_says_run(s: &Scratch, dir: &Path, pid: u32) -> bool {
    let d = dir.to_str().expect("utf-8 path");
    let (out, code) = runit_sv(s, &["status", d]);
    code == 0 && out.starts_with(&format!("run: {d}: (pid {pid}) "))
}
