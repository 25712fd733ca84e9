//! The end-to-end test harness: scratch directories, our binaries and the reference ones,
//! child processes that are always killed by pid, and bounded waits.
//!
//! Every test target in this package (`svlogd/`, `supervise/`, `tools/`, ...) uses it. A test
//! never sleeps to wait for something: it calls [`wait_until`], which panics with what it was
//! waiting for and a listing of the scratch directory when the time runs out. That bound only
//! catches a hang: it is at least ten times what the wait takes on a loaded machine, and no
//! test asserts how fast something happens. To show that something does not happen, a test
//! waits until the process has dealt with what could have caused it ([`wait_handled`],
//! [`wait_slept_again`], [`pipe_full`]) instead of sleeping a while.
//!
//! Nothing here depends on the host: the date, the clock and the zone come from the test
//! process (TZ and libfaketime's settings pass through clean environments, see [`ambient`]),
//! syscall numbers from libc, libfaketime is looked for where Debian puts it on any
//! architecture, a test that needs `chattr +i` makes its own ext4 ([`Ext4`]), and what another
//! user runs is copied where that user can reach it ([`Scratch::bin_for_anyone`]).

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The environment variable naming the directory of the binaries under test, so the same
/// tests run on another build of them (scripts/test.sh points it at the static musl build).
pub const BIN_DIR_ENV: &str = "TEST_BIN_DIR";

/// The directory holding the binaries under test: `TEST_BIN_DIR` when set, else the
/// workspace's own (`target/<profile>`), found from the test executable's own path
/// (`target/<profile>/deps/NAME-HASH`).
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(BIN_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("deps dir");
    deps.parent().expect("profile dir").to_path_buf()
}

/// Path of one of our binaries. Panics (loudly, never skips) if it was not built: the test
/// command builds the whole workspace before running the tests.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.is_file(),
        "our binary {} is missing: build the workspace first (`cargo build --workspace --bins`, \
         which scripts/test.sh runs)",
        p.display()
    );
    p
}

