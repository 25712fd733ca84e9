//! libfaketime, for tests that move a program's clock.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

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
    c.env(::svlogd::faults::CLOCK_VAR, offset_file)
}

/// Removes what libfaketime leaves in `/dev/shm` for a process that ended with `_exit`
/// (runit's programs do).
pub fn faketime_cleanup(pid: i32) {
    let _ = fs::remove_file(format!("/dev/shm/faketime_shm_{pid}"));
    let _ = fs::remove_file(format!("/dev/shm/sem.faketime_sem_{pid}"));
}
