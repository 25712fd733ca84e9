//! What /proc says about one process: a line of its `status`, the fields of its `stat`, its
//! command line. Each reads the file afresh, and says nothing (`None`, empty) once the process
//! is gone.

use std::fs;

/// The value of the line `name:` of `/proc/PID/status` (`VmRSS`, `SigBlk`, `Name`, ...),
/// trimmed; `None` when the process is gone or has no such line.
pub fn status_field(pid: i32, name: &str) -> Option<String> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
}

/// A size in `/proc/PID/status` (`VmRSS`, `VmHWM`, ...), in KiB.
pub fn status_kib(pid: i32, name: &str) -> Option<u64> {
    status_field(pid, name)?
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// A signal mask in `/proc/PID/status` (`SigBlk`, `SigPnd`, `ShdPnd`, ...): bit `n - 1` for
/// signal `n`. 0 when the process is gone.
pub fn status_mask(pid: i32, name: &str) -> u64 {
    status_field(pid, name)
        .and_then(|v| u64::from_str_radix(&v, 16).ok())
        .unwrap_or(0)
}

/// The fields of `/proc/PID/stat` after the command's name (its state first, then the parent,
/// the process group, the session, ...: `proc(5)`'s field 3 on); empty when the process is
/// gone.
pub fn stat_fields(pid: i32) -> Vec<String> {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Vec::new();
    };
    stat.rsplit_once(')')
        .map(|(_, rest)| rest.split_ascii_whitespace().map(String::from).collect())
        .unwrap_or_default()
}

/// The system call `pid` is in (`/proc/PID/syscall`), `None` while it runs or is gone.
pub fn syscall_of(pid: i32) -> Option<nix::libc::c_long> {
    fs::read_to_string(format!("/proc/{pid}/syscall"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The command line of `pid` (`/proc/PID/cmdline`: every argument followed by a NUL), empty
/// when the process is gone.
pub fn cmdline(pid: i32) -> Vec<u8> {
    fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default()
}

/// Whether `pid`'s command line is exactly `argv`.
pub fn runs_argv(pid: i32, argv: &[&str]) -> bool {
    let want: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
    cmdline(pid) == want
}