/// Path of a reference binary from Debian's packages. Panics if it is not installed: the test
/// command installs runit, daemontools, s6, busybox and the other tools the tests compare with.
pub fn reference(path: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(
        p.is_file(),
        "reference binary {path} is missing: install Debian's packages (scripts/test.sh does)"
    );
    p
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Puts SIGHUP, SIGINT and SIGQUIT back to their default action in the test process, once,
/// so every process a test starts gets them as a service normally does: under `nohup`, or in
/// the background of a shell (which ignores SIGINT and SIGQUIT there), SIG_IGN would pass
/// through runsv to the services, and a service that ought to die of `sv hup` would not.
pub fn default_signals() {
    use nix::libc;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: setting a default disposition; the test process installs no handler for these.
        unsafe {
            for sig in [libc::SIGHUP, libc::SIGINT, libc::SIGQUIT] {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
    });
}

/// A unique scratch directory for one test. Removed when the test passes; kept (and its path
/// printed) when it fails. On drop, every process still running inside it (by working
/// directory or by a path on its command line) is killed by pid.
pub struct Scratch {
    /// The directory (canonical, under the system temp dir).
    pub path: PathBuf,
}

impl Scratch {
    /// Creates `/tmp/e2e-NAME-PID-N`.
    pub fn new(name: &str) -> Scratch {
        default_signals();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let base = std::env::var_os("E2E_TMPDIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let path = base.join(format!("e2e-{name}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create scratch dir");
        // Whatever the umask: tests run programs as `nobody` in here.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod scratch");
        let path = fs::canonicalize(&path).expect("canonicalize scratch");
        Scratch { path }
    }

    /// A copy of our binary `name` in `bin/` of the scratch directory (mode 0755), for a test
    /// that runs it as another user (`chpst -u nobody`): the checkout, and `target/` in it,
    /// may sit under a directory only root can enter (`/root`, a `mktemp -d` folder).
    /// Copied once per scratch directory (a running copy could not be written again).
    pub fn bin_for_anyone(&self, name: &str) -> PathBuf {
        let dir = self.mkdir("bin");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod bin");
        let to = dir.join(name);
        if to.is_file() {
            return to;
        }
        fs::copy(bin(name), &to).unwrap_or_else(|e| panic!("copy {name}: {e}"));
        fs::set_permissions(&to, fs::Permissions::from_mode(0o755)).expect("chmod");
        to
    }

    /// A path inside the scratch directory.
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.path.join(rel)
    }

    /// Creates a directory (and its parents) inside the scratch directory.
    pub fn mkdir(&self, rel: impl AsRef<Path>) -> PathBuf {
        let p = self.join(rel);
        fs::create_dir_all(&p).expect("mkdir");
        p
    }

    /// Writes a file inside the scratch directory.
    pub fn write(&self, rel: impl AsRef<Path>, data: impl AsRef<[u8]>) -> PathBuf {
        let p = self.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir parent");
        }
        fs::write(&p, data).expect("write file");
        p
    }

    /// Writes an executable script (mode 0755) inside the scratch directory.
    pub fn script(&self, rel: impl AsRef<Path>, body: &str) -> PathBuf {
        let p = self.write(rel, body);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    }

    /// A recursive listing (mode, size, name) for failure messages.
    pub fn listing(&self) -> String {
        listing(&self.path)
    }

    /// Kills by pid every process whose working directory is inside the scratch directory or
    /// whose command line names a path inside it, and returns how many it killed.
    pub fn kill_stray_processes(&self) -> usize {
        kill_processes_under(&self.path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        self.kill_stray_processes();
        if std::thread::panicking() {
            eprintln!("scratch directory kept: {}", self.path.display());
            eprintln!("{}", self.listing());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Every process other than ourselves whose working directory is inside `dir` or whose
/// command line names a path inside it.
pub fn processes_under(dir: &Path) -> Vec<i32> {
    let me = std::process::id();
    let needle = dir.as_os_str().as_encoded_bytes().to_vec();
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let cwd = fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_default();
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let in_cmd = cmdline
            .windows(needle.len().max(1))
            .any(|w| w == needle.as_slice());
        if cwd.starts_with(dir) || in_cmd {
            found.push(pid as i32);
        }
    }
    found
}

/// Kills (SIGKILL, by pid) every process [`processes_under`] `dir`.
pub fn kill_processes_under(dir: &Path) -> usize {
    let mut killed = 0;
    // Repeat: a supervisor killed in one pass may have spawned a child just before.
    for _ in 0..5 {
        let found = processes_under(dir);
        for &pid in &found {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        killed += found.len();
        if found.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    killed
}

/// A recursive listing of `dir`: mode, size and relative path of every entry.
pub fn listing(dir: &Path) -> String {
    fn walk(base: &Path, dir: &Path, out: &mut String, depth: usize) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        let mut entries: Vec<_> = rd.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            let Ok(md) = fs::symlink_metadata(&p) else {
                continue;
            };
            let rel = p.strip_prefix(base).unwrap_or(&p);
            out.push_str(&format!(
                "{:o} {:>10} {}\n",
                md.mode(),
                md.len(),
                rel.display()
            ));
            if md.is_dir() && depth < 6 {
                walk(base, &p, out, depth + 1);
            }
        }
    }
    let mut out = String::new();
    walk(dir, dir, &mut out, 0);
    out
}

/// A child process that is killed (SIGKILL, by pid) and reaped when dropped.
pub struct Proc {
    /// The child.
    pub child: Child,
    /// What it is, for messages.
    pub name: String,
}

impl Proc {
    /// Spawns `cmd`; stdin, stdout and stderr are whatever `cmd` says.
    pub fn spawn(cmd: &mut Command) -> Proc {
        default_signals();
        let name = format!("{cmd:?}");
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {name}: {e}"));
        Proc { child, name }
    }

    /// Spawns `cmd` in a new process group of its own (so the test's terminal signals and
    /// group kills do not reach the test runner).
    pub fn spawn_group(cmd: &mut Command) -> Proc {
        cmd.process_group(0);
        Proc::spawn(cmd)
    }

    /// The child's pid.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends a signal.
    pub fn signal(&self, sig: Signal) {
        let _ = kill(Pid::from_raw(self.pid()), sig);
    }

    /// Waits for exit at most `timeout`; panics if it is still running then.
    pub fn wait_timeout(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                return st;
            }
            if Instant::now() >= deadline {
                panic!("{} did not exit within {timeout:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Whether the child is still running (not yet exited).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Writes to the child's stdin (which must be piped); panics if it cannot.
    pub fn send(&mut self, data: &[u8]) {
        self.child
            .stdin
            .as_mut()
            .expect("stdin is piped")
            .write_all(data)
            .unwrap_or_else(|e| panic!("write to {}: {e}", self.name));
    }

    /// Closes the child's stdin (if piped), giving it EOF.
    pub fn close_stdin(&mut self) {
        drop(self.child.stdin.take());
    }

    /// Reads the rest of the child's stderr (if piped). Call after it has exited.
    pub fn read_stderr(&mut self) -> String {
        let mut s = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut s);
        }
        s
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = kill(Pid::from_raw(self.pid()), Signal::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

/// Waits until `cond` holds, checking every 5 ms; panics with `what` (and whatever `detail`
/// returns) after `timeout`. The only way tests wait.
pub fn wait_until(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    wait_until_or(timeout, what, &mut cond, String::new);
}

/// [`wait_until`] with extra context printed on failure (a listing, captured stderr).
pub fn wait_until_or(
    timeout: Duration,
    what: &str,
    cond: &mut dyn FnMut() -> bool,
    detail: impl FnOnce() -> String,
) {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if cond() {
            return;
        }
        if Instant::now() >= deadline {
            panic!(
                "timed out after {timeout:?} waiting for: {what}\n{}",
                detail()
            );
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Runs a command to completion with `stdin` as its input, killing it (and failing) if it
/// takes longer than `timeout`.
pub fn run_with_input(cmd: &mut Command, stdin: &[u8], timeout: Duration) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut p = Proc::spawn(cmd);
    let mut input = p.child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let mut out = p.child.stdout.take().expect("stdout");
    let mut err = p.child.stderr.take().expect("stderr");
    let r_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let r_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = p.wait_timeout(timeout);
    let _ = writer.join();
    Output {
        status,
        stdout: r_out.join().unwrap_or_default(),
        stderr: r_err.join().unwrap_or_default(),
    }
}

/// Runs a command with empty stdin, bounded by `timeout`.
pub fn run(cmd: &mut Command, timeout: Duration) -> Output {
    run_with_input(cmd, b"", timeout)
}

/// The exit code, or 128 + signal number for a signalled process.
pub fn code(st: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0))
}

/// Replaces every timestamp svlogd can write (TAI64N labels, `-tt`/`-ttt` stamps) and rotated
/// file names with fixed placeholders, so outputs of two runs can be compared.
pub fn mask_stamps(s: &str) -> String {
    let tai = regex::Regex::new(r"@[0-9a-f]{24}").unwrap();
    // `[0-9]`, not `\d`: the workspace's regex is built without Unicode classes.
    let utc =
        regex::Regex::new(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[_T][0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{5}")
            .unwrap();
    let s = tai.replace_all(s, "@<TAI64N>");
    utc.replace_all(&s, "<UTC>").into_owned()
}

/// Asserts two texts are equal, printing both in full blocks when they are not.
#[track_caller]
pub fn assert_text_eq(what: &str, expected: &str, actual: &str) {
    if expected != actual {
        panic!(
            "{what} differs\n===== expected =====\n{expected}\n===== actual =====\n{actual}\n===================="
        );
    }
}

/// Reads a file as (lossy) text, or an empty string if it is missing.
pub fn read_text(p: impl AsRef<Path>) -> String {
    fs::read(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Every child of `parent`, zombies included, from the children lists of all its threads
/// (`/proc/PID/task/TID/children`: a child belongs to the thread that forked it).
pub fn child_pids(parent: i32) -> Vec<i32> {
    let mut v: Vec<i32> = names(format!("/proc/{parent}/task"))
        .iter()
        .flat_map(|tid| {
            read_text(format!("/proc/{parent}/task/{tid}/children"))
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect();
    v.sort();
    v
}

/// The children of `parent` that run (zombies left out).
pub fn children(parent: i32) -> Vec<i32> {
    child_pids(parent)
        .into_iter()
        .filter(|&p| alive(p))
        .collect()
}

/// Whether `pid` is a zombie: dead, not yet reaped by its parent.
pub fn zombie(pid: i32) -> bool {
    read_text(format!("/proc/{pid}/stat"))
        .rsplit_once(')')
        .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
}

/// The lines of a file another process may be writing: those it has ended with a newline
/// (a line read in the middle of being written is left for the next look).
pub fn whole_lines(p: impl AsRef<Path>) -> Vec<String> {
    let text = read_text(p);
    let whole = text.rfind('\n').map_or("", |end| &text[..end]);
    whole.lines().map(str::to_string).collect()
}

/// Whether the process `pid` exists (and is not a zombie).
pub fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => {
            let state = s
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next());
            !matches!(state, Some('Z') | Some('X') | None)
        }
        Err(_) => false,
    }
}

/// The numbers, on this architecture, of the system calls a main loop sleeps in: read and
/// the poll family. Taken from libc, so the harness holds no architecture's numbers
/// (aarch64, riscv64 and loongarch64 have no `poll`, `select` or `epoll_wait`: their C
/// libraries use `ppoll`, `pselect6` and `epoll_pwait`).
fn idle_syscalls() -> Vec<nix::libc::c_long> {
    use nix::libc;
    #[allow(unused_mut)]
    let mut v = vec![
        libc::SYS_read,
        libc::SYS_pselect6,
        libc::SYS_ppoll,
        libc::SYS_epoll_pwait,
    ];
    #[cfg(not(any(
        target_arch = "aarch64",
        target_arch = "riscv64",
        target_arch = "loongarch64"
    )))]
    v.extend([libc::SYS_poll, libc::SYS_select, libc::SYS_epoll_wait]);
    v
}

/// The system call `pid` is in (`/proc/PID/syscall`), `None` while it runs or is gone.
fn syscall_of(pid: i32) -> Option<nix::libc::c_long> {
    fs::read_to_string(format!("/proc/{pid}/syscall"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Whether `pid` sleeps in a read or a poll-family system call (its main loop is idle).
pub fn idle_in_syscall(pid: i32) -> bool {
    syscall_of(pid).is_some_and(|nr| idle_syscalls().contains(&nr))
}

/// Whether `pid` sleeps in a poll-family system call: for a loop that reads only what poll
/// said was ready (runsv, runsvdir), one that has dealt with everything it was woken for.
pub fn in_poll(pid: i32) -> bool {
    syscall_of(pid).is_some_and(|nr| nr != nix::libc::SYS_read && idle_syscalls().contains(&nr))
}

/// Waits until `pid` sleeps in a read or a poll-family system call, i.e. until its main loop
/// is idle. A signal sent before then may be held until the next input (runit's svlogd blocks
/// its signals outside `poll`), so tests that signal an idle logger wait for this first.
pub fn wait_idle_in_syscall(pid: i32, timeout: Duration) {
    wait_until(timeout, "the process to sleep in read or poll", || {
        idle_in_syscall(pid)
    });
}

/// How many times `pid`'s main thread has gone to sleep of its own accord
/// (`voluntary_ctxt_switches`): read while it is idle, then again, to know it has been through
/// its loop since (see [`wait_slept_again`]). 0 when the process is gone.
pub fn voluntary_switches(pid: i32) -> u64 {
    read_text(format!("/proc/{pid}/status"))
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Waits until `pid`, idle when `before` = [`voluntary_switches`] was read, has gone to sleep
/// again in read or poll: it has handled what it was given in between (a wake-up, a read
/// and the work after it, then the next wait) and not merely been preempted.
pub fn wait_slept_again(pid: i32, before: u64, timeout: Duration) {
    wait_until(
        timeout,
        "the process to sleep again in read or poll",
        || voluntary_switches(pid) > before && idle_in_syscall(pid),
    );
}

/// Bytes waiting in the pipe or FIFO behind `fd` (either end), by FIONREAD.
pub fn pipe_bytes(fd: &impl std::os::fd::AsRawFd) -> usize {
    let mut n: nix::libc::c_int = 0;
    // SAFETY: FIONREAD into a local int.
    let r = unsafe { nix::libc::ioctl(fd.as_raw_fd(), nix::libc::FIONREAD, &mut n) };
    assert!(r >= 0, "FIONREAD failed");
    n as usize
}

/// Whether the pipe behind `fd` is full: less than a page of room left, so every slot of it
/// holds data (a partly read first page holds less than a page) and a writer with a page or
/// more to write waits. How a test sees that a logger holds its input back.
pub fn pipe_full(fd: &impl std::os::fd::AsRawFd) -> bool {
    // SAFETY: F_GETPIPE_SZ on a descriptor the caller holds; sysconf has no memory effects.
    let (size, page) = unsafe {
        (
            nix::libc::fcntl(fd.as_raw_fd(), nix::libc::F_GETPIPE_SZ),
            nix::libc::sysconf(nix::libc::_SC_PAGESIZE),
        )
    };
    assert!(size > 0 && page > 0, "F_GETPIPE_SZ failed");
    pipe_bytes(fd) + page as usize > size as usize
}

/// Waits until the runsv `runsv` has handled every control byte sent to the service `dir` so
/// far: its control FIFO holds no unread byte and runsv sleeps in poll again (it handles what
/// it read before it polls again). What a command did not do by then, it will not do: the way
/// a test shows that something does not happen, instead of sleeping a while. (A runsv that
/// exited, after `x`, has handled everything too.)
pub fn wait_handled(dir: &Path, runsv: i32, timeout: Duration) {
    use std::os::unix::fs::OpenOptionsExt;
    let fifo = fs::OpenOptions::new()
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(dir.join("supervise/control"))
        .expect("open supervise/control");
    wait_until(timeout, "runsv to handle its control bytes", || {
        !alive(runsv) || (pipe_bytes(&fifo) == 0 && in_poll(runsv))
    });
}

/// Names (sorted) of the entries of `dir`.
pub fn names(dir: impl AsRef<Path>) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A `Command` for one of our binaries with a clean, fixed environment (PATH kept).
pub fn ours(name: &str) -> Command {
    cmd_clean(bin(name).as_os_str())
}

/// A `Command` for a program with only PATH (with our binaries first) in its environment,
/// and the test process's [`ambient`] variables (the zone, libfaketime's).
pub fn cmd_clean(program: &OsStr) -> Command {
    let mut c = Command::new(program);
    c.clean_env();
    c.env("PATH", test_path());
    c
}

/// Whether an environment variable of the test process is passed on to the processes tests
/// start with a clean environment: the zone (`TZ`) and libfaketime's settings (`LD_PRELOAD`,
/// `FAKETIME*`). So the whole suite can be run in another zone or with the clock moved, and
/// every process sees the zone and the clock the test itself sees:
/// `TZ=Pacific/Kiritimati scripts/test.sh`, `LD_PRELOAD=$(find /usr/lib -name
/// libfaketimeMT.so.1) FAKETIME=+365d FAKETIME_DONT_FAKE_MONOTONIC=1 scripts/test.sh`.
pub fn ambient(name: &OsStr) -> bool {
    let n = name.as_encoded_bytes();
    n == b"TZ" || n == b"LD_PRELOAD" || n.starts_with(b"FAKETIME")
}

/// `Command::env_clear` that keeps the test process's [`ambient`] variables.
pub trait CleanEnv {
    /// Clears the environment but for the zone and libfaketime's settings.
    fn clean_env(&mut self) -> &mut Self;
}

impl CleanEnv for Command {
    fn clean_env(&mut self) -> &mut Command {
        self.env_clear();
        self.envs(std::env::vars_os().filter(|(k, _)| ambient(k)))
    }
}

/// libfaketime's library `name` (`libfaketime.so.1`, or `libfaketimeMT.so.1` for a program
/// with threads), wherever Debian's `libfaketime` package puts it on this architecture
/// (`/usr/lib/<triplet>/faketime/`). Panics when it is missing: `scripts/test.sh` installs
/// `faketime`.
pub fn libfaketime(name: &str) -> PathBuf {
    let mut dirs = vec![PathBuf::from("/usr/lib/faketime")];
    for top in ["/usr/lib", "/usr/lib64", "/usr/local/lib"] {
        if let Ok(rd) = fs::read_dir(top) {
            let mut sub: Vec<PathBuf> = rd.flatten().map(|e| e.path().join("faketime")).collect();
            sub.sort();
            dirs.extend(sub);
        }
    }
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is missing: install Debian's faketime package (scripts/test.sh does)")
        })
}

/// Runs `c` under libfaketime's `lib` (see [`libfaketime`]) with its wall clock moved by the
/// offset written in the file `offset_file` (libfaketime's syntax: `+0`, `-1d`, `+2h`), read
/// again at every clock call so the test can step the clock while the program runs. The
/// monotonic clock is left alone. An ambient `FAKETIME` (a run of the whole suite with the
/// clock moved, see [`ambient`]) is dropped: it would win over the file.
pub fn faketime_file<'c>(c: &'c mut Command, lib: &str, offset_file: &Path) -> &'c mut Command {
    c.env_remove("FAKETIME")
        .env("LD_PRELOAD", libfaketime(lib))
        .env("FAKETIME_TIMESTAMP_FILE", offset_file)
        .env("FAKETIME_NO_CACHE", "1")
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
}

/// Runs our svlogd `c` with its wall clock moved by the offset written in the file
/// `offset_file`, as [`faketime_file`] does for the reference programs, but through svlogd's
/// test-only hook (`svlogd::faults::CLOCK_VAR`, compiled in by the test build's `faults`
/// feature): `LD_PRELOAD` cannot reach a static build (the musl leg). The offset is in seconds
/// (`+0`, `-86400`, `+7200`), which libfaketime reads the same way, so one file can drive both.
pub fn svlogd_clock_file<'c>(c: &'c mut Command, offset_file: &Path) -> &'c mut Command {
    c.env(svlogd::faults::CLOCK_VAR, offset_file)
}

/// Removes what libfaketime leaves in `/dev/shm` for a process that ended with `_exit`
/// (runit's programs do).
pub fn faketime_cleanup(pid: i32) {
    let _ = fs::remove_file(format!("/dev/shm/faketime_shm_{pid}"));
    let _ = fs::remove_file(format!("/dev/shm/sem.faketime_sem_{pid}"));
}

/// PATH for spawned processes: our binaries first, then the system's.
pub fn test_path() -> String {
    format!(
        "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        bin_dir().display()
    )
}

/// A small tmpfs mounted for a test (the tests run as root), unmounted (lazily, after killing
/// what runs under it) when dropped: a disk that fills up.
pub struct Tmpfs {
    /// The mount point.
    pub path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `kib` KiB at `path` (created).
    pub fn mount(path: &Path, kib: usize) -> Tmpfs {
        use nix::mount::{mount, MsFlags};
        fs::create_dir_all(path).expect("mkdir mount point");
        let opts = format!("size={kib}k,mode=0755");
        mount(
            Some("tmpfs"),
            path,
            Some("tmpfs"),
            MsFlags::empty(),
            Some(opts.as_str()),
        )
        .unwrap_or_else(|e| panic!("mount tmpfs on {} (tests run as root): {e}", path.display()));
        Tmpfs {
            path: path.to_path_buf(),
        }
    }

    /// Bytes still free on it.
    pub fn free(&self) -> u64 {
        let st = nix::sys::statvfs::statvfs(&self.path).expect("statvfs");
        st.blocks_available() * st.fragment_size()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        kill_processes_under(&self.path);
        let _ = nix::mount::umount2(&self.path, nix::mount::MntFlags::MNT_DETACH);
    }
}

/// A small ext4 file system of a test's own, on a loop device over an image in the scratch
/// directory: for what the file system the scratch directory is on may lack (`chattr +i` on
/// tmpfs, btrfs, overlayfs) or should not be (mounted `sync`). On drop, what runs under it is
/// killed, it is unmounted and the loop device is released.
pub struct Ext4 {
    /// The mount point.
    pub path: PathBuf,
    /// The loop device (`/dev/loopN`).
    pub dev: String,
}

impl Ext4 {
    /// Makes a `mib` MiB ext4 image `NAME.img` in `s` and mounts it (with `flags`) on `at`
    /// (created). Fails loudly without mkfs.ext4 (e2fsprogs), losetup (mount) or a free loop
    /// device; the tests run as root.
    pub fn mount(s: &Scratch, name: &str, at: &Path, mib: u64, flags: nix::mount::MsFlags) -> Ext4 {
        let t = Duration::from_secs(60);
        let img = s.join(format!("{name}.img"));
        fs::File::create(&img)
            .and_then(|f| f.set_len(mib << 20))
            .expect("disk image");
        let out = run(
            Command::new(reference("/sbin/mkfs.ext4"))
                .args(["-q", "-F"])
                .arg(&img),
            t,
        );
        assert!(out.status.success(), "mkfs.ext4: {out:?}");
        let out = run(
            Command::new(reference("/sbin/losetup"))
                .args(["-f", "--show"])
                .arg(&img),
            t,
        );
        assert!(
            out.status.success(),
            "losetup (needs a free loop device): {out:?}"
        );
        let dev = String::from_utf8_lossy(&out.stdout).trim().to_string();
        fs::create_dir_all(at).expect("mkdir mount point");
        // From here on, drop undoes what was done.
        let disk = Ext4 {
            path: at.to_path_buf(),
            dev,
        };
        nix::mount::mount(
            Some(Path::new(&disk.dev)),
            at,
            Some("ext4"),
            flags,
            None::<&str>,
        )
        .unwrap_or_else(|e| panic!("mount {} on {}: {e}", disk.dev, at.display()));
        disk
    }
}

impl Drop for Ext4 {
    fn drop(&mut self) {
        kill_processes_under(&self.path);
        let _ = nix::mount::umount2(&self.path, nix::mount::MntFlags::MNT_DETACH);
        // Still busy (a lazy unmount): the kernel frees it once the last user has gone.
        let _ = Command::new("/sbin/losetup")
            .arg("-d")
            .arg(&self.dev)
            .output();
    }
}
