//! Helpers shared by the supervise tests: service directories, supervisors, status reads.

use formats::status::{self, State, Status};
use harness::{bin, cmd_clean, reference, wait_until_or, Proc, Scratch};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The bound on a wait for anything that happens at once or after runsv's 1 s throttle: 20
/// times that, so that only a hang fails, not a slow machine.
pub const T: Duration = Duration::from_secs(20);

/// Creates `name/` in the scratch dir with an executable `run` holding `run`.
pub fn service(s: &Scratch, name: &str, run: &str) -> PathBuf {
    let dir = s.mkdir(name);
    s.script(format!("{name}/run"), run);
    dir
}

/// Starts a supervisor binary on `dir`, stderr to `NAME.err` in the scratch dir.
pub fn start(s: &Scratch, program: &Path, dir: &Path, errname: &str) -> Proc {
    let err = fs::File::create(s.join(errname)).expect("stderr file");
    let mut c = cmd_clean(program.as_os_str());
    c.arg(dir)
        .current_dir(&s.path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err);
    Proc::spawn_group(&mut c)
}

/// Starts our runsv on `dir`.
pub fn runsv(s: &Scratch, dir: &Path) -> Proc {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    start(s, &bin("runsv"), dir, &format!("runsv-{name}.err"))
}

/// Starts runit's runsv on `dir`.
pub fn runit_runsv(s: &Scratch, dir: &Path) -> Proc {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    start(
        s,
        &reference("/usr/bin/runsv"),
        dir,
        &format!("runit-{name}.err"),
    )
}

/// Runs a reference tool in the scratch dir, bounded.
pub fn tool(s: &Scratch, path: &str, args: &[&str]) -> Output {
    let mut c = cmd_clean(reference(path).as_os_str());
    c.args(args).current_dir(&s.path);
    harness::run(&mut c, Duration::from_secs(20))
}

/// `sv ARGS` (runit's), stdout as text and the exit code.
pub fn sv(s: &Scratch, args: &[&str]) -> (String, i32) {
    let out = tool(s, "/usr/bin/sv", args);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        harness::code(out.status),
    )
}

/// The status record of a service (`sup` is `supervise` or `log/supervise`).
pub fn read_status(dir: &Path, sup: &str) -> Option<Status> {
    status::read_runit(&dir.join(sup).join("status")).ok()
}

/// Waits until the main service's status satisfies `pred`.
pub fn wait_status(
    s: &Scratch,
    dir: &Path,
    what: &str,
    mut pred: impl FnMut(&Status) -> bool,
) -> Status {
    let last = std::cell::Cell::new(None);
    wait_until_or(
        T,
        what,
        &mut || {
            let st = read_status(dir, "supervise");
            last.set(st);
            st.as_ref().is_some_and(&mut pred)
        },
        || format!("last status: {:?}\n{}", last.get(), s.listing()),
    );
    last.get().unwrap()
}

/// Waits until the service runs (state run, pid set) and returns its pid.
pub fn wait_run(s: &Scratch, dir: &Path) -> u32 {
    wait_status(s, dir, "service running", |st| {
        st.state == State::Run && st.pid != 0
    })
    .pid
}

/// Waits until the service is down.
pub fn wait_down(s: &Scratch, dir: &Path) {
    wait_status(s, dir, "service down", |st| {
        st.state == State::Down && st.pid == 0
    });
}

/// Writes control bytes to a service (through the library's client, as sv does).
pub fn control(dir: &Path, bytes: &[u8]) {
    formats::control::send(dir, bytes).expect("send control bytes");
}

/// Waits until the runsv `runsv` has handled every control byte sent to `dir` so far (see
/// [`harness::wait_handled`]).
pub fn handled(dir: &Path, runsv: i32) {
    harness::wait_handled(dir, runsv, T);
}

/// The whole lines of a file (empty if missing): see [`harness::whole_lines`].
pub fn lines(p: &Path) -> Vec<String> {
    harness::whole_lines(p)
}

/// Whether a process runs for `dir`'s ok FIFO (svok semantics).
pub fn supervised(dir: &Path) -> bool {
    formats::control::probe(dir).is_ok()
}

/// Pids of live processes whose argv is exactly `args` (NUL-separated), for duplicate checks.
pub fn pids_with_argv(args: &[&str]) -> Vec<i32> {
    let want: Vec<u8> = args.iter().flat_map(|a| a.bytes().chain([0])).collect();
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if fs::read(format!("/proc/{pid}/cmdline")).ok().as_deref() == Some(&want[..])
            && harness::alive(pid)
        {
            out.push(pid);
        }
    }
    out
}

/// A command for one of our binaries run in the scratch dir.
pub fn ours_in(s: &Scratch, name: &str) -> Command {
    let mut c = harness::ours(name);
    c.current_dir(&s.path);
    c
}

/// Sends a signal to a pid this test's supervisors started. Refuses pid 0 and negative pids
/// (kill(2) would signal a whole process group: the test runner's own, for 0).
pub fn kill(pid: i32, sig: nix::sys::signal::Signal) {
    assert!(pid > 0, "refusing to send {sig:?} to pid {pid}");
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
}

/// Starts our runsvdir on `dir` (our runsv first on PATH), stderr to `runsvdir.err`.
pub fn runsvdir(s: &Scratch, args: &[&str]) -> Proc {
    let err = fs::File::create(s.join("runsvdir.err")).expect("stderr file");
    let mut c = ours_in(s, "runsvdir");
    c.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err);
    Proc::spawn_group(&mut c)
}

pub use harness::children;
