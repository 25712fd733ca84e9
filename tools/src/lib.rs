//! The command-line tools of the toolkit: runit's `sv` and `chpst` (with daemontools' argv0
//! personalities), daemontools' `svc`, `svok`, `svstat`, `tai64n` and `tai64nlocal`, the log
//! viewers `p_log` and `w_log`, and service activation (`svactivate`, `svdeactivate`).
//!
//! Each tool is a module with a `main(argv) -> exit code`; [`applets`] starts each one the
//! same way (`--help`, `--version`, SIGPIPE), and the binaries in `src/bin/` only call it.
//! Formats (status record, control protocol, TAI64N, error texts, getopt) come from the
//! `formats` crate, system calls from `sys`; what several tools share is here: entering
//! service directories ([`enter`]), waiting on inotify ([`watch`]), standard output ([`out`]).

pub mod activate;
pub mod applets;
pub mod chpst;
pub mod enter;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod localtime;
pub mod logs;
pub mod out;
pub mod sv;
pub mod svc;
pub mod svok;
pub mod svstat;
pub mod tai64n;
pub mod watch;
