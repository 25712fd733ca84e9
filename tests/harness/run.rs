//! Running a command to completion, bounded, with its output captured.

use crate::Proc;
use std::io::{Read, Write};
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
