//! What the tools' tests share: service directories under a supervisor (runit's runsv, ours,
//! or daemontools' supervise), running our tool and the reference side by side, and masking
//! pids and seconds so two transcripts compare.

use formats::status::{read_any, Status};
use harness::{bin, cmd_clean, reference, run, wait_until_or, Proc, Scratch};
use std::fs;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// How long any single command of these tests may take.
pub const CMD_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a test waits for a supervisor to reach a state.
pub const STATE_TIMEOUT: Duration = Duration::from_secs(10);

/// Which supervisor runs a service directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sup {
    /// Debian's runit `/usr/bin/runsv`.
    Runit,
    /// The workspace's `runsv`.
    Ours,
    /// daemontools' `/usr/bin/supervise`.
    Daemontools,
}

impl Sup {
    /// The supervisor's program.
    pub fn program(self) -> PathBuf {
        match self {
            Sup::Runit => reference("/usr/bin/runsv"),
            Sup::Ours => bin("runsv"),
            Sup::Daemontools => reference("/usr/bin/supervise"),
        }
    }
}

/// Creates `name/` with a `run` script made of `body` (after `#!/bin/sh`), and a `log/run`
/// that reads and discards its input when `log` is set.
pub fn make_service(s: &Scratch, name: &str, body: &str, log: bool) -> PathBuf {
    let dir = s.mkdir(name);
    s.script(format!("{name}/run"), &format!("#!/bin/sh\n{body}\n"));
    if log {
        s.script(
            format!("{name}/log/run"),
            "#!/bin/sh\nexec cat >/dev/null\n",
        );
    }
    dir
}

/// Starts `sup` on `dir` (from the scratch directory, with its own process group) and waits
/// until it answers on `supervise/ok` and has written a status record.
pub fn supervise(s: &Scratch, sup: Sup, dir: &Path) -> Proc {
    let mut cmd = cmd_clean(sup.program().as_os_str());
    cmd.arg(dir)
        .current_dir(&s.path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let p = Proc::spawn_group(&mut cmd);
    wait_until_or(
        STATE_TIMEOUT,
        &format!("{sup:?} to supervise {}", dir.display()),
        &mut || formats::control::probe(dir).is_ok() && status(dir).is_some(),
        || s.listing(),
    );
    p
}

/// The status record of `dir`, if one can be read.
pub fn status(dir: &Path) -> Option<Status> {
    read_any(&dir.join("supervise/status")).ok()
}

/// Waits until the status of `dir` satisfies `pred`.
pub fn wait_status(s: &Scratch, dir: &Path, what: &str, pred: impl Fn(&Status) -> bool) {
    wait_until_or(
        STATE_TIMEOUT,
        what,
        &mut || status(dir).is_some_and(|st| pred(&st)),
        || format!("status: {:?}\n{}", status(dir), s.listing()),
    );
}

/// Waits until `dir`'s service runs, and returns its pid.
pub fn wait_running(s: &Scratch, dir: &Path) -> u32 {
    wait_status(s, dir, &format!("{} to run", dir.display()), |st| {
        st.pid != 0 && st.state == formats::status::State::Run
    });
    status(dir).map(|st| st.pid).unwrap_or(0)
}

/// A command for `program` with only PATH in its environment, run from `cwd`.
pub fn command(program: &Path, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = cmd_clean(program.as_os_str());
    c.current_dir(cwd).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Runs `program args` from `cwd` with the given environment, bounded by [`CMD_TIMEOUT`].
pub fn exec(program: &Path, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    run(&mut command(program, cwd, args, env), CMD_TIMEOUT)
}

/// Runs our tool `name`.
pub fn ours(name: &str, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    exec(&bin(name), cwd, args, env)
}

/// Runs the reference tool at `path`.
pub fn theirs(path: &str, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    exec(&reference(path), cwd, args, env)
}

/// stdout, stderr and the exit code as one text, for whole-transcript comparisons.
pub fn transcript(o: &Output) -> String {
    format!(
        "--- stdout\n{}--- stderr\n{}--- exit {}\n",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        harness::code(o.status)
    )
}

/// Replaces pids, ages in seconds and `$Id$` strings with placeholders.
pub fn mask(s: &str) -> String {
    let pid = regex::Regex::new(r"pid [0-9]+").unwrap();
    let secs = regex::Regex::new(r"(?-u)\b[0-9]+s\b").unwrap();
    let seconds = regex::Regex::new(r"(?-u)\b[0-9]+ seconds").unwrap();
    let id = regex::Regex::new(r"\$Id:[^$]*\$").unwrap();
    let s = pid.replace_all(s, "pid N");
    let s = secs.replace_all(&s, "Ns");
    let s = seconds.replace_all(&s, "N seconds");
    id.replace_all(&s, "$$Id$$").into_owned()
}

/// Asserts that two runs printed the same (masked) transcript.
#[track_caller]
pub fn assert_same(what: &str, ours: &Output, theirs: &Output) {
    harness::assert_text_eq(what, &mask(&transcript(theirs)), &mask(&transcript(ours)));
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Makes `dir/supervise` with an `ok` FIFO nobody reads (a supervisor that died) and a
/// `control` FIFO.
pub fn dead_service(s: &Scratch, name: &str) -> PathBuf {
    let dir = s.mkdir(format!("{name}/supervise"));
    for f in ["ok", "control"] {
        nix::unistd::mkfifo(
            &dir.join(f),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .expect("mkfifo");
    }
    s.join(name)
}

/// Holds the read end of `dir/supervise/ok` open, so the directory looks supervised.
pub fn hold_ok(dir: &Path) -> fs::File {
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(dir.join("supervise/ok"))
        .expect("open ok fifo")
}
