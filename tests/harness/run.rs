//! Running a command to completion, bounded, with its output captured.

use crate::{cmd_clean, Proc, WAIT};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::Duration;

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

/// A command for `program` run from `cwd` with `args`, and a clean environment (see
/// [`cmd_clean`]) plus `env`: how the tools' tests run ours and the reference side by side.
pub fn command(program: &Path, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = cmd_clean(program.as_os_str());
    c.current_dir(cwd).args(args).envs(env.iter().copied());
    c
}

/// Runs [`command`] to completion, bounded by [`WAIT`].
pub fn exec(program: &Path, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    run(&mut command(program, cwd, args, env), WAIT)
}

/// Stdout, stderr and the exit code as one text, for comparing whole runs.
pub fn transcript(o: &Output) -> String {
    format!(
        "--- stdout\n{}--- stderr\n{}--- exit {}\n",
        stdout(o),
        stderr(o),
        code(o.status)
    )
}

/// The transcript of a run that succeeded without a word.
pub const SILENT_OK: &str = "--- stdout\n--- stderr\n--- exit 0\n";

/// A run's stdout as (lossy) text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A run's stderr as (lossy) text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
